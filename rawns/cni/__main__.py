"""``python -m rawns.cni``: the CNI plugin, as ``rawns-cni`` runs it."""

from rawns.cni.main import main

raise SystemExit(main())

"""rawns as a CNI plugin: the Container Network Interface face of the library.

Container runtimes (containerd, CRI-O, podman, Kubernetes through them) exec a
plugin per pod with the CNI environment variables and the network
configuration on stdin (containernetworking/cni ``SPEC.md``, 0.3.0 to 1.1.0).
``rawns-cni`` (or ``python -m rawns.cni``) is such a plugin, installed under
the name the configuration's ``type`` uses (``rawns``). Its modules, from the
bottom up:

- :mod:`rawns.cni.spec`: the protocol: versions, error codes, the
  environment, results and errors as JSON. Pure; no kernel.
- :mod:`rawns.cni.config`: the network configuration read and checked.
- :mod:`rawns.cni.ipam`: host-local in-process, on host-local's own files,
  and the delegation of any other IPAM plugin from ``CNI_PATH``.
- :mod:`rawns.cni.ptp` and :mod:`rawns.cni.bridge`: what each mode makes,
  checks and removes, through ``rawns.Handle`` and ``rawns.netns``.
- :mod:`rawns.cni.main`: the exec entry: environment and stdin in, result or
  error JSON and exit status out.

Importing this package imports nothing: every command loads only what it needs
(a plugin is started once per pod, so start-up is most of its cost).
"""

#!/bin/bash
NEW=/tmp/r2/new; BASE=/tmp/r2/base
b() {
  ( cd $1 && echo "== $2 N=$3 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"; PYTHONPATH=$1 python benchmarks/bench.py -w W3 -n $3 --runs $4 --mode tmpfs --peers rawns,c --no-memory --no-syscalls 2>&1 | grep -E "^read" ; echo "   after: load $(cut -d' ' -f1-3 /proc/loadavg)" )
}
for n in $*; do
b $BASE base $n 5
b $NEW new $n 5
b $NEW new $n 5
b $BASE base $n 5
done

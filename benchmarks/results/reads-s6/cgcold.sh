#!/bin/bash
PY=/root/.pyenv/versions/3.11.7/bin/python3.11
for tree in /tmp/r2/base /tmp/r2/new; do for n in 100 500; do
  a=$(cd / && PYTHONHASHSEED=0 PYTHONPATH=$tree valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY /tmp/r2/cg.py $n 0 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*")
  b=$(cd / && PYTHONHASHSEED=0 PYTHONPATH=$tree valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY /tmp/r2/cg.py $n 1 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*")
  echo "$tree cold-first-call n=$n $(( (b - a) / n ))"
done; done

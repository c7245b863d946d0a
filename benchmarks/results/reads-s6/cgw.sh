#!/bin/bash
PY=/root/.pyenv/versions/3.11.7/bin/python3.11
for tree in /tmp/r2/base /tmp/r2/new; do for v in bulk16 handle bulk; do
  a=$(cd / && PYTHONHASHSEED=0 PYTHONPATH=$tree valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY /tmp/r2/cgw.py $v 0 100 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*")
  b=$(cd / && PYTHONHASHSEED=0 PYTHONPATH=$tree valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY /tmp/r2/cgw.py $v 2 100 2>&1 | grep -o "Collected : [0-9]*" | grep -o "[0-9]*")
  echo "$tree $v $(( (b - a) / 200 ))"
done; done

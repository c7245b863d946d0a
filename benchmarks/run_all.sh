#!/bin/sh
# The runs recorded in benchmarks/RESULTS.md (as root, from the repository root).
# Each writes its table to benchmarks/results/NAME.txt and its data to NAME.json.
set -e
cd "$(dirname "$0")/.."
run() {
    name=$1; shift
    python benchmarks/bench.py "$@" --json "benchmarks/results/$name.json" \
        > "benchmarks/results/$name.txt"
}
run w1-n1000-tmpfs --workload W1 -n 1000 --runs 3 --mode tmpfs
run w1-n1000-disk  --workload W1 -n 1000 --runs 3 --mode disk
run w1-n5000-tmpfs --workload W1 -n 5000 --runs 3 --mode tmpfs
run w1-n5000-disk  --workload W1 -n 5000 --runs 3 --mode disk
run w1-n500-tmpfs  --workload W1 -n 500 --runs 3 --mode tmpfs --peers rawns,rawns-threads,c,ip-batch
run w2-n500-tmpfs  --workload W2 -n 500 --runs 3 --mode tmpfs
run w3-n500-tmpfs  --workload W3 -n 500 --runs 3 --mode tmpfs

"""make/remove the experiment pods: prefix rnsr2x"""
import sys, time
sys.path.insert(0, "/work/wt-reads2/benchmarks")
from harness.workloads import pods, rawns_w2_setup
from rawns import netns
P = "rnsr2x"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
ps = pods(P, n)
if sys.argv[1] == "make":
    netns.add(P + "host")
    rawns_w2_setup(P + "host", ps)
    time.sleep(2)
else:
    netns.delete_many([p.netns for p in ps] + [P + "host"], missing_ok=True)

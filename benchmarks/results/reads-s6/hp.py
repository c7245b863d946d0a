import sys, time, os, statistics, cProfile, pstats
import rawns
from rawns import read_many, Handle, convert_fast as cf
n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
names = [f"rnsr2xp{i}" for i in range(n)]
def clear():
    for d in (cf._ADDRESSES, cf._INTERFACES, cf._LLADDRS, cf._LABELS): d.clear()
def handles():
    c = 0
    for name in names:
        with Handle(name) as h:
            c += len(h.addr_list()) + len(h.neigh_list())
    return c
def bulk():
    return sum(len(s.addresses) + len(s.neighbours) for s in read_many(names, ("addr", "neigh")))
handles(); bulk()
res = {"handle": [], "bulk": []}
for r in range(int(sys.argv[2]) if len(sys.argv) > 2 else 5):
    for name, fn in ((("handle", handles), ("bulk", bulk)) if r % 2 == 0 else (("bulk", bulk), ("handle", handles))):
        clear(); t = time.perf_counter(); fn(); res[name].append((time.perf_counter() - t) / n * 1e6)
m = {k: statistics.median(v) for k, v in res.items()}
print(f"n={n} handle {m['handle']:.1f} bulk {m['bulk']:.1f} ratio {m['handle']/m['bulk']:.2f} load {os.getloadavg()[0]:.2f}")
if len(sys.argv) > 3:
    clear()
    cProfile.run("handles()", "/tmp/r2/hp.prof")
    pstats.Stats("/tmp/r2/hp.prof").sort_stats("tottime").print_stats(30)

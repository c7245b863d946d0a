import sys, time, os
import rawns
from rawns import read_many, convert_fast as cf, syscalls
n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
names = [f"rnsr2xp{i}" for i in range(n)]
W = [0.0, 0]; R = [0.0, 0.0]
ow = syscalls.ExchangeStream.wait; orun = syscalls.ExchangeStream.run
def wait(self, t):
    a = time.perf_counter(); r = ow(self, t); W[0] += time.perf_counter() - a; W[1] += 1; return r
def run(self):
    a = time.perf_counter(); c = time.thread_time(); orun(self); R[0] += time.perf_counter() - a; R[1] += time.thread_time() - c
syscalls.ExchangeStream.wait = wait; syscalls.ExchangeStream.run = run
read_many(names[:20], ("addr", "neigh"))
for k in range(4):
    for d in (cf._ADDRESSES, cf._INTERFACES, cf._LLADDRS, cf._LABELS): d.clear()
    W[:] = [0.0, 0]; R[:] = [0.0, 0.0]
    t = time.perf_counter(); c = time.thread_time()
    s = read_many(names, ("addr", "neigh"))
    tot = time.perf_counter() - t; cpu = time.thread_time() - c
    print(f"total {tot/n*1e6:.1f} main-cpu {cpu/n*1e6:.1f} main-wait {W[0]/n*1e6:.1f} ({W[1]} waits) C-run {R[0]/n*1e6:.1f} C-cpu {R[1]/n*1e6:.1f}")
    del s

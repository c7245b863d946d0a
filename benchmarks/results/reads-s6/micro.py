import sys, time, os, pickle, functools, gc
import rawns
from rawns import read_many, convert_fast as cf, fanout, snapshot, netlink, syscalls, netns
from rawns.netlink.conversation import Conversation
from rawns.netlink.constants import NETLINK_ROUTE
from rawns.nlsock import SOCKET_OPTIONS
n = 500
names = [f"rnsr2xp{i}" for i in range(n)]
paths = [os.fsencode(netns.path_of(x)) for x in names]
specs = [snapshot._KIND_SPECS[k] for k in ("addr", "neigh")]
template = Conversation()
data = template.send([s[1] for s in specs], [s[2] for s in specs])
wire = [data[f[0]:f[1]] for f in netlink.frames(data)]
answers = []
for i in range(0, n, 256):
    answers += syscalls.exchange_many(paths[i:i+256], NETLINK_ROUTE, [wire]*len(paths[i:i+256]), syscalls.Tally(), nofollow=True, options=SOCKET_OPTIONS)
print("datagrams/pod", sum(map(len, answers))/n, "bytes/pod", sum(len(d) for a in answers for d in a)/n)
def clear():
    for d in (cf._ADDRESSES, cf._INTERFACES, cf._LLADDRS, cf._LABELS): d.clear()
def full():
    return [snapshot._snapshot(names[i], specs, fanout._whole_dumps(template, a)) for i, a in enumerate(answers)]
def dumps_only():
    return [fanout._whole_dumps(template, a) for a in answers]
null_specs = [(s[0], s[1], None, s[3]) for s in specs]
t2 = Conversation(); d2 = t2.send([s[1] for s in specs], [lambda d, f: None, lambda d, f: None])
def conv_only():
    return [fanout._whole_dumps(t2, a) for a in answers]
def frames_only():
    return [netlink.frames(d) for a in answers for d in a]
full(); 
for name, fn in (("full", full), ("full-warm", full), ("dumps", dumps_only), ("conv+nullreaders", conv_only), ("frames", frames_only)):
    best = 1e9
    for k in range(7):
        if name != "full-warm": clear()
        t = time.perf_counter(); r = fn(); dt = time.perf_counter() - t
        best = min(best, dt); del r
    print(f"{name:18s} {best/n*1e6:6.1f} us/pod")

import sys
from rawns import Handle, read_many
variant, passes, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = [f"rnsr2xp{i}" for i in range(n)]
def bulk16():
    for s in range(0, n, 16): read_many(names[s:s+16], ("addr", "neigh"))
def bulk():
    read_many(names, ("addr", "neigh"))
def handle():
    for name in names:
        with Handle(name) as h: h.addr_list(); h.neigh_list()
run = {"bulk16": bulk16, "bulk": bulk, "handle": handle}[variant]
run()
for _ in range(passes): run()

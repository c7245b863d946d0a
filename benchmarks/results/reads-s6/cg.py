import sys, os
import rawns
rawns.Batch, rawns.Handle, rawns.read_many
from rawns import read_many
n = int(sys.argv[1]); times = int(sys.argv[2])
names = [f"rnsr2xp{i}" for i in range(n)]
for _ in range(times):
    read_many(names, ("addr", "neigh"))

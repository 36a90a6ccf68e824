#!/usr/bin/env python3
"""The module graph of aldproxy, by includes, must have one cycle only: the
engine core (client, op, upstream, backend), as docs/architecture.md says.

A module is a src/*.c file; it depends on every module whose header it
includes, directly or through other headers.  Prints each cycle found (a
strongly connected component of more than one module) and exits 1 if any
is not the core.
"""
import glob
import os
import re
import sys

CORE = {"client", "op", "upstream", "backend"}
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
inc_re = re.compile(r'#include "([a-z_0-9]+)\.h"')

hdr = {}
for h in glob.glob(os.path.join(root, "include", "*.h")):
    with open(h) as f:
        hdr[os.path.basename(h)[:-2]] = set(inc_re.findall(f.read()))


def closure(names):
    seen, todo = set(), list(names)
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(hdr.get(n, ()))
    return seen


deps = {}
for c in glob.glob(os.path.join(root, "src", "*.c")):
    m = os.path.basename(c)[:-2]
    with open(c) as f:
        deps[m] = closure(inc_re.findall(f.read())) - {m}
for m in deps:
    deps[m] &= set(deps)

# Tarjan's strongly connected components
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(deps[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(sorted(comp))


for v in sorted(deps):
    if v not in index:
        visit(v)

bad = 0
for comp in sccs:
    if len(comp) < 2:
        continue
    print("cycle: " + " ".join(comp))
    if set(comp) != CORE:
        bad = 1
        for m in comp:
            print("  %s -> %s" % (m, " ".join(sorted(deps[m] & set(comp)))))
if bad:
    print("FAIL: modules outside the engine core (%s) form a cycle" % ", ".join(sorted(CORE)))
    sys.exit(1)
print("ok: %d modules; the only cycle is the engine core" % len(deps))

#!/usr/bin/env python3
"""ldifsort.py — read `ldapsearch -LLL -o ldif-wrap=no` output on stdin and
print its entry blocks sorted (attribute order inside an entry is kept).
--strip ATTR (repeatable) drops lines of that attribute (case-insensitive)."""
import sys

strip = set()
args = sys.argv[1:]
while args:
    a = args.pop(0)
    if a == "--strip":
        strip.add(args.pop(0).lower())
    else:
        sys.exit("ldifsort.py: unknown argument " + a)
blocks, cur = [], []
for line in sys.stdin.read().split("\n"):
    if line == "":
        if cur:
            blocks.append("\n".join(cur))
            cur = []
        continue
    name = line.split(":", 1)[0].split(";", 1)[0].lower()
    if name in strip:
        continue
    cur.append(line)
if cur:
    blocks.append("\n".join(cur))
blocks.sort()
for b in blocks:
    print(b)
    print()

#!/usr/bin/env python3
"""aggregate.py OUT: sums tally.tsv of every run under OUT (decisions-mode runs only, i.e. all
but "own") into a version x kind table (markdown) and lists the divergence groups."""
import json, os, sys, collections
out = sys.argv[1]
tot = collections.defaultdict(lambda: [0, 0, 0, 0])
groups = []
for d in sorted(os.listdir(out)):
    p = os.path.join(out, d)
    if not os.path.isdir(p):
        continue
    for l in open(os.path.join(p, "divergences.jsonl")):
        g = json.loads(l)
        groups.append((d, g["count"], g["key"]))
    if d == "own":
        continue
    for i, l in enumerate(open(os.path.join(p, "tally.tsv"))):
        if i == 0:
            continue
        k, *n = l.rstrip("\n").split("\t")
        for j, x in enumerate(n):
            tot[k][j] += int(x)
vers = sorted({k.split()[0] for k in tot}, key=lambda s: int(s[1:]))
kinds = sorted({k.split(" ", 1)[1] for k in tot})
print("| kind | " + " | ".join(vers) + " | total |")
print("|---" * (len(vers) + 2) + "|")
for kd in kinds:
    row = [tot.get(v + " " + kd, [0])[0] for v in vers]
    print("| %s | %s | %d |" % (kd, " | ".join(str(x) for x in row), sum(row)))
colt = [sum(tot[k][0] for k in tot if k.startswith(v + " ")) for v in vers]
print("| **total** | %s | %d |" % (" | ".join(str(x) for x in colt), sum(colt)))
agree = sum(t[1] for t in tot.values()); rule = sum(t[2] for t in tot.values()); div = sum(t[3] for t in tot.values())
print("\nverdict agreements %d, rule-number agreements %d, verdict divergences %d" % (agree, rule, div))
print("\ndivergence groups:")
for d, c, k in groups:
    print(d, c, k)

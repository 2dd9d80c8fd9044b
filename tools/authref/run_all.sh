#!/bin/sh
# The comparison runs of the audit of 2026-11-30 (README.md "Results"), outputs under
# ${OUT:-/tmp/authref-final} (decisions mode) and ${OWN:-/tmp/authref-own} (the reference's own
# readings). Each run prints its divergence groups; aggregate.py sums the tallies.
set -e
OUT=${OUT:-/tmp/authref-final}
OWN=${OWN:-/tmp/authref-own}
BIN=${BIN:-/tmp/authref.bin}
mkdir -p "$OUT" "$OWN"
go build -o "$BIN" ./tools/authref
for s in 101 102 103 104 105 106; do
  "$BIN" -n 40000 -seed $s -decisions -out "$OUT/general-$s" > "$OUT/general-$s.txt" 2>&1
done
"$BIN" -n 100000 -seed 107 -versions 1,6,8,10,11,12 -decisions -out "$OUT/core" > "$OUT/core.txt" 2>&1
i=200
for only in +3pid +authvia member:knock; do
  i=$((i+1)); name=$(echo "$only" | tr -c 'a-z0-9\n' '_')
  "$BIN" -n 15000 -seed $i -only "$only" -decisions -out "$OUT/only$name" > "$OUT/only$name.txt" 2>&1
done
i=210
for only in member:join member:leave member:ban member:invite pl create +prevcreate; do
  i=$((i+1)); name=$(echo "$only" | tr -c 'a-z0-9\n' '_')
  "$BIN" -n 6000 -seed $i -only "$only" -decisions -out "$OUT/only$name" > "$OUT/only$name.txt" 2>&1
done
i=230
for only in aliases redaction joinrules tpi-event state message; do
  i=$((i+1)); name=$(echo "$only" | tr -c 'a-z0-9\n' '_')
  "$BIN" -n 6000 -seed $i -only "$only" -decisions -out "$OUT/only$name" > "$OUT/only$name.txt" 2>&1
done
# the reference's own readings (no decisions.md): the divergences to classify
"$BIN" -n 60000 -seed 301 -out "$OWN/general" > "$OWN/general.txt" 2>&1
"$BIN" -n 10000 -seed 302 -only +3pid -out "$OWN/3pid" > "$OWN/3pid.txt" 2>&1
"$BIN" -n 10000 -seed 303 -only pl -out "$OWN/pl" > "$OWN/pl.txt" 2>&1
python3 tools/authref/aggregate.py "$OUT"

#!/usr/bin/env python3
"""show.py DIR [substring]: print the smallest example of each divergence group (compact)."""
import json, sys
d = sys.argv[1]; sub = sys.argv[2] if len(sys.argv) > 2 else ""
for l in open(d + "/divergences.jsonl"):
    g = json.loads(l)
    if sub not in g["key"]:
        continue
    e = g["smallest"]
    print("==", g["count"], g["key"], "| pert", e.get("pert"), "| mut", e.get("mutation"), "| label", e["label"])
    ev = e["event"]
    print("  EV", json.dumps({k: ev.get(k) for k in ("type", "state_key", "sender", "content", "prev_events", "redacts", "event_id") if k in ev}))
    for a in e["auth_events"] or []:
        print("  AE", json.dumps({k: a.get(k) for k in ("type", "state_key", "sender", "content", "room_id") if k in a}))
    if e.get("create"):
        c = e["create"]; print("  CR", json.dumps({k: c.get(k) for k in ("sender", "content")}))
    print("  RP ", e["roomproto"]); print("  REF", e["reference"])

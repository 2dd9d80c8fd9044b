#!/usr/bin/env python3
"""Independent reference of replaying a room dump: what a server receiving these events, in this
order, must conclude for each of them (room versions 1-12).

Written from the spec text only (/work/shared/spec):

- server-server-api.md "Checks performed on receipt of a PDU": check 1 (not a valid event of
  the room version: dropped), 2 (signature checks fail: dropped), 3 (hash checks fail:
  "redacted before being processed further"), 4 ("Passes authorisation rules based on the
  event's auth events, otherwise it is rejected"), 5 ("Passes authorisation rules based on the
  state before the event, otherwise it is rejected"); "Rejection" ("The state used in the checks
  should be calculated as normal, except not updating with the rejected event where it is a state
  event"; a redacted event still affects the state); "Auth events selection".
- the authorization rules of every room version (single-event rules: tools/authref/authref.py,
  imported, also spec-only); signatures, content hashes and redaction: tools/verifyref/verifyref.py
  (imported, spec-only).

The "state before the event" of check 5 is, for a dump given in order, the state built from the
accepted state events before it (the spec defines it from prev_events and state resolution; the
CLI contract replays a linear dump, so the linear state is the reading used here and by the brief).

Protocol: one JSON request per line on stdin:
  {"v": "9", "events": ["<event JSON text>", ...], "keys": {"srv": {"ed25519:1": "<b64>"}} | null,
   "mode": "replay" | "verify-room"}
One JSON answer per line:
  {"events": [{"id": "$..", "type": "...", "state_key": str|null, "status": "accepted" |
               "rejected" | "dropped" | "duplicate", "rule": "4.3.5.2"|null, "check": 1..5|null,
               "redacted": bool, "alt": [...], "amb": [...], "why": "..."}],
   "accepted": n, "rejected": n, "dropped": n, "redacted": n, "duplicate": n}

"amb" lists the spec-silent corners the verdict went through (own readings, see SILENT below);
"alt" other rule numbers a faithful reading could give for the same rejection.

REPLAYREF_DECISIONS=1 adopts roomproto's docs/decisions.md readings (and sets AUTHREF_DECISIONS,
VERIFYREF_DECISIONS for the imported references).

SILENT corners (own readings, each tagged in "amb"):
- missing-auth-event: an auth event the server has not received (absent from the dump, dropped,
  or only later in the dump). A server would fetch it ("Retrieving event authorisation
  information"); a replay cannot: own reading, rejected under rule 2 (v12: 3) "Considering the
  event's auth_events" as a whole (alt: none).
- out-of-order: the missing auth event appears later in the dump.
- duplicate-id: an event whose ID was already received is not processed again (a server already
  has it); status "duplicate", the first verdict stands. conflicting-duplicate-id: same ID,
  other bytes.
- foreign-room: the event's room_id is not the dump's room; the rules decide (2.5 / v12 2,3.4).
- unknown-key (verify-room): no key for a server that must sign; a server would fetch it; the
  replay cannot verify: dropped (check 2).
- authvia-no-keys (replay without keys): rule 4.x.2.1 "validly signed" judged by the presence of
  the authoriser server's signature (authref's reading).
"""
import base64
import hashlib
import json
import os
import sys

DECISIONS = os.environ.get("REPLAYREF_DECISIONS") == "1"
if DECISIONS:
    os.environ["AUTHREF_DECISIONS"] = "1"
    os.environ["VERIFYREF_DECISIONS"] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("authref", "verifyref", "chainref"):
    sys.path.insert(0, os.path.join(HERE, "..", d))
if DECISIONS:
    os.environ["CHAINREF_DECISIONS"] = "1"
import authref  # noqa: E402
import verifyref as vr  # noqa: E402
import chainref  # noqa: E402


def event_id(n, ev):
    """v1-2: the event's own event_id; v3: reference hash, standard unpadded base64; v4+:
    URL-safe ("Calculating the reference hash for an event", v4-event-ids)."""
    if n <= 2:
        e = ev.get("event_id")
        return e if isinstance(e, str) else None
    red = vr.redact(vr.V(str(n)), ev, set())
    body = {k: x for k, x in red.items() if k not in ("signatures", "unsigned", "age_ts")}
    h = hashlib.sha256(vr.canonical_bytes(body)).digest()
    s = base64.b64encode(h).decode().rstrip("=")
    if n >= 4:
        s = s.replace("+", "-").replace("/", "_")
    return "$" + s


def auth_ids_of(n, ev):
    out = []
    for a in ev.get("auth_events") or []:
        if n <= 2 and isinstance(a, list):
            out.append(a[0] if a else None)
        else:
            out.append(a)
    return out


def keyring(keys):
    return {s: {k: {"key": b, "vu": None} for k, b in ks.items()} for s, ks in (keys or {}).items()}


def authvia_sig_ok(v, ev, keys, amb):
    """v8+ rule 4.2.1 (v12 5.2.1) with keys: the event validly signed by the homeserver of
    join_authorised_via_users_server. Returns True, False, or None (no known key)."""
    c = ev.get("content")
    if not isinstance(c, dict) or "join_authorised_via_users_server" not in c:
        return True
    a = c["join_authorised_via_users_server"]
    d = vr.domain(a) if isinstance(a, str) else None
    if d is None:
        return False
    V = vr.V(v)
    red = vr.redact(V, ev, amb)
    signed = vr.canonical_bytes({k: x for k, x in red.items() if k not in ("signatures", "unsigned")})
    st, _, _ = vr.check_server(V, ev, signed, d, keyring(keys), amb)
    if st == "ok":
        return True
    if st == "needkey":
        return None
    return False


def authvia_first(v, vid, ev, keys, amb, r):
    """Rule 4.2.1 (v12 5.2.1) with keys: authref judges the authoriser's signature by its
    presence; with keys it is verified. The rule comes after rules 1-3 and before the membership
    rules, so a bad signature replaces any verdict of a later rule (an allow included)."""
    authvia = v.restricted and ev.get("type") == "m.room.member" and isinstance(ev.get("content"), dict) \
        and "join_authorised_via_users_server" in ev["content"] and "state_key" in ev
    if not authvia:
        return r
    if keys is None:
        amb.add("authvia-no-keys")
        return r
    ok = authvia_sig_ok(vid, ev, keys, amb)
    if ok is None:
        # no key for the authoriser's server: the event is not known to be validly signed
        amb.add("authvia-unknown-key")
        ok = False
    if ok:
        return r
    member_top = str(v.t["member"])
    rule = r.get("rule") or ""
    if not r["allow"] and not (rule == member_top or rule.startswith(member_top + ".")):
        return r  # an earlier rule (1-3) rejected first
    if not r["allow"] and rule in (v.rm("authvia", 1), v.rm("nokey")):
        return r  # 4.1 comes first; 4.2.1 already
    return {"allow": False, "rule": v.rm("authvia", 1), "why": "authoriser's signature does not verify",
            "amb": r.get("amb", [])}


def replay(req):
    vid = req["v"]
    n = int(vid)
    v = authref.V(vid)
    mode = req.get("mode", "replay")
    keys = req.get("keys")
    out = []
    stored = {}      # id -> (event as used: possibly redacted, status)
    rejected = set()
    state = {}       # (type, sk) -> (ev, id)   accepted state only
    room_create = None  # (ev, id) of the first accepted create
    dump_room = most_common_room(req["events"])
    snap = {}        # id -> the linear state after that event (own reading of check 5)
    last_id = None   # the last event processed
    first_line = {}  # id -> index of the line of its first occurrence
    line = -1
    survivors = []   # verify-room: (entry, event as used) of the events past checks 1-3
    for text in req["events"]:
        line += 1
        amb = set()
        e = {"id": None, "type": None, "state_key": None, "status": None, "rule": None, "check": None,
             "redacted": False, "alt": [], "amb": amb, "why": ""}
        out.append(e)
        # ---- check 1 (and, for verify-room, 2-3)
        ev = None
        try:
            ev, _ = vr.parse_json(text, set())
        except (ValueError, RecursionError):
            pass
        if isinstance(ev, dict):
            e["type"] = ev.get("type") if isinstance(ev.get("type"), str) else None
            sk = ev.get("state_key")
            e["state_key"] = sk if isinstance(sk, str) else None
            try:
                e["id"] = event_id(n, ev)
            except Exception:
                e["id"] = None
        if mode == "verify-room":
            r = vr.verify({"v": vid, "ev": text, "keys": keyring(keys)})
            if "error" in r:
                raise RuntimeError(r["error"])
            e["vkinds"] = r["kinds"]
            e["_ev"] = ev
            if r["verdict"] == "reject":
                e["status"], e["check"] = "dropped", (1 if "malformed" in r["kinds"] else 2)
                e["why"] = r["why"]
                continue
            if r["verdict"] == "need-key":
                amb.add("unknown-key")
                e["status"], e["check"], e["why"] = "dropped", 2, r["why"]
                continue
            if r["verdict"] == "redact":
                e["redacted"] = True
                ev = vr.redact(vr.V(vid), ev, amb)
        else:
            why = None
            if not isinstance(ev, dict):
                why = "not a JSON object"
            else:
                why = vr.check_format(vr.V(vid), ev, set())
            if why:
                # check 1: dropped. Decisions bulk 9 ("an event deeper than an event may be is a
                # rejected row"): replay prints such an event as rejected without a rule; citers
                # still see it as missing (it is never stored).
                e["status"], e["check"], e["why"] = ("rejected" if DECISIONS else "dropped"), 1, why
                if DECISIONS:
                    amb.add("invalid-event-row")
                continue
        eid = e["id"]
        cur_last, last_id = last_id, eid
        first_line.setdefault(eid, line)
        if mode == "verify-room":
            survivors.append((e, ev))
            continue
        # ---- an ID already received: the server has it; the copy keeps the first verdict.
        # Another event with the ID (other content hash): own reading, ignored as the copy (the
        # server keeps the first event it has with an ID), status "duplicate"; decisions bulk 9:
        # rejected without a rule ("event ID taken").
        if eid in stored:
            amb.add("duplicate-id")
            first = stored[eid]
            if content_hash(first[2]) != content_hash(ev):
                amb.add("conflicting-duplicate-id")
                if DECISIONS:
                    e["status"], e["why"] = "rejected", "event ID taken"
                else:
                    e["status"], e["why"] = "duplicate", "another event with a received ID"
                continue
            e["status"], e["rule"], e["check"] = first[1], first[3], first[4]
            e["why"] = "copy of an event already received"
            continue
        # ---- events of another room (v1-11; v12's rule 2 decides there). Own reading: the rules
        # decide. Decisions bulk 9: the dump's room is the room_id most events name; an event of
        # another is rejected without a rule and not applied.
        if not v.v12 and DECISIONS and ev.get("room_id") != dump_room:
            amb.add("foreign-room")
            e["status"], e["why"] = "rejected", "another room"
            stored[eid] = (ev, "rejected", ev, None, None)
            rejected.add(eid)
            continue

        def finish(status, rule, check, why):
            e["status"], e["rule"], e["check"], e["why"] = status, rule, check, why
            stored[eid] = (ev, status, ev, rule, check)
            if status == "rejected":
                snap[eid] = dict(state)
            if status == "rejected":
                rejected.add(eid)

        # v12: the room's create event is the one the room ID names
        create = create_id = None
        if v.v12:
            rid = ev.get("room_id")
            if isinstance(rid, str) and rid.startswith("!"):
                cid = "$" + rid[1:]
                if cid in stored:
                    create, create_id = stored[cid][0], cid
        if room_create is not None and ev.get("type") != "m.room.create":
            rc = room_create[0]
            foreign = (ev.get("room_id") != rc.get("room_id")) if not v.v12 else \
                (ev.get("room_id") != "!" + room_create[1][1:])
            if foreign:
                amb.add("foreign-room")
        # ---- check 4: the event's own auth events
        aids = auth_ids_of(n, ev) if ev.get("type") != "m.room.create" else []
        missing = [a for a in aids if a not in stored]
        if missing:
            amb.add("missing-auth-event")
            if any(a in req_ids_later(req, text, n) for a in missing):
                amb.add("out-of-order")
            if not DECISIONS:
                finish("rejected", v.r("auth"), 4, "auth event not received: %s" % missing[0])
                continue
            # decisions bulk 9: only the state before the event is checked
        else:
            auth = [stored[a][0] for a in aids]
            r = authvia_first(v, vid, ev, keys, amb, authref.check(
                {"v": vid, "ev": ev, "ev_id": eid, "auth": auth, "auth_ids": aids,
                 "create": create, "create_id": create_id, "rejected_ids": sorted(rejected)}))
            amb |= set(r["amb"])
            if not r["allow"]:
                finish("rejected", r["rule"], 4, r["why"])
                continue
        # ---- check 5: the state before the event. Linear reading (the brief, decisions bulk 9):
        # the accepted events before it. Own reading when the event's single prev event is an
        # earlier event of the dump than the last one processed: the state before the event is the
        # state after that prev event (server-server-api: checks 5 and 6, "Soft failure"); then an
        # event that passes there but fails the current (linear) state is soft failed, not
        # rejected ("such events are entirely valid, and we cannot simply reject them").
        if ev.get("type") != "m.room.create":
            want = authref.check({"v": vid, "op": "select", "ev": ev})["keys"]

            def against(st):
                sauth, sids = [], []
                for k in want:
                    p = st.get(tuple(k))
                    if p is not None:
                        sauth.append(p[0])
                        sids.append(p[1])
                return authvia_first(v, vid, ev, keys, amb, authref.check(
                    {"v": vid, "ev": ev, "ev_id": eid, "auth": sauth, "auth_ids": sids,
                     "create": create, "create_id": create_id, "no_rule2": True}))

            prevs = authref.prev_ids(v, ev)
            at = None
            # The state after the prev event, unless the prev event's first occurrence is the line
            # just before (nothing came between them).
            if len(prevs) == 1 and prevs[0] in snap and first_line.get(prevs[0]) != line - 1:
                # roomproto reads it so too since 2026-11-30 (decisions bulk 9)
                amb.add("prev-not-last")
                at = snap[prevs[0]]
            elif len(prevs) > 1:
                amb.add("prev-events-fork")
            if at is not None:
                r5 = against(at)
                amb |= set(r5["amb"])
                if not r5["allow"]:
                    finish("rejected", r5["rule"], 5, "state at prev event: " + r5["why"])
                    continue
                r6 = against(state)
                if not r6["allow"]:
                    amb.add("soft-fail")
                    e["status"], e["rule"], e["check"] = "soft-failed", r6["rule"], 6
                    e["why"] = "current state: " + r6["why"]
                    stored[eid] = (ev, "soft-failed", ev, r6["rule"], 6)
                    snap[eid] = dict(state)
                    continue
            else:
                r5 = against(state)
                amb |= set(r5["amb"])
                if not r5["allow"]:
                    finish("rejected", r5["rule"], 5, "state before: " + r5["why"])
                    continue
        finish("accepted", None, None, "")
        if ev.get("type") == "m.room.create" and room_create is None:
            room_create = (ev, eid)
        if "state_key" in ev:
            state[(ev.get("type"), ev.get("state_key"))] = (ev, eid)
        snap[eid] = dict(state)
    if mode == "verify-room":
        # The brief and the CLI's contract: verify-room "authorises the whole set" against each
        # event's own auth events (check 4 over a set, tools/chainref): the order of the dump
        # does not matter, check 5 is not run. Events dropped by checks 1-2 are absent (never
        # received), hence missing auth events of their citers.
        pre = []
        if DECISIONS:
            # The CLI's decision (cmd, verify-room, as replay's bulk 9): the dump is one room,
            # the room most events name; an event of another room (v1-11), or a v12 create
            # event whose ID gives another room, is rejected without a rule and stays in the
            # set as rejected (2.3 for its citers).
            kept = []
            for e, ev in survivors:
                if v.v12:
                    other = ev.get("type") == "m.room.create" and not ev.get("room_id") and \
                        dump_room is not None and "!" + (e["id"] or "$")[1:] != dump_room
                else:
                    other = ev.get("room_id") != dump_room
                if other:
                    e["amb"].add("foreign-room")
                    e["status"], e["why"] = "rejected", "another room"
                    pre.append(e["id"])
                    kept.append((None, ev, e["id"]))
                else:
                    kept.append((e, ev, None))
            survivors = [(e, ev) for e, ev, _ in kept if e is not None]
            foreign_items = [{"ev": ev, "id": fid or "", "ver": vid} for e, ev, fid in kept if e is None]
        items = [{"ev": ev, "id": e["id"] or "", "ver": vid} for e, ev in survivors]
        if DECISIONS:
            items += foreign_items
        if DECISIONS:
            # bulk 6: events that failed verification stay in the set as rejected (2.3 for their
            # citers) -- unless a copy with the same ID passed (bulk 5)
            ok_ids = {e["id"] for e, _ in survivors}
            for e in out:
                if e["status"] == "dropped" and e["check"] == 2 and e["id"] and e["id"] not in ok_ids \
                        and e["id"] not in pre and isinstance(e.get("_ev"), dict):
                    pre.append(e["id"])
                    items.append({"ev": e["_ev"], "id": e["id"], "ver": vid})
        cr = chainref.chain({"v": vid, "events": items, "rejected": pre})
        for (e, ev), d in zip(survivors, cr["verdicts"]):
            e["amb"] |= set(d.get("amb") or [])
            e["alt"] = list(d.get("alt") or [])
            if d["ok"]:
                e["status"] = "accepted"
            else:
                e["status"], e["rule"], e["check"], e["why"] = "rejected", d["rule"], 4, d.get("why", "")
        # what the in-order replay (checks 4 and 5) says of the same survivors, for the notes
        rp = replay({"v": vid, "events": [json.dumps(ev) for _, ev in survivors], "keys": keys,
                     "mode": "replay"})
        for (e, _), r in zip(survivors, rp["events"]):
            e["inorder"] = [r["status"], r["rule"], r["check"]]
    res = {"events": []}
    for e in out:
        e["amb"] = sorted(e["amb"])
        e.pop("vkinds", None)
        e.pop("_ev", None)
        res["events"].append(e)
    for s in ("accepted", "rejected", "dropped", "duplicate"):
        res[s] = sum(1 for e in out if e["status"] == s)
    res["redacted"] = sum(1 for e in out if e["redacted"])
    return res


def content_hash(ev):
    body = {k: x for k, x in ev.items() if k not in ("unsigned", "signatures", "hashes")}
    return hashlib.sha256(vr.canonical_bytes(body)).digest()


def most_common_room(texts):
    count = {}
    for t in texts:
        try:
            r = json.loads(t).get("room_id")
        except Exception:
            continue
        if isinstance(r, str):
            count[r] = count.get(r, 0) + 1
    return max(sorted(count), key=lambda r: count[r]) if count else None


def req_ids_later(req, text, n):
    """IDs of the events after `text` in the dump (for tagging out-of-order)."""
    evs = req["events"]
    ids = set()
    seen = False
    for t in evs:
        if t is text:
            seen = True
            continue
        if seen:
            try:
                ev = json.loads(t)
                ids.add(event_id(n, ev))
            except Exception:
                pass
    return ids


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = replay(json.loads(line))
        except Exception as ex:  # a harness problem, reported as such
            import traceback
            out = {"error": "%s: %s" % (type(ex).__name__, ex), "tb": traceback.format_exc()}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

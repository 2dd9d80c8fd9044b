#!/usr/bin/env python3
"""redactref: an independent reference of how a server handles a received m.room.redaction.

Written from the Matrix spec text only, before reading roomproto's redaction/*.go:
rooms/fragments/v3-handling-redactions.md (room versions 3-12), rule 11 of
rooms/fragments/v1-auth-rules.md (room versions 1-2), rooms/v11.md ("Moving the `redacts`
property ... to a `content` property"), the redaction algorithms (fragments/v1-redactions.md
for v1-5, v6-redactions.md for v6-7, the inline "Redactions" of v8.md, v9-redactions.md for
v9-10, v11-redactions.md for v11-12), m.room.redaction.yaml, client-server-api "Redactions"
(`unsigned.redacted_because`), server-server-api "Calculating the reference hash for an event",
fragments/v1-event-ids.md and v4-event-ids.md, appendices "Server Name" (case-sensitive) and
"Canonical JSON". For the shape of the answers (Apply / WaitForTarget / Ignore, the errors
of ApplyRedaction) it follows `go doc ./redaction` only. Standard library only.

Protocol: one JSON object per line on stdin, one answer per line on stdout.

Request:
  {"op": "decide", "v": "9",
   "redaction": "<event JSON>", "redaction_v": "9",
   "target": "<event JSON>" | null, "target_v": "9",
   "cmp": -1 | 0 | 1}          (the sender's power level compared with the redact level)
  {"op": "apply", "redaction": ..., "redaction_v": ..., "target": ..., "target_v": ...}
  {"op": "id", "v": "9", "event": "<event JSON>"}
Answer:
  decide: {"decision": "apply" | "wait" | "ignore", "why": category, "amb": [flags],
           "redaction_id": ..., "target_id": ...}
  apply:  {"ok": "<canonical JSON>"} or {"err": "not-redaction" | "wrong-target", "amb": [...]}
  or {"error": why} for a bug in the reference.

`why` categories: not-redaction, no-redacts, version (events parsed for another version than
the one asked), rule-11 (v1-2: rule 11.3 rejects the redaction), other-id, other-room,
power (condition 1 / rule 11.1), same-domain (condition 2), event-id-domain (rule 11.2),
not-allowed (v3+: neither condition holds), no-target (waiting for the target).

With REDACTREF_DECISIONS=1 the reference adopts roomproto's readings of the spec-silent
corners it meets (docs/decisions.md "## redaction"); see README.md.
"""
import base64
import hashlib
import json
import os
import sys

DECISIONS = os.environ.get("REDACTREF_DECISIONS") == "1"


def vnum(v):
    return int(v)


# --- canonical JSON (appendices "Canonical JSON") ---------------------------------------------

def canonical(obj):
    # Keys sorted by code point, no insignificant whitespace, UTF-8, shortest escapes. Python's
    # encoder with ensure_ascii=False escapes exactly '"', '\\' and U+0000-U+001F, using the
    # short forms \b \f \n \r \t and \u00xx (lower-case hex) for the others, as the grammar
    # asks. The harness never draws floats.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --- the redaction algorithm, per room version ------------------------------------------------

TOP_V1 = ["event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
          "signatures", "depth", "prev_events", "prev_state", "auth_events", "origin",
          "origin_server_ts", "membership"]
TOP_V11 = ["event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
           "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"]

PL_KEYS = ["ban", "events", "events_default", "kick", "redact", "state_default", "users",
           "users_default"]


def content_keys(v, typ):
    """The content keys kept for an event of type typ in room version v; None keeps all."""
    n = vnum(v)
    if typ == "m.room.member":
        return ["membership"] if n <= 8 else ["membership", "join_authorised_via_users_server"]
    if typ == "m.room.create":
        return ["creator"] if n <= 10 else None
    if typ == "m.room.join_rules":
        return ["join_rule"] if n <= 7 else ["join_rule", "allow"]
    if typ == "m.room.power_levels":
        return PL_KEYS if n <= 10 else PL_KEYS + ["invite"]
    if typ == "m.room.aliases":
        return ["aliases"] if n <= 5 else []
    if typ == "m.room.history_visibility":
        return ["history_visibility"]
    if typ == "m.room.redaction":
        return [] if n <= 10 else ["redacts"]
    return []


def redact(v, ev, amb):
    n = vnum(v)
    top = TOP_V1 if n <= 10 else TOP_V11
    out = {k: ev[k] for k in top if k in ev}
    content = ev.get("content")
    if isinstance(content, dict):
        keep = content_keys(v, ev.get("type"))
        if keep is None:
            nc = dict(content)
        else:
            nc = {k: content[k] for k in keep if k in content}
        if n >= 11 and ev.get("type") == "m.room.member" and "third_party_invite" in content:
            # v11-redactions: "it allows the `signed` key of the `third_party_invite` key".
            tpi = content["third_party_invite"]
            if isinstance(tpi, dict) and "signed" in tpi:
                nc["third_party_invite"] = {"signed": tpi["signed"]}
            elif isinstance(tpi, dict):
                amb.append("tpi-without-signed")
                # own reading: only `signed` is allowed and there is none, so nothing of it
                # stays. docs/decisions.md (redaction) 3 keeps it as {} ("will only contain the
                # `signed` key", rooms/v11.md).
                if DECISIONS:
                    nc["third_party_invite"] = {}
            # not an object: no `signed` key, nothing allowed (decisions.md 3 agrees)
        out["content"] = nc
    elif DECISIONS:
        # docs/decisions.md (redaction) 1 and 2: `content` is always written, `{}` when the event
        # has none or it is not an object (the spec speaks only of the content object's keys).
        out["content"] = {}
    return out


# --- event IDs ---------------------------------------------------------------------------------

def b64(b, urlsafe):
    s = base64.urlsafe_b64encode(b) if urlsafe else base64.b64encode(b)
    return s.decode().rstrip("=")


def event_id(v, ev, amb=None):
    n = vnum(v)
    if n <= 2:
        # v1-event-ids: the event's own `event_id`.
        eid = ev.get("event_id")
        return eid if isinstance(eid, str) else None
    # reference hash (server-server-api): redact, drop signatures and unsigned, canonical JSON,
    # sha256; v3: standard unpadded base64, v4+: URL-safe unpadded base64.
    r = redact(v, ev, amb if amb is not None else [])
    r.pop("signatures", None)
    r.pop("unsigned", None)
    h = hashlib.sha256(canonical(r).encode("utf-8")).digest()
    return "$" + b64(h, n >= 4)


def room_of(v, ev, eid):
    # v12: the create event has no room_id; the room ID is its event ID with "!" (rooms/v12.md,
    # appendices "Room IDs": "A room has exactly one room ID", "simply the event ID of the
    # `m.room.create` event using `!` as the sigil"). A `room_id` the create event carries
    # anyway (rule 1.2 rejects it) does not name its room.
    if vnum(v) >= 12 and ev.get("type") == "m.room.create":
        return "!" + eid[1:] if eid else None
    rid = ev.get("room_id")
    return rid if isinstance(rid, str) else None


def domain(ident):
    # appendices: user IDs "@localpart:domain" (a localpart never holds ':'), v1-2 event IDs
    # "$opaque_id:domain": the domain is everything after the first colon (it may carry a
    # port). Server names are case-sensitive. An ID without a colon has no domain.
    if not isinstance(ident, str) or ":" not in ident:
        return None
    d = ident.split(":", 1)[1]
    return d


def redacts_of(v, red):
    # rooms/v11.md: `redacts` moves from the top level to `content` in v11; m.room.redaction.yaml:
    # the top-level one is "Required for, and only present in, room versions 1 - 10".
    if vnum(v) <= 10:
        r = red.get("redacts")
    else:
        c = red.get("content")
        r = c.get("redacts") if isinstance(c, dict) else None
    return r


# --- handling redactions -----------------------------------------------------------------------

def decide(req):
    v = req["v"]
    n = vnum(v)
    amb = []
    red = json.loads(req["redaction"])
    rid = event_id(req["redaction_v"], red, amb)
    res = {"amb": amb, "redaction_id": rid}
    tgt = json.loads(req["target"]) if req.get("target") is not None else None
    tid = None
    if tgt is not None:
        tid = event_id(req["target_v"], tgt, amb)
        res["target_id"] = tid
        if req.get("target_id_unset"):
            tid = None  # go doc: target.EventID must be set; unset, it names no event
    # Every reason that applies is listed in `whys` (the first is the reference's), so that a
    # reason of roomproto that checks in another order still matches.
    ignore = []

    if req["redaction_v"] != v:
        ignore.append("version")
    if red.get("type") != "m.room.redaction":
        ignore.append("not-redaction")
    redacts = redacts_of(v, red)
    if not isinstance(redacts, str):
        ignore.append("no-redacts")
    elif redacts == "":
        amb.append("redacts-empty")  # a string, but no event has the empty ID
        ignore.append("no-redacts")
    elif not redacts.startswith("$"):
        # not an event ID (appendices "Event IDs"); no target can ever have it, but the spec
        # does not say to drop the redaction: it waits like any other.
        amb.append("redacts-not-event-id")
    power = req["cmp"] >= 0
    if n <= 2 and not power:
        # rule 11 (v1-auth-rules.md): 11.1 power, 11.2 the domain of the redacted event's
        # `event_id` equals that of the redaction's `event_id`, 11.3 otherwise reject. The
        # "event being redacted" is named by `redacts`, so this needs no target.
        dr, dt = domain(rid), domain(redacts)
        if dr is None or dt is None or dr != dt:
            ignore.append("rule-11")
    if ignore or tgt is None:
        if ignore:
            return dict(res, decision="ignore", why=ignore[0], whys=ignore)
        return dict(res, decision="wait", why="no-target", whys=["no-target"])
    if req["target_v"] != req["redaction_v"]:
        ignore.append("version")
    if tid != redacts:
        ignore.append("other-id")
    if room_of(req["target_v"], tgt, tid) != room_of(v, red, rid):
        ignore.append("other-room")
    if ignore:
        return dict(res, decision="ignore", why=ignore[0], whys=ignore)
    if tid == rid:
        amb.append("self")
    ok = []
    if power:
        ok.append("power")
    if n <= 2:
        if domain(rid) is not None and domain(rid) == domain(redacts):
            ok.append("event-id-domain")
    else:
        ds, dt = domain(red.get("sender")), domain(tgt.get("sender"))
        if ds is not None and ds == dt:
            ok.append("same-domain")
    if ok:
        return dict(res, decision="apply", why=ok[0], whys=ok)
    # handling redactions: "Otherwise, the server simply waits for a valid partner event to
    # arrive"; for this pair no later check can differ, which go doc calls Ignore.
    amb.append("not-allowed-waits")
    return dict(res, decision="ignore", why="not-allowed", whys=["not-allowed"])


def apply_(req):
    amb = []
    red = json.loads(req["redaction"])
    tgt = json.loads(req["target"])
    rv, tv = req["redaction_v"], req["target_v"]
    errs = []
    if rv != tv:
        errs.append("wrong-target")
    if red.get("type") != "m.room.redaction":
        errs.append("not-redaction")
    tid = event_id(tv, tgt, amb)
    rid = event_id(rv, red, amb)
    if req.get("target_id_unset"):
        tid = None  # go doc: target.EventID "must be set"
    redacts = redacts_of(rv, red)
    if not isinstance(redacts, str) or redacts == "" or redacts != tid:
        errs.append("wrong-target")
    elif room_of(tv, tgt, tid) != room_of(rv, red, rid):
        errs.append("wrong-target")
    if errs:
        if len(set(errs)) > 1:
            amb.append("both-errors")
            # go doc lists ErrNotRedaction first ("redaction is an m.room.redaction whose
            # redacts ..."); the version check is stated separately.
            return {"err": "not-redaction" if "not-redaction" in errs else errs[0], "amb": amb,
                    "errs": sorted(set(errs))}
        return {"err": errs[0], "amb": amb}
    r = redact(tv, tgt, amb)
    # client-server-api "Redactions": a copy of the m.room.redaction event under `unsigned` as
    # `redacted_because`; go doc: the canonical form of its received bytes, unchanged, and
    # nothing of the target's own `unsigned`.
    r["unsigned"] = {"redacted_because": red}
    if vnum(rv) >= 11 and "redacts" not in red:
        amb.append("compat-top-redacts")  # v11.md: servers "should add" a top-level redacts
    if vnum(rv) <= 10 and not (isinstance(red.get("content"), dict) and "redacts" in red["content"]):
        amb.append("compat-content-redacts")  # v11.md: "should add" content.redacts
    return {"ok": canonical(r), "amb": amb}


def main():
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req["op"] == "decide":
                res = decide(req)
            elif req["op"] == "apply":
                res = apply_(req)
            elif req["op"] == "id":
                res = {"id": event_id(req["v"], json.loads(req["event"]))}
            else:
                raise ValueError("unknown op %r" % req["op"])
        except Exception as e:  # noqa: BLE001 - reported to the harness
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(res, ensure_ascii=False) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

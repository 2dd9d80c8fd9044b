#!/usr/bin/env python3
"""Independent reference of what a parsed PDU *reads*: for an event a receiving server accepts
(room versions 1-12), the value of every field the room protocol's rules use, read from the same
bytes, and the canonical form the hashes and signatures start from.

Written from the spec text only (/work/shared/spec), before reading roomproto's pdu package:
  data/api/server-server/definitions/pdu_v1.yaml (v1-2: `event_id`, `redacts`, `[event ID,
      event_hash]` pairs), pdu_v3.yaml, pdu_v4.yaml (v4-5), pdu_v6.yaml (v6-10: `redacts`),
      pdu_v11.yaml (no top-level `redacts`), pdu_v12.yaml and components/ (pdu_base: sender,
      origin_server_ts, type, state_key "If this key is present, the event is a state event",
      content, hashes, signatures (server -> key ID -> string), unsigned; event_hash: sha256;
      room_id_v12: "Omitted from m.room.create events");
  data/event-schemas/schema/m.room.redaction.yaml (`content.redacts`: "Required for, and present
      starting in, room version 11"; top-level `redacts`: "Required for, and only present in,
      room versions 1 - 10"), m.room.member.yaml (`content.membership`);
  content/rooms/v11.md "Moving the redacts property ... to a content property";
  content/appendices.md "Canonical JSON" (keys sorted by code point, shortest UTF-8, escapes),
      "Server Name" (+ RFC 3513 IPv6 literals, IPv4 0-255), "Room IDs" (v12: the create event's
      ID with "!"), "Event IDs"; rooms/fragments/v1-event-ids.md ($opaque_id:domain).
Whether an event is accepted at all, and with which error kinds, is the independent format
reference tools/formatref/formatref.py (spec-only too), imported; the field each refusal names
is read from its reasons.

Protocol: one JSON object per line on stdin, one answer per line on stdout. Every string of the
event is exchanged as base64 of its UTF-8 bytes (an unpaired surrogate, v1-5 only, as its
3-byte generalised UTF-8 form), so that no byte is lost on the pipe.
  {"op": "event", "v": "9", "ev": b64, "keys": [b64...], "is": [[b64 type, b64 sk]...],
   "sks": [b64...], "id": b64 (signing.ParseEvent's event ID, or "")}
    -> {"verdict": "accept"|"refuse", "kinds": [...], "fields": [[kind, field]...], "why",
        "amb": [...], "event": {field: value}, "index": {...}}
  {"op": "server", "s": b64} -> {"ok": bool, "amb": [...]}
  {"op": "opaque", "s": b64} -> {"ok": bool, "amb": [...]}

"amb" lists the spec-silent corners an answer went through. PDUREF_DECISIONS=1 adopts the
readings of roomproto's docs/decisions.md where the spec is silent (DECISIONS below).
"""
import base64
import ipaddress
import json
import os
import re
import sys

DECISIONS = os.environ.get("PDUREF_DECISIONS") == "1"
if DECISIONS:
    os.environ["FORMATREF_DECISIONS"] = "1"
    os.environ["VERIFYREF_DECISIONS"] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "formatref"))
import formatref as fr  # noqa: E402

vr = fr.vr
CREATE = "m.room.create"
MEMBER = "m.room.member"
REDACTION = "m.room.redaction"


def b(s):
    """A string as the bytes exchanged: UTF-8, an unpaired surrogate in its 3-byte form."""
    return base64.b64encode(s.encode("utf-8", "surrogatepass")).decode()


def raw_b(bs):
    return None if bs is None else base64.b64encode(bs).decode()


def unb(s):
    return base64.b64decode(s).decode("utf-8", "surrogatepass")


def canon(v):
    """Canonical JSON bytes (appendices "Canonical JSON") of a parsed value."""
    return vr.canonical(v).encode("utf-8", "surrogatepass")


def enc_key(k):
    return vr.enc_str(k).encode("utf-8", "surrogatepass")


def layout(ev):
    """The canonical bytes of the event object, with where each member is: for each top-level
    member in key order (start of the key's quote, start of the value, end of the value, and
    the same for the members of its value when that is an object)."""
    out = bytearray(b"{")
    members = []
    for i, k in enumerate(sorted(ev)):
        if i:
            out += b","
        start = len(out)
        out += enc_key(k) + b":"
        val = len(out)
        nested = []
        x = ev[k]
        if isinstance(x, dict):
            out += b"{"
            for j, k2 in enumerate(sorted(x)):
                if j:
                    out += b","
                s2 = len(out)
                out += enc_key(k2) + b":"
                v2 = len(out)
                out += canon(x[k2])
                nested.append([s2, v2, len(out)])
            out += b"}"
        else:
            out += canon(x)
        members.append({"key": b(k), "m": [start, val, len(out)], "nested": nested})
    out += b"}"
    return bytes(out), members


def is_str(x):
    return isinstance(x, str)


def read_event(v, ev, amb, keys, is_probes, sks, sid, servers, key_ids):
    """The reference's reading of every field of an accepted event."""
    raw, members = layout(ev)
    typ = ev["type"]
    content = ev["content"]
    sk = ev.get("state_key")
    e = {}
    e["Version"] = str(v)
    e["EventID"] = b(ev["event_id"]) if v <= 2 else b("")
    is_create = typ == CREATE
    if v >= 12 and is_create and "room_id" in ev:
        amb.add("v12-create-room_id")  # auth rule 1.2 rejects it; the field is read as written
    e["RoomID"] = b(ev.get("room_id", ""))
    e["Sender"] = b(ev["sender"])
    e["Type"] = b(typ)
    e["StateKey"] = None if sk is None else b(sk)
    e["Content"] = raw_b(canon(content))

    def ids(k):
        lst = ev[k]
        if v <= 2:
            return [b(p[0]) for p in lst]
        return [b(x) for x in lst]

    e["PrevEvents"] = ids("prev_events")
    e["AuthEvents"] = ids("auth_events")
    e["Depth"] = ev["depth"]
    e["OriginServerTS"] = ev["origin_server_ts"]
    o = ev.get("origin")
    e["Origin"] = b(o) if is_str(o) else b("")
    # redacts: top-level before v11 (pdu_v1..v6, m.room.redaction "only present in 1 - 10"),
    # content.redacts from v11 (v11.md). The schemas define it "for redaction events".
    if v <= 10:
        red = ev.get("redacts")
    else:
        red = content.get("redacts")
    if is_str(red) and typ != REDACTION:
        amb.add("redacts-non-redaction")
        red = None
    if v <= 10 and typ == REDACTION and is_str(content.get("redacts")) and "redacts" not in ev:
        amb.add("redacts-content-before-v11")
    if v >= 11 and typ == REDACTION and is_str(ev.get("redacts")) and "redacts" not in content:
        amb.add("redacts-top-level-from-v11")
    e["Redacts"] = b(red) if is_str(red) else b("")
    e["ContentHash"] = b(ev["hashes"]["sha256"])
    sigs = []
    for srv in sorted(ev["signatures"]):
        for kid in sorted(ev["signatures"][srv]):
            sigs.append([b(srv), b(kid), b(ev["signatures"][srv][kid])])
    e["Signatures"] = sigs
    e["Servers"] = [b(s) for s in sorted(ev["signatures"]) if ev["signatures"][s]]
    # Signatures as a map (one entry per signature, sorted here for comparison), and looked up
    e["SigMap"] = sigs
    e["Signed"], e["Get"], e["Server"] = [], [], []
    for sb in servers:
        srv = unb(sb)
        mine = ev["signatures"].get(srv, {})
        e["Signed"].append(len(mine) > 0)
        e["Server"].append([[sb, b(k), b(mine[k])] for k in sorted(mine)])
        for kb in key_ids:
            kid = unb(kb)
            e["Get"].append([b(mine[kid]), True] if kid in mine else [b(""), False])
    mem = content.get("membership")
    if typ != MEMBER and is_str(mem):
        amb.add("membership-non-member")
        mem = None
    e["Membership"] = b(mem) if is_str(mem) else b("")
    e["Unsigned"] = raw_b(canon(ev["unsigned"])) if "unsigned" in ev else None
    e["Raw"] = raw_b(raw)
    span = [0, 0]
    for m in members:
        if unb(m["key"]) == "content":
            span = m["m"][1:]
    e["RawContentSpan"] = span
    e["IsState"] = sk is not None
    # Room(): v12 create events have no room_id; their room is their event ID with "!"
    # (appendices "Room IDs", rooms/v12.md). Parse does not compute the ID (v3+): sid is the one
    # signing.ParseEvent computed, "" for pdu.Parse.
    if v >= 12 and is_create:
        if sk != "":
            amb.add("v12-create-not-state-empty")  # "the m.room.create event": type only here
        eid = unb(sid) if sid else ""
        e["Room"] = b("!" + eid[1:]) if eid else b("")
    else:
        e["Room"] = e["RoomID"]
    probes = {}
    for kb in keys:
        k = unb(kb)
        r = {"HasKey": k in ev}
        if k in ev and enc_key(k)[1:-1] != k.encode("utf-8", "surrogatepass"):
            # a key whose canonical form has escapes ("\u0001", "a\"b"): no key the spec
            # defines needs one; roomproto's doc says HasKey compares keys "as written in the
            # canonical form"
            amb.add("haskey-escaped-key")
        if k in content:
            r["ContentField"] = raw_b(canon(content[k]))
            r["ContentString"] = [b(content[k]), True] if is_str(content[k]) else [b(""), False]
        else:
            r["ContentField"] = None
            r["ContentString"] = [b(""), False]
        probes[kb] = r
    e["Probes"] = probes
    e["Is"] = [sk is not None and typ == unb(t) and sk == unb(s) for t, s in is_probes]
    e["StateKeyEquals"] = [sk is not None and sk == unb(s) for s in sks]
    return e, {"len": len(raw), "members": members}


def field_of(why):
    """The top-level field a reason of formatref names ("" for the event as a whole)."""
    known = ["sender", "type", "state_key", "room_id", "event_id", "redacts", "content",
             "hashes", "signatures", "unsigned", "prev_events", "auth_events", "depth",
             "origin_server_ts"]
    m = re.match(r"(missing |an ID in )?([a-z_]+)", why)
    if m and m.group(2) in known:
        return m.group(2)
    if why.startswith("signature "):
        return "signatures"
    return ""


def answer_event(req):
    amb = set()
    v = int(req["v"])
    raw = base64.b64decode(req.get("ev", ""))
    errs, ev = fr.check(v, raw, amb)
    if errs:
        fields = sorted({(k, field_of(w)) for k, w in errs})
        return {"verdict": "refuse", "kinds": sorted({k for k, _ in errs}),
                "fields": [list(f) for f in fields],
                "why": "; ".join(w for _, w in errs), "amb": sorted(amb)}
    if fr.parse(raw.decode("utf-8"))[1]:
        # v1-5: a key given twice; the spec does not say which occurrence counts (JSON RFC 8259:
        # "the behavior of software that receives such an object is unpredictable"). This
        # reference, like most JSON parsers, keeps the last.
        amb.add("duplicate-key-lenient")
    e, idx = read_event(v, ev, amb, req.get("keys", []), req.get("is", []), req.get("sks", []),
                        req.get("id", ""), req.get("servers", []), req.get("key_ids", []))
    return {"verdict": "accept", "kinds": [], "fields": [], "why": "", "amb": sorted(amb),
            "event": e, "index": idx}


IPV4_RE = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\Z")


def valid_server_name(s, amb):
    """appendices "Server Name": the grammar, with the prose's IPv4 range and RFC 3513 IPv6."""
    if not fr.valid_server_name(s, set()):
        return False
    host = s
    if s.startswith("["):
        host = s[1:s.index("]")]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            # the grammar's 2*45IPv6char admits it, RFC 3513 section 2.2 does not
            amb.add("ipv6-not-rfc3513")
            # decisions.md, Server ACLs 6: the grammar's 2*45IPv6char only, "as
            # pdu.ValidServerName does everywhere in roomproto"
            return DECISIONS
        return True
    host = s.split(":", 1)[0]
    m = IPV4_RE.match(host)
    if m and any(int(g) > 255 for g in m.groups()):
        # "IPv4 literals must be ... in the range 0 to 255"; the grammar's dns-name also
        # admits digits and dots, so whether 1.2.3.256 is a (bad) IPv4 literal or a DNS name
        # is spec-silent. This reference: a bad IPv4 literal.
        amb.add("ipv4-out-of-range")
        # decisions.md, Server ACLs 1: "`256.1.1.1`, `1.2.3`, ... are DNS names by the grammar"
        return DECISIONS
    return True


def valid_opaque_event_id(s, amb):
    """v1-2 event IDs: $opaque_id:domain (fragments/v1-event-ids.md), at most 255 bytes
    (appendices "Event IDs")."""
    if fr.utf8len(s) > 255:
        return False
    if not s.startswith("$") or ":" not in s:
        return False
    loc, dom = s[1:].split(":", 1)
    if not fr.opaque_ok(loc):
        amb.add("v1-opaque-id-chars")  # "a locally-unique string": the room ID's localpart rule
        return False
    return valid_server_name(dom, amb)


def answer(req):
    op = req.get("op", "event")
    if op == "event":
        return answer_event(req)
    amb = set()
    try:
        s = base64.b64decode(req.get("s", "")).decode("utf-8")
    except UnicodeDecodeError:
        # not a string of Unicode code points (invalid UTF-8, or a surrogate's 3-byte form):
        # no identifier grammar admits it
        return {"ok": False, "amb": []}
    if op == "server":
        ok = valid_server_name(s, amb)
    else:
        ok = valid_opaque_event_id(s, amb)
    return {"ok": ok, "amb": sorted(amb)}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = answer(json.loads(line))
        except Exception as e:  # a harness problem, reported as such
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

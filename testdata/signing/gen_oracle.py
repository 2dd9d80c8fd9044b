#!/usr/bin/env python3
"""Writes oracle_events.json: expected content hashes, event IDs and signatures computed by an
implementation independent of roomproto's Go code (Python's json, hashlib and the
`cryptography` package's Ed25519, following the spec's own example code in server-server-api
"Signing Events" and appendices "Signing JSON"). The Go tests compare roomproto against it.

Only the redaction rules needed by the events below are implemented (message, member, create,
power_levels, join_rules). Run from anywhere: python3 testdata/signing/gen_oracle.py
"""
import base64, copy, hashlib, json, os
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))


def canonical(v):  # appendices "Canonical JSON", the spec's own Python
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def b64(b):
    return base64.b64encode(b).decode().rstrip("=")


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def seed_for(server):  # the bench corpus convention: seed = sha256(server name)
    return hashlib.sha256(server.encode()).digest()


def redact(ev, ver):
    """The redaction algorithm (rooms/fragments/v1-redactions.md ... v11-redactions.md) for
    the event types used here."""
    v = int(ver)
    keep = ["event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
            "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"]
    if v <= 10:
        keep += ["origin", "membership", "prev_state"]
    out = {k: copy.deepcopy(ev[k]) for k in keep if k in ev}
    c, t = ev.get("content", {}), ev.get("type")
    ck = []
    if t == "m.room.member":
        ck = ["membership"] + (["join_authorised_via_users_server"] if v >= 9 else [])
    elif t == "m.room.create":
        ck = list(c.keys()) if v >= 11 else ["creator"]
    elif t == "m.room.join_rules":
        ck = ["join_rule"] + (["allow"] if v >= 8 else [])
    elif t == "m.room.power_levels":
        ck = ["ban", "events", "events_default", "kick", "redact", "state_default", "users",
              "users_default"] + (["invite"] if v >= 11 else [])
    out["content"] = {k: copy.deepcopy(c[k]) for k in ck if k in c}
    return out


def content_hash(ev):
    e = {k: v for k, v in ev.items() if k not in ("unsigned", "signatures", "hashes")}
    return hashlib.sha256(canonical(e)).digest()


def reference_hash(ev, ver):
    r = redact(ev, ver)
    r.pop("signatures", None)
    r.pop("unsigned", None)
    return hashlib.sha256(canonical(r)).digest()


def sign_event(ev, ver, server):  # server-server-api "Example code", hash_and_sign_event
    ev = copy.deepcopy(ev)
    ev["hashes"] = {"sha256": b64(content_hash(ev))}
    r = redact(ev, ver)
    r.pop("signatures", None)
    r.pop("unsigned", None)
    sig = Ed25519PrivateKey.from_private_bytes(seed_for(server)).sign(canonical(r))
    ev.setdefault("signatures", {}).setdefault(server, {})["ed25519:1"] = b64(sig)
    return ev


def event_id(ev, ver):
    v = int(ver)
    if v <= 2:
        return ev["event_id"]
    h = reference_hash(ev, ver)
    return "$" + (b64(h) if v == 3 else b64url(h))


def base(**kw):
    ev = {
        "room_id": "!room:a.example", "sender": "@alice:a.example", "origin": "a.example",
        "origin_server_ts": 1700000000000, "depth": 5, "prev_events": [], "auth_events": [],
        "hashes": {}, "signatures": {}, "unsigned": {"age_ts": 1700000000000},
    }
    ev.update(kw)
    return ev


BODY = ("Grüße aus Köln — 日本語のテキスト, <b>HTML</b> & \"quotes\" \\ backslash, tab\tnewline\n"
        "emoji 😀 and the line separator \u2028 end. ") * 6

EVENTS = [
    ("message with a long non-ASCII body", base(type="m.room.message", content={
        "msgtype": "m.text", "body": BODY, "format": "org.matrix.custom.html",
        "formatted_body": "<p>" + BODY + "</p>", "m.mentions": {"user_ids": ["@bob:b.example"]}})),
    ("member join", base(type="m.room.member", state_key="@alice:a.example", content={
        "membership": "join", "displayname": "Alice", "avatar_url": "mxc://a.example/x"})),
    ("restricted join signed by two servers", base(type="m.room.member", sender="@bob:b.example",
        origin="b.example", state_key="@bob:b.example", content={
        "membership": "join", "displayname": "Bob",
        "join_authorised_via_users_server": "@alice:a.example"})),
    ("power levels", base(type="m.room.power_levels", state_key="", content={
        "users": {"@alice:a.example": 100, "@bob:b.example": 50}, "users_default": 0,
        "events": {"m.room.name": 50, "m.room.power_levels": 100}, "events_default": 0,
        "state_default": 50, "ban": 50, "kick": 50, "redact": 50, "invite": 0,
        "notifications": {"room": 50}})),
    ("create", base(type="m.room.create", state_key="", depth=1, content={
        "creator": "@alice:a.example", "room_version": "X", "m.federate": True})),
]

cases = []
for ver in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]:
    for i, (name, ev) in enumerate(EVENTS):
        if name.startswith("restricted") and int(ver) < 8:
            continue
        ev = copy.deepcopy(ev)
        if ev["type"] == "m.room.create":
            ev["content"]["room_version"] = ver
            if int(ver) >= 11:
                del ev["content"]["creator"]
            if int(ver) >= 12:
                del ev["room_id"]  # rooms/v12.md: the create event has no room_id
        if int(ver) <= 2:
            ev["event_id"] = "$%d-%s:a.example" % (i, ver)
            ev["prev_events"] = [["$prev:a.example", {"sha256": "abc"}]]
        servers = ["b.example", "a.example"] if name.startswith("restricted") else ["a.example"]
        signed = ev
        for s in servers:
            signed = sign_event(signed, ver, s)
        cases.append({
            "name": "%s (room version %s)" % (name, ver),
            "spec": "server-server-api Signing Events; appendices Signing JSON; event IDs per room version",
            "room_version": ver,
            "servers": servers,
            "input": ev,
            "content_hash": b64(content_hash(ev)),
            "event_id": event_id(signed, ver),
            "signed": signed,
        })

with open(os.path.join(HERE, "oracle_events.json"), "w", encoding="utf-8") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
    f.write("\n")
print("wrote %d cases" % len(cases))

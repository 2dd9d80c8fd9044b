#!/usr/bin/env python3
"""signref: an independent reference of the bytes a server produces when it hashes and signs an
event (and when it adds its signature to an event another server made), and of content hashes,
reference hashes and event IDs, for room versions 1-12.

Written from the spec text only (/work/shared/spec), before reading roomproto's signing/*.go:
  server-server-api.md  "Signing Events" > "Adding hashes and signatures to outgoing events",
                        "Validating hashes and signatures on received events",
                        "Calculating the reference hash for an event",
                        "Calculating the content hash for an event", "Example code";
  appendices.md         "Unpadded Base64", "URL-safe unpadded Base64", "Signing JSON" >
                        "Canonical JSON", "Signing Details" (sign_json), "Checking for a
                        Signature", "Server Name", "Common Identifier Format", "Event IDs",
                        "Cryptographic Test Vectors";
  rooms/fragments       v1-event-ids.md, v4-event-ids.md, rooms/v3.md "Event IDs",
                        v5-signing-requirements.md, v*-redactions.md (through verifyref),
                        v8-auth-rules.md rule 4.2 (join_authorised_via_users_server).
For canonical JSON, the redaction algorithms, the event format and "Checking for a Signature" it
imports tools/verifyref/verifyref.py (also written from the spec only; read again for this audit,
see README.md). Standard library plus `cryptography` (ed25519).

Protocol: one JSON object per line on stdin, one answer per line on stdout.
  {"op": "sign" | "countersign", "v": "9", "ev": "<event JSON text>", "server": "a.example",
   "seed": "<unpadded b64 32-byte seed>", "kv": "<key version>"}
                                  -> {"out": "<signed event, canonical JSON>"} | {"err": kind}
  {"op": "content_hash" | "ref_hash", "v", "ev"}   -> {"out": "<unpadded b64>"} | {"err": kind}
  {"op": "check_hash", "v", "ev"}  -> {"out": "ok"} | {"err": "malformed"|"nohash"|"mismatch"}
  {"op": "event_id", "v", "ev"}    -> {"out": "$..."} | {"err": kind}
  {"op": "parse", "v", "ev"}       -> {"out": {"event_id": ..., "required": [...] | null,
                                      "required_err": kind | null, "tpi": bool}} | {"err": kind}
  {"op": "server_name", "id"}      -> {"out": "<name>", "ok": bool}
  {"op": "new_key", "kv", "seed"}  -> {"out": "<unpadded b64 public key>"} | {"err": "key"}
  {"op": "verify", "v", "ev", "keys"}   -> verifyref's answer (verdict, kinds)
Every answer has "amb": the spec-silent corners the answer went through.

Error kinds: "malformed" (not a JSON object the room version accepts, `signatures` of the wrong
shape, an ID without a server name), "key" (an unusable signing key).

SIGNREF_DECISIONS=1 makes the reference adopt the readings of roomproto's docs/decisions.md where
the spec is silent (see DECISIONS below and README.md); the default is this reference's own.
"""
import base64
import codecs
import hashlib
import json
import os
import re
import sys

DECISIONS = os.environ.get("SIGNREF_DECISIONS") == "1"
if DECISIONS:
    os.environ["VERIFYREF_DECISIONS"] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "verifyref"))
import verifyref as vr  # noqa: E402

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402


class Fail(Exception):
    def __init__(self, kind, why):
        self.kind, self.why = kind, why


def b64(b):
    """Unpadded Base64 (appendices): RFC 4648 standard alphabet, no '='."""
    return base64.b64encode(b).decode().rstrip("=")


def b64url(b):
    """URL-safe unpadded Base64 (appendices): '-' and '_' for the 62nd and 63rd characters."""
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def b64d(s):
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def b64_lenient(s, amb):
    """appendices "Unpadded Base64": "implementations SHOULD accept input with or without
    padding characters wherever possible". None when s does not decode."""
    core = s.rstrip("=")
    pad = len(s) - len(core)
    if "=" in core or len(core) % 4 == 1:
        return None
    need = (-len(core)) % 4
    if pad > need:
        return None  # more '=' than RFC 4648 padding has
    if 0 < pad < need:
        amb.add("b64-partial-padding")
        if not DECISIONS:
            return None  # neither padded nor unpadded
    if any(c in core for c in "-_"):
        # The URL-safe alphabet is another encoding (appendices "URL-safe unpadded Base64").
        amb.add("urlsafe-b64")
        if not DECISIONS:
            return None
        core = core.replace("-", "+").replace("_", "/")  # signing 1, mixed alphabets too
    try:
        return base64.b64decode(core + "=" * need, validate=True)
    except Exception:
        return None


# ---------------------------------------------------------------- reading an event

def load(v, text, amb):
    """The event as a JSON object for room version v: lenient canonical JSON in v1-5
    (v1-canonical-json.md), strict from v6 (v6-canonical-json.md)."""
    try:
        ev, dup = vr.parse_json(text, amb)
    except (ValueError, RecursionError) as e:
        raise Fail("malformed", "not JSON: %s" % e)
    if not isinstance(ev, dict):
        raise Fail("malformed", "not a JSON object")
    if depth(ev) > 127:
        # The spec sets no nesting limit.
        amb.add("nesting-depth")
        if DECISIONS:
            raise Fail("malformed", "nested too deep")  # canonicaljson 20: 127 levels
    if dup and v.strict and DECISIONS:
        # canonicaljson decision: strict canonical JSON refuses a key given twice.
        raise Fail("malformed", "duplicate key (strict)")
    why = vr.check_numbers(ev, v.strict, amb)
    if why:
        raise Fail("malformed", why)
    if v.strict and DECISIONS:
        try:
            _vr_canonical_bytes(ev)
        except UnicodeEncodeError:
            amb.add("lone-surrogate")
            raise Fail("malformed", "lone surrogate (strict)")  # canonicaljson 8
    canon(ev, amb)  # lone surrogates
    return ev


_vr_canonical_bytes = vr.canonical_bytes
_vr_check_format = vr.check_format


def _check_format(v, ev, amb):
    """verifyref's format check, except for a v3+ `event_id` that is not a string: rooms/v3.md
    says the field "is no longer included"; no format of v3+ defines it, so what it may hold
    is not said (verifyref wants a string)."""
    if isinstance(ev, dict) and v.n >= 3 and "event_id" in ev and not isinstance(ev["event_id"], str):
        amb.add("v3-event-id-nonstring")
        if DECISIONS:
            # pdu "Keys outside the format take any value".
            ev = {k: x for k, x in ev.items() if k != "event_id"}
    return _vr_check_format(v, ev, amb)


vr.check_format = _check_format


def _lenient_bytes(x):
    return vr.canonical(x).encode("utf-8", "signref-lone-surrogate")


def _lone_escape(e):
    return "".join("\\u%04x" % ord(c) for c in e.object[e.start:e.end]), e.end


codecs.register_error("signref-lone-surrogate", _lone_escape)


def depth(x):
    """Nesting depth: a scalar 0, an empty object or array 1."""
    d, stack = 0, [(x, 1)]
    while stack:
        y, k = stack.pop()
        if isinstance(y, dict):
            d = max(d, k)
            stack.extend((z, k + 1) for z in y.values())
        elif isinstance(y, list):
            d = max(d, k)
            stack.extend((z, k + 1) for z in y)
    return d


def canon(x, amb):
    try:
        return _vr_canonical_bytes(x)
    except UnicodeEncodeError:
        # A "\ud800" escape names no Unicode scalar value: canonical JSON is UTF-8 of code
        # points, so the spec gives such a string no encoding.
        amb.add("lone-surrogate")
        if DECISIONS:
            # canonicaljson 12 (v1-5; v6+ refuse them in load): written as lowercase \udxxx
            # escapes, sorted by their code point (Python's str order).
            return vr.canonical(x).encode("utf-8", "signref-lone-surrogate")
        raise Fail("malformed", "lone surrogate")


def content_hash(ev, amb):
    """server-server-api "Calculating the content hash for an event"."""
    body = {k: x for k, x in ev.items() if k not in ("unsigned", "signatures", "hashes")}
    return hashlib.sha256(canon(body, amb)).digest()


def redact(v, ev, amb):
    if "content" in ev and not isinstance(ev["content"], dict):
        # "The content object must also be stripped of all keys": the spec assumes an object;
        # what is kept of a `content` that is not one is not said. Own reading: the algorithm
        # strips keys of objects only, so the value is kept as it is.
        amb.add("redact-nonobject-content")
    if "content" not in ev:
        # The algorithm only strips keys; own reading: no `content` is added.
        amb.add("redact-no-content")
    r = vr.redact(v, ev, amb)
    if DECISIONS:
        # redaction: the output always has a `content` object ({} when the event had none or
        # had a value that is not an object).
        if not isinstance(r.get("content"), dict):
            r["content"] = {}
    return r


def reference_hash(v, ev, amb):
    """server-server-api "Calculating the reference hash for an event"."""
    r = redact(v, ev, amb)
    r.pop("signatures", None)
    r.pop("unsigned", None)
    return hashlib.sha256(canon(r, amb)).digest()


# ---------------------------------------------------------------- keys

KEY_VERSION = re.compile(r"^[A-Za-z0-9_]+$")


def key_version_ok(kv, amb):
    """appendices "Signing Details": the signing key identifier is "the concatenation of the
    signing algorithm and a key identifier", `ed25519:1` in the test vectors.  The extract has no
    grammar for the key identifier (the server keys API, which has one, is not copied)."""
    if not isinstance(kv, str):
        return False
    if DECISIONS:
        # signing 2 and 13 (NewSigningKey, and since 2026-12-01 every signing function): 1 to
        # 255 characters from [a-zA-Z0-9_].
        return bool(KEY_VERSION.match(kv)) and len(kv) <= 255
    if kv == "":
        # "a key identifier" names something; ParseKeyRing refuses "ed25519:" too.
        amb.add("key-version-empty")
        return False
    if not KEY_VERSION.match(kv) or len(kv) > 255:
        amb.add("key-version-charset")
    return True


def private_key(seed_b64, kv, amb):
    try:
        seed = b64d(seed_b64)
    except Exception:
        raise Fail("key", "seed not base64")
    if len(seed) != 32:
        raise Fail("key", "seed not 32 bytes")
    if not key_version_ok(kv, amb):
        raise Fail("key", "bad key version")
    return Ed25519PrivateKey.from_private_bytes(seed)


# ---------------------------------------------------------------- signing

def sign_json(obj, priv, kv, server, amb):
    """appendices "Signing Details", sign_json: `signatures` and `unsigned` are popped, the rest
    is signed as canonical JSON, the signature is added under signatures[server]["ed25519:kv"]
    (setdefault: the server's other key IDs stay) and `unsigned` is put back."""
    sigs = obj.pop("signatures", {})
    unsigned = obj.pop("unsigned", None)
    if not isinstance(sigs, dict):
        raise Fail("malformed", "signatures not an object")
    sig = priv.sign(canon(obj, amb))
    ent = sigs.setdefault(server, {})
    if not isinstance(ent, dict):
        raise Fail("malformed", "signatures.%s not an object" % server)
    ent["ed25519:" + kv] = b64(sig)
    obj["signatures"] = sigs
    if unsigned is not None:
        obj["unsigned"] = unsigned
    return obj


def sign_event(v, ev, server, priv, kv, amb, counter):
    """server-server-api "Adding hashes and signatures to outgoing events" and its "Example
    code" (hash_and_sign_event); with counter, the signature alone is added (as on /send_join
    and /invite: the event another server hashed and signed keeps its `hashes`)."""
    if "signatures" in ev and not isinstance(ev["signatures"], dict):
        raise Fail("malformed", "signatures not an object")
    for srv, ent in ev.get("signatures", {}).items():
        if srv != server and not isinstance(ent, dict):
            # sign_json touches only the signer's entry; whether a signer may (or must) refuse
            # an event whose other servers' entries are not objects is not said.
            amb.add("sigs-other-nonobject")
        if DECISIONS and not (isinstance(ent, dict) and all(isinstance(x, str) for x in ent.values())):
            # signing 13: events' `signatures` must be server -> key ID -> string.
            raise Fail("malformed", "signatures.%s not an object of strings" % srv)
    if not counter:
        # event_object["hashes"] = {"sha256": ...}: any previous `hashes` is replaced.
        ev["hashes"] = {"sha256": b64(content_hash(ev, amb))}
    else:
        if not isinstance(ev.get("hashes"), dict) or "sha256" not in ev["hashes"]:
            # Countersigning an event that has no content hash: the spec has no countersign
            # operation; own reading: it is signed as it is.
            amb.add("countersign-no-hash")
        ent = ev.get("signatures", {}).get(server)
        if isinstance(ent, dict) and any(k != "ed25519:" + kv for k in ent):
            # sign_json keeps the signer's other key IDs (setdefault); whether a server
            # countersigning an event replaces signatures already under its name is not said.
            # signing 13 (docs/decisions.md): CountersignEvent replaces the signer's whole
            # entry (a stale or forged signature by a key a receiver knows would get the event
            # rejected), but for an `ed25519:policy_server` signature: server-server-api
            # "Validating Policy Server signatures" puts it "alongside the normal event
            # signatures" of the Policy Server's name.
            amb.add("countersign-own-other-keyid")
            if DECISIONS:
                ev["signatures"][server] = {k: x for k, x in ent.items() if k == "ed25519:policy_server"}
    stripped = redact(v, ev, amb)
    signed = sign_json(stripped, priv, kv, server, amb)
    # "Copy the signatures from the stripped event to the original event."
    ev["signatures"] = signed["signatures"]
    return ev


# ---------------------------------------------------------------- IDs

def server_name(ident):
    """appendices "Common Identifier Format": `&string`, a localpart, ':' and the server name;
    localparts of room and event IDs exclude ':' (appendices "Room IDs"), so the server name
    is everything after the first ':'."""
    if not isinstance(ident, str) or ":" not in ident:
        return None
    d = ident.split(":", 1)[1]
    return d or None


SERVER_NAME = re.compile(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(:\d{1,5})?$")


def valid_server_name(d):
    """appendices "Server Name": the grammar, and IPv4 numbers 0-255."""
    m = SERVER_NAME.match(d)
    if not m:
        return False
    h = m.group(1)
    if re.match(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$", h):
        return all(int(x) <= 255 for x in h.split("."))
    return True


def v1_event_id_problem(eid, amb):
    """v1-event-ids.md: `$opaque_id:domain`, domain a server name; appendices "Event IDs": at
    most 255 bytes. The opaque part is "a locally-unique string"."""
    if not isinstance(eid, str):
        return "event_id not a string"
    if not eid.startswith("$") or ":" not in eid:
        return "event_id not $opaque_id:domain"
    opaque, dom = eid[1:].split(":", 1)
    if not valid_server_name(dom):
        return "event_id domain not a server name"
    try:
        if len(eid.encode("utf-8")) > 255:
            return "event_id longer than 255 bytes"
    except UnicodeEncodeError:
        amb.add("v1-event-id-opaque")
        return "event_id with a lone surrogate"
    if "\x00" in opaque:
        # The opaque part of a room ID excludes NUL (appendices "Room IDs"); of an event ID,
        # the fragment says only "a locally-unique string".
        amb.add("v1-event-id-opaque")
        if DECISIONS:
            return "event_id with NUL"  # pdu.CheckOpaqueEventID
    return None


def event_id(v, ev, amb):
    if v.n <= 2:
        # v1-event-ids.md: the event's own `event_id`, `$opaque_id:domain`.
        eid = ev.get("event_id")
        if not isinstance(eid, str):
            raise Fail("malformed", "no event_id")
        why = v1_event_id_problem(eid, amb)
        if why:
            raise Fail("malformed", why)
        return eid
    h = reference_hash(v, ev, amb)
    if "event_id" in ev:
        # rooms/v3.md: "the event_id field is no longer included"; the redaction algorithm keeps
        # `event_id`, so a v3+ event that carries one hashes it.
        amb.add("v3-event-id-field")
    if v.n == 3:
        return "$" + b64(h)
    return "$" + b64url(h)


def is_tpi(ev):
    """server-server-api: "If the event is a 3rd party invite": an m.room.member invite whose
    content has `third_party_invite`."""
    c = ev.get("content")
    return (ev.get("type") == "m.room.member" and isinstance(c, dict)
            and c.get("membership") == "invite" and "third_party_invite" in c)


def required(v, ev, amb):
    """server-server-api "Validating hashes and signatures on received events" and, from v8,
    auth rule 4.2 (the server of join_authorised_via_users_server)."""
    out = []
    snd = server_name(ev.get("sender"))
    tpi = is_tpi(ev)
    if not tpi:
        if snd is None:
            raise Fail("malformed", "sender without server name")
        out.append(snd)
    if v.n <= 2:
        d = server_name(ev.get("event_id"))
        if d is None:
            raise Fail("malformed", "event_id without server name")
        if d != snd and d not in out:
            out.append(d)
    c = ev.get("content")
    if v.n >= 8 and ev.get("type") == "m.room.member" and isinstance(c, dict) and \
            "join_authorised_via_users_server" in c:
        join = c.get("membership") == "join"
        if not join:
            # Rule 4.2 applies to every membership; the signature section names none.
            amb.add("authvia-nonjoin")
        if join or not DECISIONS:
            d = server_name(c["join_authorised_via_users_server"])
            if d is None:
                raise Fail("malformed", "join_authorised_via_users_server without server name")
            if d not in out:
                out.append(d)
    return out


# ---------------------------------------------------------------- ops

def op(req, amb):
    o = req["op"]
    if o == "server_name":
        d = server_name(req["id"])
        return {"out": d or "", "ok": d is not None}
    if o == "new_key":
        priv = private_key(req["seed"], req["kv"], amb)
        pub = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
        return {"out": b64(pub)}
    v = vr.V(req["v"])
    if o == "verify":
        # verifyref's -decisions mode predates canonicaljson decision 12 (lone surrogates in
        # v1-5 written as \udxxx escapes): give it this reference's encoder for those versions.
        vr.canonical_bytes = _lenient_bytes if (DECISIONS and v.n <= 5) else _vr_canonical_bytes
        if v.n <= 2:
            # verifyref's format check holds the v1-2 event_id to a string only.
            try:
                e = vr.parse_json(req["ev"], set())[0]
            except (ValueError, RecursionError):
                e = None
            if isinstance(e, dict) and "event_id" in e:
                why = v1_event_id_problem(e["event_id"], amb)
                if why:
                    return {"out": "reject", "kinds": ["malformed"], "why": why}
        r = vr.verify({"v": req["v"], "ev": req["ev"], "keys": req.get("keys") or {}})
        amb |= set(r.get("amb", []))
        return {"out": r["verdict"], "kinds": r["kinds"], "why": r["why"]}
    ev = load(v, req["ev"], amb)
    if o in ("sign", "countersign"):
        priv = private_key(req["seed"], req["kv"], amb)
        out = sign_event(v, ev, req["server"], priv, req["kv"], amb, o == "countersign")
        return {"out": canon(out, amb).decode("utf-8")}
    if o == "content_hash":
        return {"out": b64(content_hash(ev, amb))}
    if o == "ref_hash":
        return {"out": b64(reference_hash(v, ev, amb))}
    if o == "event_id":
        return {"out": event_id(v, ev, amb)}
    if o == "check_hash":
        h = ev.get("hashes")
        if not isinstance(h, dict) or not isinstance(h.get("sha256"), str):
            raise Fail("nohash", "no hashes.sha256 string")
        got = b64_lenient(h["sha256"], amb)
        s = h["sha256"]
        if got is not None and b64(got) != s.rstrip("="):
            # The encoder's last character carries bits the bytes do not use: "It is safe ... to
            # reject a value which is not encoded properly. However, this is optional".
            amb.add("b64-noncanonical-bits")
        if got != content_hash(ev, amb):
            raise Fail("mismatch", "content hash mismatch")
        return {"out": "ok"}
    if o == "parse":
        why = vr.check_format(v, ev, amb)
        if not why and v.n <= 2:
            why = v1_event_id_problem(ev["event_id"], amb)
        if why:
            raise Fail("malformed", why)
        res = {"event_id": event_id(v, ev, amb), "tpi": is_tpi(ev), "required": None,
               "required_err": None}
        try:
            res["required"] = required(v, ev, amb)
        except Fail as f:
            res["required_err"] = f.kind
        return {"out": res}
    raise ValueError("unknown op " + o)


def answer(req):
    amb = set()
    try:
        a = op(req, amb)
    except Fail as f:
        a = {"err": f.kind, "why": f.why}
    a["amb"] = sorted(amb)
    return a


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

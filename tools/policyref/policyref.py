#!/usr/bin/env python3
"""policyref: an independent reference of a receiving homeserver's Policy Server decisions.

Written from the Matrix spec text only: server-server-api "Policy Servers" (added in v1.18):
"Determining if a Policy Server is enabled in a room", "Validating Policy Server signatures",
"Asking for a Policy Server signature on an event"; "Checks performed on receipt of a PDU" (check
7, soft failure); "Signing Events"; appendices "Signing JSON" ("Checking for a Signature",
"Canonical JSON"), "Unpadded Base64"; the redaction algorithm of every room version; and, from
the public matrix-spec repository (they are not in the local extract), room_policy.yaml (POST
/_matrix/policy/v1/sign) and the m.room.policy event schema. Python 3 standard library plus
`cryptography` for ed25519.

Protocol: one JSON object per line on stdin, one answer per line on stdout.

  {"op": "check", "v": "9", "state": ["<raw state event>", ...], "event": "<raw event>"}
    -> {"uses": bool, "server": via, "key": public key string, "exempt": bool,
        "verdict": "ok" | "missing" | "bad" | "invalid_key", "amb": [flags]}
  {"op": "add", "v": "9", "event": "<raw event>", "ps": {"name": s, "key": k},
   "response": "<raw /sign response body>"}
    -> {"verdict": "ok" | "missing" | "bad" | "invalid_key" | "malformed",
        "out": "<canonical JSON of the signed event>" (ok only), "amb": [flags]}
  Either may answer {"invalid": why} for an input it cannot judge, {"error": why} for a bug.

`amb` names the spec-silent corners an answer went through (README.md). With the environment
variable POLICYREF_DECISIONS=1 the reference adopts roomproto's recorded readings
(docs/decisions.md "## Policy servers") of those corners instead of its own.
"""
import base64
import binascii
import json
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DECISIONS = os.environ.get("POLICYREF_DECISIONS") == "1"

POLICY_TYPE = "m.room.policy"
# "The Key ID for the ed25519 key in m.room.policy is *always* ed25519:policy_server."
KEY_ID = "ed25519:policy_server"
# client-server-api "Size limits": "The complete event MUST NOT be larger than 65536 bytes,
# when formatted with the federation event format, including any signatures, and encoded as
# Canonical JSON."
MAX_EVENT = 65536


class Invalid(Exception):
    """An input the reference does not judge (e.g. duplicate JSON keys)."""


# --- JSON ----------------------------------------------------------------------------------

def _no_dups(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Invalid("duplicate key " + k)
        d[k] = v
    return d


def _bad_const(x):
    raise ValueError("not JSON: " + x)


def loads(s):
    """Strict JSON (no NaN/Infinity); duplicate keys raise Invalid."""
    return json.loads(s, object_pairs_hook=_no_dups, parse_constant=_bad_const)


def canonical(obj):
    """appendices "Canonical JSON": keys sorted by code point, no insignificant whitespace,
    UTF-8, only the escapes the grammar requires (json.dumps with ensure_ascii=False escapes
    exactly `"`, `\\` and U+0000-U+001F, using the short forms and lowercase \\u00XX)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                      allow_nan=False)


# --- base64 (appendices "Unpadded Base64") ----------------------------------------------------

_B64 = re.compile(r"^[A-Za-z0-9+/]*(={0,2})$")
_B64_LENIENT = re.compile(r"^([A-Za-z0-9+/_-]*)(=*)$")


def _b64_decisions(s, amb):
    """docs/decisions.md (signing) 1, which (policy servers) 2 applies to Policy Server keys and
    signatures: unpadded standard base64, also with some or all of its `=` padding and with the
    URL-safe `-` and `_` (even mixed); no whitespace, no excess or misplaced `=`; unused low bits
    ignored."""
    m = _B64_LENIENT.match(s)
    if not m:
        return None
    body, pad = m.group(1), m.group(2)
    if len(body) % 4 == 1 or len(pad) > (-len(body)) % 4:
        return None
    body = body.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def b64decode(s, amb):
    """Standard alphabet; "implementations SHOULD accept input with or without padding
    characters". Returns None for a string that is not base64."""
    if not isinstance(s, str):
        return None
    out = _b64_own(s, amb)
    if out is None and _b64_decisions(s, set()) is not None:
        amb.add("b64-urlsafe-or-partial-padding")
    if DECISIONS:
        return _b64_decisions(s, amb)
    return out


def _b64_own(s, amb):
    m = _B64.match(s)
    if not m:
        # URL-safe unpadded base64 (appendices) is only for event IDs; keys and signatures are
        # "unpadded Base64" ("'standard' Base64 encoding as defined in RFC 4648")
        return None
    body = s.rstrip("=")
    if m.group(1):
        if len(s) % 4 != 0:
            return None
        amb.add("b64-padded")
    if len(body) % 4 == 1:
        return None
    try:
        out = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    # bits left over in the last character that are not zero: RFC 4648 3.5 lets a decoder
    # reject such input; the spec is silent.
    if base64.b64encode(out).decode().rstrip("=") != body:
        amb.add("b64-trailing-bits")
    return out


# --- server names (appendices "Server Name") --------------------------------------------------

_SERVER = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Za-z.-]{1,255})(?::[0-9]{1,5})?$")


def is_server_name(s):
    return isinstance(s, str) and bool(_SERVER.match(s))


def server_of(user_id, amb=None):
    """appendices "User Identifiers": a user ID has the form @localpart:domain; the domain is
    everything after the first colon. A string without the `@` sigil is no user ID."""
    if not isinstance(user_id, str) or ":" not in user_id:
        return None
    if not user_id.startswith("@"):
        if amb is not None:
            amb.add("member-not-user-id")
        return None
    return user_id.split(":", 1)[1]


# --- redaction (per room version) -------------------------------------------------------------

_TOP_V1 = {"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
           "signatures", "depth", "prev_events", "prev_state", "auth_events", "origin",
           "origin_server_ts", "membership"}
_TOP_V11 = {"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
            "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"}


def _content_keys(v, typ):
    n = int(v)
    member = ["membership"]
    if n >= 9:
        member.append("join_authorised_via_users_server")
    pl = ["ban", "events", "events_default", "kick", "redact", "state_default", "users",
          "users_default"]
    if n >= 11:
        pl.append("invite")
    keys = {
        "m.room.member": member,
        "m.room.join_rules": ["join_rule", "allow"] if n >= 8 else ["join_rule"],
        "m.room.power_levels": pl,
        "m.room.history_visibility": ["history_visibility"],
    }
    if n <= 10:
        keys["m.room.create"] = ["creator"]
    if n <= 5:
        keys["m.room.aliases"] = ["aliases"]
    if n >= 11:
        keys["m.room.redaction"] = ["redacts"]
    return keys.get(typ)


def redact(v, ev):
    """fragments v1-redactions (v1-5), v6-redactions (v6-7), v8.md (v8), v9-redactions (v9-10),
    v11-redactions (v11-12)."""
    n = int(v)
    top = _TOP_V11 if n >= 11 else _TOP_V1
    out = {k: val for k, val in ev.items() if k in top}
    content = ev.get("content")
    typ = ev.get("type")
    if isinstance(content, dict):
        if n >= 11 and typ == "m.room.create":
            new = dict(content)
        else:
            new = {}
            for k in _content_keys(v, typ) or []:
                if k in content:
                    new[k] = content[k]
            if n >= 11 and typ == "m.room.member":
                tpi = content.get("third_party_invite")
                if isinstance(tpi, dict) and "signed" in tpi:
                    new["third_party_invite"] = {"signed": tpi["signed"]}
        out["content"] = new
    return out


def signed_bytes(v, ev):
    """server-server-api "Validating hashes and signatures on received events": the event is
    redacted, then checked as in appendices "Checking for a Signature" step 5-6: `signatures`
    and `unsigned` removed, the rest encoded as canonical JSON."""
    r = redact(v, ev)
    r.pop("signatures", None)
    r.pop("unsigned", None)
    return canonical(r).encode("utf-8")


# --- ed25519 ----------------------------------------------------------------------------------

_P = 2 ** 255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P


def _is_point(b):
    """Whether 32 bytes decode to a point of edwards25519 (RFC 8032 5.1.3), for tagging only."""
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    if y >= _P:
        return False
    u = (y * y - 1) % _P
    w = (_D * y * y + 1) % _P
    x2 = (u * pow(w, _P - 2, _P)) % _P
    if x2 == 0:
        return sign == 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = (x * pow(2, (_P - 1) // 4, _P)) % _P
    return (x * x - x2) % _P == 0


def _small_order_ys():
    """The y coordinates of the points of order dividing 8 (the eight-torsion group): 1 (the
    identity), p-1 (order 2), 0 (order 4) and the two of order 8."""
    ys = {1, _P - 1, 0}
    # A point P of order 8 doubles to one of order 4, whose y is 0. On -x^2 + y^2 = 1 + d x^2 y^2
    # doubling gives y(2P) = (y^2 + x^2) / (2 + x^2 - y^2), so x^2 = -y^2, and the curve
    # equation becomes d y^4 + 2 y^2 - 1 = 0: y^2 = (-1 +- sqrt(1 + d)) / d.
    inv_d = pow(_D, _P - 2, _P)
    for r in _sqrts(1 + _D):
        for y in _sqrts((-1 + r) * inv_d):
            ys.add(y)
    return ys


def _sqrts(a):
    a %= _P
    if a == 0:
        return [0]
    x = pow(a, (_P + 3) // 8, _P)
    if (x * x - a) % _P != 0:
        x = (x * pow(2, (_P - 1) // 4, _P)) % _P
    if (x * x - a) % _P != 0:
        return []
    return [x, (_P - x) % _P]


_SMALL_YS = _small_order_ys()


def _y_of(b):
    return int.from_bytes(b, "little") & ((1 << 255) - 1)


def libsodium_refuses(pub, sig):
    """docs/decisions.md (signing) 11: the refusals of libsodium's crypto_sign_verify_detached:
    a public key whose y is not below p, a public key of small order, an R of small order (sign
    bit ignored, y taken modulo p as libsodium's blocklist of encodings does)."""
    ya = _y_of(pub)
    if ya >= _P:
        return True
    if _is_point(pub) and ya in _SMALL_YS:
        return True
    return (_y_of(sig[:32]) % _P) in _SMALL_YS


def verify(pub, sig, msg, amb=None):
    if amb is not None and libsodium_refuses(pub, sig):
        amb.add("libsodium-refusal")
        if DECISIONS:
            return False
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


# --- "Determining if a Policy Server is enabled in a room" --------------------------------------

def policy_of(state, amb):
    """Returns (via, key) of the room's Policy Server, or None.

    "For a room to be considered as "using" a Policy Server, *all* of the following conditions
    MUST be true:
    * The *current state* for the room has a valid m.room.policy state event with empty state
      key. Valid means `content` contains at least:
      * A string value for `via`.
      * An object value for `public_keys` containing at least a string value for `ed25519`.
    * The server name denoted by the m.room.policy state event's `via` has at least one joined
      user in the room in *current state*."
    """
    pol = None
    for ev in state:
        if ev.get("type") == POLICY_TYPE and ev.get("state_key") == "":
            pol = ev
    if pol is None:
        return None
    c = pol.get("content")
    if not isinstance(c, dict):
        return None
    via = c.get("via")
    pks = c.get("public_keys")
    if not isinstance(via, str) or not isinstance(pks, dict) or not isinstance(pks.get("ed25519"), str):
        return None
    # m.room.policy.yaml: public_keys' additionalProperties are strings; the server-server
    # prose asks only for a string `ed25519`.
    if any(not isinstance(x, str) for x in pks.values()):
        amb.add("other-key-not-string")
    if not is_server_name(via):
        amb.add("via-not-server-name")
        if DECISIONS:
            # docs/decisions.md (policy servers) 1: a `via` that is not a server name names no
            # server: the room uses no Policy Server.
            return None
    joined = False
    for ev in state:
        if ev.get("type") != "m.room.member":
            continue
        mc = ev.get("content")
        if isinstance(mc, dict) and mc.get("membership") == "join" and server_of(ev.get("state_key"), amb) == via:
            joined = True
    if not joined:
        return None
    return via, pks["ed25519"]


def exempt(ev):
    """"Because the Policy Server is not asked to sign m.room.policy state events with empty
    string state_keys, those events will not have a Policy Server signature. ... All other
    events SHOULD have a valid Policy Server signature ..., including non-state m.room.policy
    events and m.room.policy state events with non-empty state_keys." """
    return ev.get("type") == POLICY_TYPE and ev.get("state_key") == ""


def decode_key(key, amb):
    pub = b64decode(key, amb)
    if pub is None or len(pub) != 32:
        return None
    if not _is_point(pub):
        amb.add("key-not-a-point")
    return pub


def check_sig(v, ev, via, key, sig, amb, key_first=False):
    """The Policy Server's signature `sig` (or None) of `via` on ev, checked as appendices
    "Checking for a Signature" does: 1. entry missing: fail; 3. no verification key: fail;
    4. signature not base64: fail; 5-7. verify over the redacted event's canonical JSON."""
    if sig is None:
        # "If the Policy Server's signature is invalid or missing ..."
        if decode_key(key, set()) is None:
            amb.add("missing-and-invalid-key")
            if DECISIONS and key_first:
                # docs/decisions.md (policy servers) 2: "every event it must sign is not
                # recommended (ErrInvalidKey)", signed or not. (AddSignature, whose doc lists
                # ErrMissingSignature first, reports a response without a signature as missing.)
                return "invalid_key"
        return "missing"
    pub = decode_key(key, amb)
    if pub is None:
        return "invalid_key"
    raw = b64decode(sig, amb)
    if raw is None or len(raw) != 64:
        return "bad"
    return "ok" if verify(pub, raw, signed_bytes(v, ev), amb) else "bad"


def op_check(req):
    amb = set()
    v = req["v"]
    state = [loads(s) for s in req["state"]]
    ev = loads(req["event"])
    if not isinstance(ev, dict):
        raise Invalid("event not an object")
    pol = policy_of(state, amb)
    out = {"uses": pol is not None, "exempt": exempt(ev)}
    if pol is None:
        # "If a room has disabled (or never enabled) a Policy Server, events are recommended
        # for inclusion and subject to normal authorization rules."
        out["verdict"] = "ok"
    else:
        via, key = pol
        out["server"], out["key"] = via, key
        if exempt(ev):
            out["verdict"] = "ok"
        else:
            sig = None
            sigs = ev.get("signatures")
            if isinstance(sigs, dict) and isinstance(sigs.get(via), dict):
                sig = sigs[via].get(KEY_ID)
            if sig is not None and not isinstance(sig, str):
                raise Invalid("signature not a string")
            out["verdict"] = check_sig(v, ev, via, key, sig, amb, key_first=True)
    out["amb"] = sorted(amb)
    return out


# --- AddSignature: the answer of POST /_matrix/policy/v1/sign ---------------------------------

def would_be_too_large(ev, name, sig):
    e = json.loads(json.dumps(ev))
    sigs = e.get("signatures")
    if not isinstance(sigs, dict):
        return False
    if not isinstance(sigs.get(name), dict):
        sigs[name] = {}
    sigs[name][KEY_ID] = sig
    return len(canonical(e).encode("utf-8")) > MAX_EVENT


def op_add(req):
    """room_policy.yaml 200: "Only the Policy Server's signature is returned. This signature is
    to be added to the event before sending or processing the event further.
    `ed25519:policy_server` is *always* used for Ed25519 signatures." Example body:
    {"policy.example.org": {"ed25519:policy_server": "<sig>"}}. Warning: "The policy server name
    might be the same as the event's origin, and therefore the event might have existing
    signatures. Those existing signatures might not be returned by the policy server, but
    should be retained to validate the event." "Asking for a Policy Server signature":
    "homeservers SHOULD validate the returned signature before continuing"."""
    amb = set()
    v = req["v"]
    name, key = req["ps"]["name"], req["ps"]["key"]
    try:
        ev = loads(req["event"])
    except (ValueError, RecursionError):
        return {"verdict": "malformed", "amb": []}
    if not isinstance(ev, dict):
        return {"verdict": "malformed", "amb": []}
    if not is_server_name(name):
        amb.add("name-not-server-name")
        if DECISIONS:
            # go doc policyserver.ErrMalformed: "a Server whose Name is no server name".
            return {"verdict": "malformed", "amb": sorted(amb)}
    try:
        resp = loads(req["response"])
    except (ValueError, RecursionError):
        return {"verdict": "malformed", "amb": sorted(amb)}
    if not isinstance(resp, dict):
        return {"verdict": "malformed", "amb": sorted(amb)}
    for srv, entry in resp.items():
        if srv != name:
            amb.add("response-other-server")
            if not isinstance(entry, dict) or any(not isinstance(x, str) for x in entry.values()):
                amb.add("response-other-server-malformed")
    if name in resp and resp[name] is None:
        amb.add("entry-null")
        if DECISIONS:
            # go doc policyserver.ErrMalformed: "a response that is not of the form of /sign's
            # answer" (not in docs/decisions.md)
            return {"verdict": "malformed", "amb": sorted(amb)}
    entry = resp.get(name)
    if entry is None:
        return {"verdict": "missing", "amb": sorted(amb)}
    if not isinstance(entry, dict):
        return {"verdict": "malformed", "amb": sorted(amb)}
    for kid, x in entry.items():
        if kid != KEY_ID:
            amb.add("response-other-key")
            if not isinstance(x, str):
                amb.add("response-other-key-malformed")
    if KEY_ID in entry and entry[KEY_ID] is None:
        amb.add("sig-null")
        if DECISIONS:
            # as entry-null
            return {"verdict": "malformed", "amb": sorted(amb)}
    sig = entry.get(KEY_ID)
    if sig is not None and not isinstance(sig, str):
        return {"verdict": "malformed", "amb": sorted(amb)}
    verdict = check_sig(v, ev, name, key, sig, amb)
    if verdict != "ok":
        if sig is not None and would_be_too_large(ev, name, sig):
            amb.add("too-large-and-not-ok")
            if DECISIONS:
                # go doc policyserver.ErrMalformed: "an event ... that the signature would take
                # past the size limit" (the order of the checks is not in docs/decisions.md)
                return {"verdict": "malformed", "amb": sorted(amb)}
        return {"verdict": verdict, "amb": sorted(amb)}
    sigs = ev.get("signatures")
    if sigs is None:
        sigs = ev["signatures"] = {}
    if not isinstance(sigs, dict):
        return {"verdict": "malformed", "amb": sorted(amb)}
    mine = sigs.get(name)
    if mine is None:
        mine = sigs[name] = {}
    if not isinstance(mine, dict):
        return {"verdict": "malformed", "amb": sorted(amb)}
    if KEY_ID in mine:
        amb.add("replaces-policy-signature")
    mine[KEY_ID] = sig
    out = canonical(ev)
    if len(out.encode("utf-8")) > MAX_EVENT:
        return {"verdict": "malformed", "amb": sorted(amb | {"too-large"})}
    return {"verdict": "ok", "out": out, "amb": sorted(amb)}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req["op"] == "check":
                ans = op_check(req)
            elif req["op"] == "add":
                ans = op_add(req)
            else:
                ans = {"error": "unknown op " + str(req.get("op"))}
        except Invalid as e:
            ans = {"invalid": str(e)}
        except Exception as e:  # a bug of the reference: reported, not hidden
            ans = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

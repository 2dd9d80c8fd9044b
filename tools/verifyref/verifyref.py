#!/usr/bin/env python3
"""Independent reference of what a receiving server concludes about the hashes and
signatures of a received PDU (room versions 1-12).

Written from the spec text only (/work/shared/spec):
  server-server-api.md  "Checks performed on receipt of a PDU" (steps 1-3),
                        "Signing Events" > "Adding hashes and signatures to outgoing events",
                        "Validating hashes and signatures on received events",
                        "Calculating the content hash for an event";
  appendices.md         "Signing JSON" > "Canonical JSON", "Signing Details",
                        "Checking for a Signature"; "Unpadded Base64";
  rooms/fragments       v1-redactions, v6-redactions, v9-redactions, v11-redactions,
                        rooms/v8.md "Redactions" (inline), v1/v6-canonical-json,
                        v5-signing-requirements (key validity from v5);
  fragments/v8-auth-rules.md rule 4.2 (join_authorised_via_users_server must be validly
                        signed by that user's server; also rooms/v10.md, v11.md, v12.md);
  data/api/server-server/definitions/pdu_v*.yaml and components/ (event format).

Standard library plus `cryptography` (ed25519).

Protocol: one JSON object per line on stdin
  {"v": "9", "ev": "<the received event as JSON text>",
   "keys": {"server": {"ed25519:1": {"key": "<unpadded b64>", "vu": <ms> | null}}}}
one JSON object per line on stdout
  {"verdict": "valid" | "redact" | "need-key" | "reject",
   "kinds": [...],   # acceptable error kinds for that verdict (malformed, missing, bad,
                     #  unknown, expired, nohash, hash); [] when valid
   "why": "...", "amb": [...]}

"amb" lists the spec-silent corners the verdict went through.  VERIFYREF_DECISIONS=1 makes the
reference adopt the readings of roomproto's docs/decisions.md where the spec is silent (see
DECISIONS below); the default is this reference's own reading.
"""
import math
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DECISIONS = os.environ.get("VERIFYREF_DECISIONS") == "1"

MAX_SAFE = 2 ** 53 - 1


class Verdict(Exception):
    def __init__(self, verdict, kinds, why):
        self.verdict, self.kinds, self.why = verdict, sorted(set(kinds)), why


def reject(kinds, why):
    raise Verdict("reject", kinds if isinstance(kinds, (list, set, tuple)) else [kinds], why)


# ---------------------------------------------------------------- JSON

class Num:
    """A JSON number literal that is not a plain integer (fraction or exponent)."""

    def __init__(self, text):
        self.text = text


class NegZero(int):
    """The integer literal -0."""


def parse_json(text, amb):
    dup = []

    def hook(pairs):
        d = {}
        for k, val in pairs:
            if k in d:
                dup.append(k)
            d[k] = val  # the last occurrence
        return d

    def const(name):
        raise ValueError("not JSON: " + name)

    def parse_int(t):
        return NegZero(0) if t == "-0" else int(t)

    v = json.loads(text, object_pairs_hook=hook, parse_float=Num, parse_int=parse_int,
                   parse_constant=const)
    if dup:
        amb.add("duplicate-keys")
    return v, bool(dup)


def walk(v):
    yield v
    if isinstance(v, dict):
        for x in v.values():
            yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)


def check_numbers(ev, strict, amb):
    """Canonical JSON numbers (appendices "Canonical JSON"): strictly enforced from v6
    (v6-canonical-json.md), not enforced before (v1-canonical-json.md)."""
    for x in walk(ev):
        if isinstance(x, Num):
            if strict:
                # "Float values are not permitted"; an integer written with an exponent or a
                # fraction ("1e10", "2.0") is a value the encoding can represent (the
                # appendix example canonicalises 1e10): spec-silent whether strict refuses.
                amb.add("strict-nonint-literal")
                return "number %s is not an integer literal" % x.text
            amb.add("lenient-float")
        elif isinstance(x, NegZero):
            # "negative zero -0 MUST NOT appear" (enforced from v6); the appendix example
            # canonicalises it to 0, which lenient versions do.
            if strict:
                return "-0"
        elif isinstance(x, int) and not isinstance(x, bool):
            if strict and not (-MAX_SAFE <= x <= MAX_SAFE):
                return "integer %d out of the canonical range" % x
    return None


def enc_str(s):
    return json.dumps(s, ensure_ascii=False)


def canonical(v):
    """Canonical JSON (appendices): shortest UTF-8, keys sorted by code point, no spaces."""
    if isinstance(v, dict):
        return "{" + ",".join(enc_str(k) + ":" + canonical(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    if isinstance(v, Num):
        # Not a canonical number: the spec gives no canonical form for floats (v1-5 only).
        f = float(v.text)
        if not math.isfinite(f):
            return v.text  # beyond a double (1e400): no integer form, kept as written
        if DECISIONS:
            # canonicaljson decision 10: an exponent form of an integer value within
            # +-(2^53-1) is written as that integer, every other number verbatim.
            if ("e" in v.text or "E" in v.text) and f == int(f) and abs(f) <= MAX_SAFE:
                return str(int(f))
            return v.text
        if f == int(f) and abs(f) <= MAX_SAFE:
            return str(int(f))
        return repr(f)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    return enc_str(v)


def canonical_bytes(v):
    return canonical(v).encode("utf-8")


def b64decode(s, amb):
    """Unpadded base64 (appendices): decoders SHOULD accept padding too."""
    if not isinstance(s, str):
        return None
    t = s.rstrip("=") if s.endswith("=") else s
    if any(c in t for c in "-_"):
        amb.add("urlsafe-b64")
        if not DECISIONS:
            return None
        t = t.replace("-", "+").replace("_", "/")
    if len(t) % 4 == 1:
        return None
    try:
        return base64.b64decode(t + "=" * (-len(t) % 4), validate=True)
    except Exception:
        return None


# ---------------------------------------------------------------- room versions

class V:
    def __init__(self, vid):
        n = int(vid)
        self.n = n
        self.strict = n >= 6          # v6-canonical-json
        self.key_validity = n >= 5    # v5-signing-requirements
        self.event_id_domain = n <= 2  # "Room versions 1 and 2 also require ..."
        self.authvia = n >= 8         # v8 auth rule 4.2
        self.v12 = n >= 12
        if n <= 5:
            self.redaction = "v1"
        elif n <= 7:
            self.redaction = "v6"
        elif n == 8:
            self.redaction = "v8"
        elif n <= 10:
            self.redaction = "v9"
        else:
            self.redaction = "v11"


TOP_V1 = ["event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
          "depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts",
          "membership"]
TOP_V11 = ["event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
           "depth", "prev_events", "auth_events", "origin_server_ts"]
PL_KEYS = ["ban", "events", "events_default", "kick", "redact", "state_default", "users",
           "users_default"]


def content_keep(alg, typ):
    """Content keys kept per event type, per redaction algorithm."""
    t = {
        "m.room.member": ["membership"],
        "m.room.create": ["creator"],
        "m.room.join_rules": ["join_rule"],
        "m.room.power_levels": PL_KEYS,
        "m.room.history_visibility": ["history_visibility"],
    }
    if alg == "v1":
        t["m.room.aliases"] = ["aliases"]
    if alg in ("v8", "v9", "v11"):
        t["m.room.join_rules"] = ["join_rule", "allow"]
    if alg in ("v9", "v11"):
        t["m.room.member"] = ["membership", "join_authorised_via_users_server"]
    if alg == "v11":
        t["m.room.create"] = None  # all keys
        t["m.room.power_levels"] = PL_KEYS + ["invite"]
        t["m.room.redaction"] = ["redacts"]
    return t.get(typ, [])


def redact(v, ev, amb):
    top = TOP_V11 if v.redaction == "v11" else TOP_V1
    out = {k: ev[k] for k in top if k in ev}
    if "content" in out and isinstance(out["content"], dict):
        c = out["content"]
        typ = ev.get("type")
        keep = content_keep(v.redaction, typ)
        if keep is None:
            nc = dict(c)
        else:
            nc = {k: c[k] for k in keep if k in c}
        if v.redaction == "v11" and typ == "m.room.member" and "third_party_invite" in c:
            # "Additionally, it allows the `signed` key of the `third_party_invite` key."
            tpi = c["third_party_invite"]
            if isinstance(tpi, dict):
                if "signed" in tpi:
                    nc["third_party_invite"] = {"signed": tpi["signed"]}
                else:
                    amb.add("v11-tpi-without-signed")
                    if DECISIONS:
                        nc["third_party_invite"] = {}
            else:
                amb.add("v11-tpi-not-object")
        out["content"] = nc
    return out


# ---------------------------------------------------------------- event format

def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def check_format(v, ev, amb):
    """pdu_v1/v3/v4/v6/v11/v12.yaml with components/pdu_base.yaml; returns a reason or None."""
    if not isinstance(ev, dict):
        return "not an object"
    req = ["sender", "origin_server_ts", "type", "content", "depth", "hashes", "signatures",
           "auth_events", "prev_events"]
    if v.n <= 2:
        req.append("event_id")
    is_create = ev.get("type") == "m.room.create"
    if not (v.v12 and is_create):
        req.append("room_id")
    for k in req:
        if k not in ev:
            return "missing " + k
    for k in ("sender", "type", "room_id", "event_id", "state_key", "redacts"):
        if k in ev and not isinstance(ev[k], str):
            if k == "room_id" and v.v12 and is_create:
                continue
            if k == "redacts" and v.n >= 11:
                continue
            return k + " not a string"
    if v.v12 and is_create and "room_id" in ev:
        amb.add("v12-create-room_id")  # auth rule, not format
    for k in ("origin_server_ts", "depth"):
        if not is_int(ev[k]):
            return k + " not an integer"
    if not isinstance(ev["content"], dict):
        return "content not an object"
    if "unsigned" in ev and not isinstance(ev["unsigned"], dict):
        return "unsigned not an object"
    sigs = ev["signatures"]
    if not isinstance(sigs, dict):
        return "signatures not an object"
    for srv, ent in sigs.items():
        if not isinstance(ent, dict):
            return "signatures.%s not an object" % srv
        for kid, s in ent.items():
            if not isinstance(s, str):
                return "signature %s/%s not a string" % (srv, kid)
    h = ev["hashes"]
    if not isinstance(h, dict):
        return "hashes not an object"
    if not isinstance(h.get("sha256"), str):
        # components/event_hash.yaml is not in the extract; README: sha256 is the content hash
        amb.add("hashes-sha256-format")
        return "hashes.sha256 not a string"
    for k, mx in (("auth_events", 10), ("prev_events", 20)):
        lst = ev[k]
        if not isinstance(lst, list):
            return k + " not an array"
        if len(lst) > mx:
            return k + " too long"
        for it in lst:
            if v.n <= 2:
                if not (isinstance(it, list) and len(it) == 2 and isinstance(it[0], str)):
                    return k + " item not a pair"
            elif not isinstance(it, str):
                return k + " item not a string"
    return None


# ---------------------------------------------------------------- signatures

def domain(ident):
    if not isinstance(ident, str) or ":" not in ident:
        return None
    d = ident.split(":", 1)[1]
    return d or None


def ed_verify(pub, msg, sig):
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


def check_server(v, ev, signed_bytes, server, keys, amb):
    """appendices "Checking for a Signature" with server-server-api's skipping of unknown and
    expired keys. Returns ("ok"|"missing"|"bad"|"needkey", kinds, why)."""
    ent = ev["signatures"].get(server)
    if ent is None:
        return "missing", ["missing"], "no signatures from " + server
    ed = {}
    for kid, s in ent.items():
        alg = kid.split(":", 1)[0]
        if ":" not in kid:
            # "the concatenation of the signing algorithm and a key identifier": a key ID
            # without the colon names no algorithm the spec writes out.
            amb.add("keyid-without-colon")
            if DECISIONS:
                alg = None  # signing decision 14: only "ed25519:" key IDs are ed25519
        if alg == "ed25519":
            ed[kid] = s
    if not ed:
        return "missing", ["missing"], "no ed25519 signature from " + server
    known = keys.get(server, {})
    usable = 0
    kinds = set()
    ts = ev["origin_server_ts"]
    for kid in sorted(ed):
        k = known.get(kid)
        if k is None:
            kinds.add("unknown")
            continue
        vu = k.get("vu")
        if vu is not None and vu < ts:
            # v5-signing-requirements: valid_until_ts must be at least origin_server_ts
            # (equal is valid). server-server-api says, for every version, that keys "known to
            # have expired prior to the event's origin_server_ts are ignored"; the room version
            # pages make enforcement a v5 feature.
            if v.key_validity:
                kinds.add("expired")
                continue
            amb.add("expiry-before-v5")
        usable += 1
        sig = b64decode(ed[kid], amb)
        pub = b64decode(k["key"], amb)
        if sig is None:
            return "bad", ["bad"], "signature %s/%s is not base64" % (server, kid)
        if not ed_verify(pub, signed_bytes, sig):
            return "bad", ["bad"], "signature %s/%s does not verify" % (server, kid)
    if usable == 0:
        return "needkey", sorted(kinds), "no known valid key of %s" % server
    return "ok", [], ""


def verify(req):
    amb = set()
    v = V(req["v"])
    keys = req.get("keys") or {}
    try:
        try:
            ev, dup = parse_json(req["ev"], amb)
        except (ValueError, RecursionError) as e:
            reject("malformed", "not JSON: %s" % e)
        if dup and v.strict and DECISIONS:
            reject("malformed", "duplicate keys (strict canonical JSON)")
        why = check_numbers(ev, v.strict, amb) if isinstance(ev, dict) else None
        if why:
            reject("malformed", why)
        why = check_format(v, ev, amb)
        if why:
            reject("malformed", why)
        try:
            canonical_bytes(ev)
        except UnicodeEncodeError:
            amb.add("lone-surrogate")
            reject("malformed", "lone surrogate")

        # Which servers must sign (server-server-api "Validating hashes and signatures").
        sender_srv = domain(ev["sender"])
        tpi = (ev["type"] == "m.room.member" and ev["content"].get("membership") == "invite"
               and "third_party_invite" in ev["content"])
        required = []
        if not tpi:
            if sender_srv is None:
                reject(["malformed", "missing"], "sender has no server name")
            required.append(sender_srv)
        else:
            amb.add("3pid-any-server")
        if v.event_id_domain:
            d = domain(ev["event_id"])
            if d is None:
                reject(["malformed", "missing"], "event_id has no domain")
            # "if it differs from the originating server"
            if d != sender_srv and d not in required:
                required.append(d)
        if v.authvia and ev["type"] == "m.room.member" and \
                "join_authorised_via_users_server" in ev["content"]:
            # v8 auth rule 4.2: any membership; roomproto's signature check: joins
            join = ev["content"].get("membership") == "join"
            if not join:
                amb.add("authvia-nonjoin")
            if join or not DECISIONS:
                u = ev["content"]["join_authorised_via_users_server"]
                d = domain(u)
                if d is None:
                    amb.add("authvia-not-user")
                    reject(["malformed", "missing"], "join_authorised_via_users_server names no server")
                if d not in required:
                    required.append(d)

        redacted = redact(v, ev, amb)
        signed = {k: x for k, x in redacted.items() if k not in ("signatures", "unsigned")}
        signed_bytes = canonical_bytes(signed)

        results = []
        for srv in required:
            results.append((srv,) + check_server(v, ev, signed_bytes, srv, keys, amb))
        if tpi:
            # "the server which actually sends the event may be a different server": at least
            # one server that signed must pass the check.
            # Own reading: a server besides those already required (in v1-2, the event ID's
            # domain).  signing decision 6: any server listed in `signatures`, the required
            # event-ID domain included.
            others = [(s,) + check_server(v, ev, signed_bytes, s, keys, amb)
                      for s in sorted(ev["signatures"]) if DECISIONS or s not in required]
            if not any(r[1] == "ok" for r in others):
                if not others:
                    results.append(("*", "missing", ["missing"], "third-party invite: no signature"))
                elif any(r[1] == "needkey" for r in others):
                    ks = set()
                    for r in others:
                        if r[1] == "needkey":
                            ks |= set(r[2])
                    results.append(("*", "needkey", sorted(ks), "third-party invite: no server's known key"))
                else:
                    ks = set()
                    for r in others:
                        ks |= set(r[2])
                    results.append(("*", "bad", sorted(ks), "third-party invite: no valid signature"))
        bad = [r for r in results if r[1] in ("missing", "bad")]
        if bad:
            ks = set()
            for r in bad:
                ks |= set(r[2])
            reject(ks, "; ".join(r[3] for r in bad))
        need = [r for r in results if r[1] == "needkey"]
        if need:
            ks = set()
            for r in need:
                ks |= set(r[2])
            raise Verdict("need-key", ks, "; ".join(r[3] for r in need))

        # Content hash (server-server-api "Calculating the content hash for an event").
        body = {k: x for k, x in ev.items() if k not in ("unsigned", "signatures", "hashes")}
        want = hashlib.sha256(canonical_bytes(body)).digest()
        got = b64decode(ev["hashes"]["sha256"], amb)
        if got != want:
            raise Verdict("redact", ["hash"], "content hash mismatch")
        raise Verdict("valid", [], "")
    except Verdict as vd:
        return {"verdict": vd.verdict, "kinds": vd.kinds, "why": vd.why, "amb": sorted(amb)}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = verify(json.loads(line))
        except Exception as e:  # a harness problem, reported as such
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

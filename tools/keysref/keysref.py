#!/usr/bin/env python3
"""keysref: an independent reference of JSON signing, signature checks, signing keys, key rings
and public key decoding.

Written from the spec text only (/work/shared/spec), before reading roomproto's signing/*.go:
  appendices.md  "Unpadded Base64" (and "URL-safe unpadded Base64", "Binary data"),
                 "Signing JSON" > "Canonical JSON", "Signing Details", "Checking for a Signature",
                 "Cryptographic Test Vectors" ("Signing Key", "JSON Signing", "Event Signing");
  server-server-api.md "Retrieving server keys", "Validating hashes and signatures on received
                 events"; rooms/fragments/v5-signing-requirements.md (through verifyref);
  rooms/fragments/v8-auth-rules.md rule 4.4.1.7 ("If any signature in signed matches any public
                 key ...") for HasValidSignature;
and the key file formats of /work/shared/DESIGN.md (the `--key` file: one line
`ed25519 <key version> <unpadded base64 32-byte seed>`; the `--keys` file:
`{"server.name": {"ed25519:<key version>": "<unpadded base64 public key>"}}`; the `verify`
command: signatures by unknown servers or key IDs are skipped, the object is valid when at least
one signature is by a known key and every signature by a known key holds).

It imports tools/verifyref/verifyref.py (also written from the spec only) for canonical JSON,
JSON parsing (duplicate keys, number literals) and the verdict on a received event.
Python 3 standard library plus `cryptography` (ed25519).

Protocol: one JSON object per line on stdin, field "op"; one answer per line on stdout:
  {"out": "<outcome>", "blame": [[server, key_id], ...] | null, "why": "...", "amb": [...]}
Outcomes (the harness renders roomproto's answer the same way):
  sign         "ok <canonical JSON of the signed object>" | "err malformed"
  verify, verify_server   "valid" | "err malformed|missing|unknown|bad"
  has_valid    "true" | "false" | "err malformed"
  parse_key    "ok <version> <unpadded b64 seed>" | "err"
  new_key      "ok <unpadded b64 public key>" | "err"
  parse_ring   "ok <canonical JSON {server: {key_id: [b64 key, valid_until_ts]}}>" | "err"
  decode_pub   "ok <unpadded b64>" | "err"
  event        the verdict of verifyref ("valid", "redact", "need-key", "reject")
Byte inputs travel as standard padded base64 ("obj_b64", "text_b64") so that any bytes (invalid
UTF-8, CR, NUL) reach the reference unchanged.

"amb" lists the spec-silent corners the answer went through (the reference's own reading is
taken); KEYSREF_DECISIONS=1 makes the reference adopt roomproto's docs/decisions.md readings
(see DECISIONS below) and sets VERIFYREF_DECISIONS for the imported reference.
"""
import base64
import json
import os
import re
import sys

DECISIONS = os.environ.get("KEYSREF_DECISIONS") == "1"
if DECISIONS:
    os.environ["VERIFYREF_DECISIONS"] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "verifyref"))
import verifyref as vr  # noqa: E402

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

STD = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
URLSAFE_EXTRA = set("-_")
VERSION_CHARS = re.compile(r"[A-Za-z0-9_]+")


class Fail(Exception):
    def __init__(self, out, why, blame=None):
        self.out, self.why, self.blame = out, why, blame


# ---------------------------------------------------------------- base64

def b64enc(b):
    """appendices "Unpadded Base64": standard alphabet, no "=" padding."""
    return base64.b64encode(b).decode().rstrip("=")


def b64dec(s, amb):
    """Decode unpadded base64. "When decoding Base64, implementations SHOULD accept input with or
    without padding characters wherever possible": padding that RFC 4648 would write (to a
    multiple of four) is accepted. Anything else outside the standard alphabet is not base64."""
    if not isinstance(s, str):
        return None
    body = s.rstrip("=")
    npad = len(s) - len(body)
    if npad:
        full = (-len(body)) % 4  # the padding RFC 4648 writes
        if npad != full:
            # "=" where RFC 4648 would not put it: some of it (partial), too much, or where
            # none belongs. Own reading: only RFC padding is "padding characters".
            # signing decision 1: some or all of the padding is accepted, excess refused.
            amb.add("b64-odd-padding")
            if not (DECISIONS and npad < full and len(body) % 4 != 1):
                return None
    if any(c not in STD for c in body):
        if all(c in STD or c in URLSAFE_EXTRA for c in body):
            # The spec's unpadded base64 is the standard alphabet; only the padding is
            # loosened for decoders. URL-safe input is not standard base64 (own reading).
            amb.add("b64-urlsafe")
            if not DECISIONS:
                return None
            body = body.replace("-", "+").replace("_", "/")
        else:
            return None
    if len(body) % 4 == 1:
        return None
    raw = base64.b64decode(body + "=" * (-len(body) % 4))
    if b64enc(raw) != body:
        # RFC 4648 3.5: non-zero pad bits; decoders MAY reject. Own reading: accept.
        amb.add("b64-nonzero-pad-bits")
    return raw


# ---------------------------------------------------------------- JSON

def load(req, field, amb):
    """The object in req.get(field, "") (base64 of bytes): None when it is not JSON."""
    data = base64.b64decode(req.get(field, ""))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        v, _ = vr.parse_json(text, amb)
    except (ValueError, RecursionError) as e:
        return None, "not JSON: %s" % e
    return v, ""


def note_numbers(v, amb):
    """Signing JSON uses canonical JSON; numbers outside it (fractions, exponents, big integers,
    -0) have no canonical form the spec gives: lenient, as for room versions 1-5."""
    for x in vr.walk(v):
        if isinstance(x, vr.Num):
            amb.add("json-float")
        elif isinstance(x, vr.NegZero):
            amb.add("json-neg-zero")
        elif isinstance(x, int) and not isinstance(x, bool) and not -vr.MAX_SAFE <= x <= vr.MAX_SAFE:
            amb.add("json-big-int")


def canon(v, amb):
    try:
        return vr.canonical_bytes(v)
    except UnicodeEncodeError:
        amb.add("lone-surrogate")
        if DECISIONS:
            # canonicaljson decision 12: unpaired surrogates are written as lowercase \udxxx
            # escapes (they can only stand inside strings) and sort by code point.
            t = vr.canonical(v)
            return re.sub("[\ud800-\udfff]", lambda m: "\\u%04x" % ord(m.group(0)), t).encode("utf-8")
        raise Fail("err malformed", "a string holds a lone surrogate: no UTF-8 encoding")


def signed_bytes(obj, amb):
    """"Removes the signatures and unsigned members of the object" and encodes the rest."""
    note_numbers(obj, amb)
    return canon({k: x for k, x in obj.items() if k not in ("signatures", "unsigned")}, amb)


# ---------------------------------------------------------------- keys

def key_version_ok(ver, amb):
    """A key identifier distinguishes keys of one entity (appendices "Signing Details"). The
    extract has no grammar for it (keys_server.yaml is not copied): own reading, any non-empty
    string; outside [A-Za-z0-9_] or longer than 255 is tagged."""
    if not isinstance(ver, str) or ver == "":
        return False
    if not VERSION_CHARS.fullmatch(ver):
        amb.add("key-version-charset")
        if DECISIONS:
            return False
    if len(ver) > 255:
        amb.add("key-version-length")
        if DECISIONS:
            return False
    return True


def private_from_seed(seed):
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_of(priv):
    return priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed_verify(pub, msg, sig):
    if len(pub) != 32 or len(sig) != 64:
        return False
    return vr.ed_verify(pub, msg, sig)


def algorithm(kid, amb):
    """The signing algorithm of a signing key identifier ("ed25519:1" -> "ed25519")."""
    if ":" not in kid:
        # "the concatenation of the signing algorithm and a key identifier", written
        # "%s:%s" in the spec's code: without the colon there is no algorithm to read.
        amb.add("keyid-without-colon")
        return None
    alg, ver = kid.split(":", 1)
    if alg == "ed25519" and ver == "":
        amb.add("keyid-empty-version")
    return alg


# ---------------------------------------------------------------- ops

def op_sign(req, amb):
    """appendices "Signing Details" (sign_json)."""
    obj, why = load(req, "obj_b64", amb)
    if not isinstance(obj, dict):
        raise Fail("err malformed", why or "not an object")
    seed = base64.b64decode(req.get("seed", ""))
    priv = private_from_seed(seed)
    server, kid = req.get("server", ""), "ed25519:" + req.get("version", "")
    obj = dict(obj)
    if "signatures" in obj:
        sigs = obj.pop("signatures")
        if sigs is None:
            # json_object.pop("signatures", {}) returns None: the code then fails.
            amb.add("sign-signatures-null")
            raise Fail("err malformed", "signatures is null")
        if not isinstance(sigs, dict):
            raise Fail("err malformed", "signatures is not an object")
    else:
        sigs = {}
    had_unsigned = "unsigned" in obj
    unsigned = obj.pop("unsigned", None)
    if had_unsigned and unsigned is None:
        # The spec's code drops a null `unsigned` ("if unsigned is not None"); its prose adds
        # back "the unsigned object". Own reading: the code.
        amb.add("sign-unsigned-null")
        if DECISIONS:
            had_unsigned = True
        else:
            had_unsigned = False
    note_numbers(obj, amb)
    msg = canon(obj, amb)
    sig = priv.sign(msg)
    sigs = dict(sigs)
    ent = sigs.get(server, {})
    if not isinstance(ent, dict):
        raise Fail("err malformed", "signatures.%s is not an object" % server)
    ent = dict(ent)
    ent[kid] = b64enc(sig)
    sigs[server] = ent
    obj["signatures"] = sigs
    if had_unsigned:
        obj["unsigned"] = unsigned
    note_numbers(obj, amb)
    return "ok " + canon(obj, amb).decode("utf-8"), None, ""


def load_ring(req):
    """The harness's key ring: {server: {key_id: b64 key}} (keys the harness built itself)."""
    out = {}
    for srv, ks in (req.get("keys") or {}).items():
        out[srv] = {kid: base64.b64decode(k) for kid, k in ks.items()}
        if DECISIONS:
            # docs/decisions.md signing 17: a key that is not 32 bytes is an unknown key.
            out[srv] = {kid: k for kid, k in out[srv].items() if len(k) == 32}
    return out


def check_entries(obj, keys, servers, amb):
    """appendices "Checking for a Signature" for the entries of `servers` (None: every entry),
    with DESIGN's `verify` rule: unknown servers and key IDs are skipped; at least one signature
    by a known key, and every signature by a known key holds."""
    if "signatures" not in obj:
        amb.add("no-signatures-member")
        raise Fail("err missing", "no signatures member")
    sigs = obj["signatures"]
    if not isinstance(sigs, dict):
        # "Checks if the signatures member of the object contains an entry": a member that is
        # not an object holds no entry. Own reading: the object is malformed.
        raise Fail("err malformed", "signatures is not an object")
    msg = signed_bytes(obj, amb)
    single = servers is not None
    if servers is None:
        servers = sorted(sigs)
    ed, entries = [], 0
    for srv in servers:
        if srv not in sigs:
            raise Fail("err missing", "no entry for " + srv)  # step 1
        ent = sigs[srv]
        if not isinstance(ent, dict):
            amb.add("entry-not-object")
            # Own reading: the entry of a server asked for must be an object (it holds key IDs);
            # another server's entry that is not an object holds no signature we understand.
            # signing decision 14: VerifyJSON skips such an entry whatever the server.
            if single or (srv in keys and not DECISIONS):
                raise Fail("err malformed", "signatures.%s is not an object" % srv)
            continue
        entries += 1
        for kid in sorted(ent):
            if algorithm(kid, amb) == "ed25519":  # step 2
                ed.append((srv, kid, ent[kid]))
    if not ed:
        raise Fail("err missing", "no ed25519 signature")
    known = [(s, k, sig, keys[s][k]) for s, k, sig in ed if s in keys and k in keys[s]]
    if not known:
        raise Fail("err unknown", "no signature by a known key")  # step 3
    bad = []
    for s, k, sig, pub in known:
        if not isinstance(sig, str):
            amb.add("signature-not-string")
            bad.append((s, k))
            continue
        raw = b64dec(sig, amb)  # step 4
        if raw is None or not ed_verify(pub, msg, raw):  # steps 5-7
            bad.append((s, k))
    if bad:
        raise Fail("err bad", "signature(s) do not verify: %s" % bad, [list(b) for b in bad])
    return "valid", None, ""


def op_verify(req, amb):
    obj, why = load(req, "obj_b64", amb)
    if not isinstance(obj, dict):
        raise Fail("err malformed", why or "not an object")
    return check_entries(obj, load_ring(req), None, amb)


def op_verify_server(req, amb):
    obj, why = load(req, "obj_b64", amb)
    if not isinstance(obj, dict):
        raise Fail("err malformed", why or "not an object")
    return check_entries(obj, load_ring(req), [req.get("server", "")], amb)


def op_has_valid(req, amb):
    """v8 auth rule 4.4.1.7: "If any signature in signed matches any public key"."""
    obj, why = load(req, "obj_b64", amb)
    if not isinstance(obj, dict):
        raise Fail("err malformed", why or "not an object")
    pub = base64.b64decode(req.get("pub", ""))
    if "signatures" not in obj:
        # No signature at all: none matches (authrules decision "Third-party invite
        # signatures": "otherwise no signature matches").
        amb.add("hv-signatures-absent")
        return "false", None, "no signatures"
    sigs = obj["signatures"]
    if not isinstance(sigs, dict):
        # The schema of `signed` (signed_third_party_invite.yaml) is not in the extract.
        amb.add("hv-signatures-shape")
        if DECISIONS:
            raise Fail("err malformed", "signatures is not an object")
        return "false", None, "no signatures object"
    msg = signed_bytes(obj, amb)
    found = False
    for srv in sorted(sigs):
        ent = sigs[srv]
        if not isinstance(ent, dict):
            amb.add("hv-signatures-shape")
            if DECISIONS:
                raise Fail("err malformed", "signatures.%s is not an object" % srv)
            continue
        for kid in sorted(ent):
            s = ent[kid]
            if not isinstance(s, str):
                amb.add("hv-signatures-shape")
                if DECISIONS:
                    raise Fail("err malformed", "signature is not a string")
                continue
            if algorithm(kid, amb) != "ed25519":
                # The keys are ed25519 keys; a signature under another algorithm's key ID is
                # not one "Checking for a Signature" would try (step 2). Own reading.
                amb.add("hv-other-algorithm")
                continue
            raw = b64dec(s, amb)
            if len(pub) != 32:
                amb.add("hv-pub-wrong-length")
            if raw is not None and ed_verify(pub, msg, raw):
                found = True
    return ("true" if found else "false"), None, ""


def op_parse_key(req, amb):
    """DESIGN.md: one line `ed25519 <key version> <unpadded base64 32-byte seed>`."""
    data = base64.b64decode(req.get("text_b64", ""))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Fail("err", "not UTF-8")
    # A line of a text file ends with "\n"; anything else around it is tagged.
    body = text[:-1] if text.endswith("\n") else text
    lines = body.split("\n")
    nonblank = [ln for ln in lines if ln.strip(" \t\r") != ""]
    if len(nonblank) != 1:
        if len(nonblank) > 1:
            amb.add("keyfile-several-lines")
        raise Fail("err", "%d non-blank lines" % len(nonblank))
    if len(lines) != 1:
        amb.add("keyfile-blank-lines")
    line = nonblank[0]
    if line.endswith("\r"):
        amb.add("keyfile-crlf")
        line = line[:-1]
    if line != line.strip(" \t"):
        amb.add("keyfile-outer-space")
        line = line.strip(" \t")
    fields = [f for f in re.split(r"[ \t]+", line)]
    if len(re.findall(r"[ \t]+", line)) and re.findall(r"[ \t]+", line) != [" "] * (len(fields) - 1):
        amb.add("keyfile-field-separator")
    if len(fields) != 3:
        raise Fail("err", "%d fields" % len(fields))
    alg, ver, seed = fields
    if alg != "ed25519":
        raise Fail("err", "algorithm " + alg)
    if not key_version_ok(ver, amb):
        raise Fail("err", "bad key version")
    raw = b64dec(seed, amb)
    if raw is None or len(raw) != 32:
        raise Fail("err", "seed is not base64 of 32 bytes")
    return "ok %s %s" % (ver, b64enc(raw)), None, ""


def op_new_key(req, amb):
    seed = base64.b64decode(req.get("seed", ""))
    if len(seed) != 32:
        raise Fail("err", "seed of %d bytes" % len(seed))
    if not key_version_ok(req.get("version", ""), amb):
        raise Fail("err", "bad key version")
    return "ok " + b64enc(public_of(private_from_seed(seed))), None, ""


def op_decode_pub(req, amb):
    raw = b64dec(req.get("s", ""), amb)
    if raw is None or len(raw) != 32:
        raise Fail("err", "not base64 of 32 bytes")
    return "ok " + b64enc(raw), None, ""


def op_parse_ring(req, amb):
    """DESIGN.md: {"server.name": {"ed25519:<key version>": "<unpadded base64 public key>"}}.
    go doc adds roomproto's own object form {"key": ..., "valid_until_ts": ms} (shaped like the
    spec's server key response, server_key.json): modelled as documented, tagged."""
    v, why = load(req, "text_b64", amb)
    if not isinstance(v, dict):
        raise Fail("err", why or "not an object")
    note_numbers(v, amb)
    out = {}
    for srv, ks in v.items():
        if srv == "":
            amb.add("ring-empty-server")
        if not isinstance(ks, dict):
            raise Fail("err", "server %r: not an object" % srv)
        m = {}
        for kid, val in ks.items():
            if ":" not in kid:
                amb.add("keyid-without-colon")
                raise Fail("err", "key ID %r is not <algorithm>:<version>" % kid)
            if kid.split(":", 1)[0] == "":
                amb.add("ring-empty-algorithm")
                if DECISIONS:  # decisions (bulk) 3a: an empty algorithm is refused
                    raise Fail("err", "key ID %r: empty algorithm" % kid)
            if kid.split(":", 1)[0] != "ed25519":
                # A key of an algorithm we do not understand cannot check anything: own
                # reading, skipped whatever it holds ("Checking for a Signature" step 2).
                amb.add("ring-other-algorithm")
                continue
            ver = kid.split(":", 1)[1]
            if ver == "":
                raise Fail("err", "key ID %r: empty version" % kid)
            if not VERSION_CHARS.fullmatch(ver):
                amb.add("key-version-charset")
            vu = 0
            if isinstance(val, dict):
                amb.add("ring-object-form")
                if "key" not in val:
                    raise Fail("err", "no key")
                if "valid_until_ts" in val:
                    vu = val["valid_until_ts"]
                    if not (isinstance(vu, int) and not isinstance(vu, bool) and vu > 0) or isinstance(vu, vr.NegZero):
                        raise Fail("err", "valid_until_ts not a positive integer")
                val = val["key"]
            if not isinstance(val, str):
                raise Fail("err", "key is not a string")
            raw = b64dec(val, amb)
            if raw is None or len(raw) != 32:
                raise Fail("err", "key is not base64 of 32 bytes")
            m[kid] = [b64enc(raw), vu]
        out[srv] = m
    return "ok " + canon(out, amb).decode("utf-8"), None, ""


def op_event(req, amb):
    a = vr.verify({"v": req["v"], "ev": req["ev"], "keys": req.get("keys") or {}})
    for x in a.get("amb", []):
        amb.add("vr:" + x)
    return a["verdict"], None, a.get("why", "")


OPS = {"sign": op_sign, "verify": op_verify, "verify_server": op_verify_server,
       "has_valid": op_has_valid, "parse_key": op_parse_key, "new_key": op_new_key,
       "decode_pub": op_decode_pub, "parse_ring": op_parse_ring, "event": op_event}


def answer(req):
    amb = set()
    try:
        out, blame, why = OPS[req["op"]](req, amb)
    except Fail as f:
        out, blame, why = f.out, f.blame, f.why
    return {"out": out, "blame": blame, "why": why, "amb": sorted(amb)}


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

"""synapsediff's oracle: Synapse's JSON libraries behind a line protocol.

One JSON request per line on stdin, one JSON answer per line on stdout. Binary values travel as
standard base64 ("b64" fields). Run by the Go harness with the system interpreter
(/usr/bin/python3), where Debian's python3-canonicaljson and python3-signedjson live.

The reading steps mirror Synapse's own: request bodies are decoded as UTF-8 and parsed with
the standard library's json (synapse.util.json_decoder, which refuses NaN and Infinity); room
versions 6+ then run synapse.events.utils.validate_canonicaljson (reproduced below: integers in
[-(2**53)+1, (2**53)-1], no floats); canonical bytes come from canonicaljson.encode_canonical_json;
signatures from signedjson.sign (PyNaCl, i.e. libsodium). Key look-up follows Synapse's
Keyring: every key ID of the server with a supported algorithm (signedjson.sign.signature_ids)
whose key is known must verify, and at least one must.
"""

import base64
import json
import sys

import canonicaljson
import nacl.signing
import signedjson.key
import signedjson.sign
from canonicaljson import encode_canonical_json

MIN_INT = -(2**53) + 1
MAX_INT = 2**53 - 1


def _reject_constant(name):
    raise ValueError("Invalid JSON value: '%s'" % name)


# synapse.util.json_decoder
json_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def validate_canonicaljson(value):
    """synapse.events.utils.validate_canonicaljson: ints in range, no floats."""
    if isinstance(value, int):
        if value < MIN_INT or MAX_INT < value:
            raise ValueError("JSON integer out of range")
    elif isinstance(value, float):
        raise ValueError("Bad JSON value: float")
    elif isinstance(value, dict):
        for v in value.values():
            validate_canonicaljson(v)
    elif isinstance(value, list):
        for v in value:
            validate_canonicaljson(v)
    elif not isinstance(value, (bool, str)) and value is not None:
        raise ValueError("Unknown JSON value")


def b64(b):
    return base64.b64encode(b).decode("ascii")


def unb64(s):
    return base64.b64decode(s)


def parse(data, strict):
    """Synapse's reading of a request body; the stage that failed is in the exception."""
    try:
        text = data.decode("utf-8")
    except Exception as e:
        raise Stage("decode", e)
    try:
        value = json_decoder.decode(text)
    except BaseException as e:  # RecursionError is not a ValueError
        raise Stage("parse", e)
    if strict:
        try:
            validate_canonicaljson(value)
        except Exception as e:
            raise Stage("validate", e)
    return value


class Stage(Exception):
    def __init__(self, stage, err):
        super().__init__("%s: %s: %s" % (stage, type(err).__name__, err))
        self.stage = stage


def encode(value):
    try:
        return encode_canonical_json(value)
    except BaseException as e:
        raise Stage("encode", e)


def op_canon(req):
    return {"out": b64(encode(parse(unb64(req["in"]), req.get("strict", False))))}


def op_sign(req):
    obj = parse(unb64(req["in"]), False)
    key = signedjson.key.decode_signing_key_base64("ed25519", req["version"], req["seed"])
    try:
        signed = signedjson.sign.sign_json(obj, req["server"], key)
    except BaseException as e:
        raise Stage("sign", e)
    key_id = "ed25519:" + req["version"]
    sig = signed["signatures"][req["server"]][key_id]
    return {"out": b64(encode(signed)), "sig": sig}


def verify_server(obj, server, keys):
    """Synapse's Keyring for one server: keys maps key ID -> raw public key bytes."""
    key_ids = signedjson.sign.signature_ids(obj, server)
    if not key_ids:
        raise Stage("verify", ValueError("Not signed by %s" % server))
    verified = False
    for key_id in key_ids:
        raw = keys.get(key_id)
        if raw is None:
            continue
        try:
            vk = signedjson.key.decode_verify_key_bytes(key_id, raw)
        except Exception:
            continue  # Synapse could not have stored such a key: unknown
        try:
            signedjson.sign.verify_signed_json(obj, server, vk)
        except BaseException as e:
            raise Stage("verify", e)
        verified = True
    if not verified:
        raise Stage("verify", ValueError("no known key for %s" % server))


def op_verify(req):
    obj = parse(unb64(req["in"]), False)
    ring = {s: {k: unb64(v) for k, v in ks.items()} for s, ks in req["keys"].items()}
    server = req.get("server")
    if server is not None:
        verify_server(obj, server, ring.get(server, {}))
        return {"ok": True}
    # Every server with a known key that signed: each must pass, at least one must be known.
    try:
        sigs = obj["signatures"]
        servers = [s for s in sigs if s in ring and any(k in ring[s] for k in signedjson.sign.signature_ids(obj, s))]
    except BaseException as e:
        raise Stage("verify", e)
    if not servers:
        raise Stage("verify", ValueError("no signature by a known key"))
    for s in servers:
        verify_server(obj, s, ring[s])
    return {"ok": True}


def op_raw(req):
    """PyNaCl's VerifyKey(pub).verify(msg, sig): libsodium's crypto_sign_open."""
    try:
        vk = nacl.signing.VerifyKey(unb64(req["pub"]))
        vk.verify(unb64(req["msg"]), unb64(req["sig"]))
    except BaseException as e:
        raise Stage("verify", e)
    return {"ok": True}


def op_version(req):
    import ctypes
    import ctypes.util
    import nacl
    import simplejson
    sodium = "?"
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sodium"))
        lib.sodium_version_string.restype = ctypes.c_char_p
        sodium = lib.sodium_version_string().decode()
    except Exception:
        pass
    return {"canonicaljson": canonicaljson.__version__, "simplejson": simplejson.__version__,
            "pynacl": nacl.__version__, "libsodium": sodium, "python": sys.version.split()[0]}


OPS = {"canon": op_canon, "sign": op_sign, "verify": op_verify, "raw": op_raw, "version": op_version}


def main():
    sys.setrecursionlimit(1000)
    for line in sys.stdin:
        try:
            req = json.loads(line)
            resp = OPS[req["op"]](req)
        except Stage as e:
            resp = {"err": str(e), "stage": e.stage}
        except BaseException as e:
            resp = {"err": "helper: %s: %s" % (type(e).__name__, e), "stage": "helper"}
        sys.stdout.write(json.dumps(resp) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

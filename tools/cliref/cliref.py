#!/usr/bin/env python3
"""cliref: an independent reference of what the command-line tool `roomproto` must print.

Written from the CLI contract of DESIGN.md ("The command-line tool: `roomproto`") and the spec
text only (appendices "Canonical JSON", "Signing Details", "Checking for a Signature", "Unpadded
Base64"; server-server-api "Signing Events", "Calculating the reference hash/content hash",
"Validating hashes and signatures on received events", "Auth events selection"; the room
versions' event ID formats and auth rules; "Restricted rooms"), plus RFC 8259 for what JSON input
is.  cmd/roomproto was not read before this file gave its own answers.  It builds on the spec-only
references of this repository: tools/verifyref/verifyref.py (canonical JSON, redaction, signing,
content hash, which servers must sign), tools/authref/authref.py (auth rules, auth events
selection) and tools/memberref/memberref.py (the resident's join decision).

Protocol: one JSON object per line on stdin
  {"args": ["redact", "--room-version", "9", "/tmp/x/in.json"],
   "stdin": "<base64>", "files": {"/tmp/x/in.json": "<base64>", ...}}
one JSON object per line on stdout
  {"exit": 0 | 1,           # the exit status the contract asks for
   "either": bool,          # spec/contract-silent corner: exit 1 (unusable input) or exit 0 with
                            #   "out" are both defensible; "amb" says why
   "cmp": "bytes" | "verdict" | "set" | "any",
   "out": "<exact stdout>", # bytes: the exact expected stdout (canonical, no trailing newline)
   "fields": {...},         # verdict: fields whose value must match exactly
   "free": [...],           # verdict: fields that must be present as non-empty strings
   "alts": {...},           # verdict: field -> list of acceptable values (e.g. authorising_user)
   "amb": [...], "why": "..."}
`cmp` "any": any exit-0 output is acceptable (the spec gives no output for the case).

CLIREF_DECISIONS=1 adopts the readings of roomproto's docs/decisions.md (also for the three
references it builds on); every spec-silent corner adds an "amb" flag either way.
"""
import base64
import hashlib
import json
import os
import re
import sys

DECISIONS = os.environ.get("CLIREF_DECISIONS") == "1"
if DECISIONS:
    for k in ("AUTHREF_DECISIONS", "MEMBERREF_DECISIONS", "VERIFYREF_DECISIONS"):
        os.environ[k] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("authref", "memberref", "verifyref"):
    sys.path.insert(0, os.path.join(HERE, "..", d))
import authref  # noqa: E402
import memberref  # noqa: E402
import verifyref as vr  # noqa: E402

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

VERSIONS = {str(i) for i in range(1, 13)}

# flags of each command: name -> (takes a value, required)
COMMANDS = {
    "canonical": {"strict": (False, False)},
    "redact": {"room-version": (True, True)},
    "content-hash": {},
    "event-id": {"room-version": (True, True)},
    "sign": {"server-name": (True, True), "key": (True, True)},
    "sign-event": {"room-version": (True, True), "server-name": (True, True), "key": (True, True)},
    "verify": {"keys": (True, True)},
    "verify-event": {"room-version": (True, True), "keys": (True, True)},
    "auth-events": {"room-version": (True, True)},
    "auth": {"room-version": (True, True), "auth-events": (True, True), "keys": (True, False)},
    "join-decision": {},
}


class Unusable(Exception):
    """Exit status 1: the input is unusable (contract: malformed JSON, unknown room version,
    missing flag)."""


NOT_PDU = [False]


def strict_extra(dup, why_ctx):
    """Under decisions: strict canonical JSON also refuses duplicate keys (canonicaljson 7) and
    lone surrogates (8)."""
    if DECISIONS and (dup or SURROGATE[0]):
        raise Unusable("strict canonical JSON: %s" % ("duplicate key" if dup else "lone surrogate"))


class Out(Exception):
    def __init__(self, **kw):
        self.kw = kw


def b64u(b):
    return base64.b64encode(b).decode().rstrip("=")


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


# ---------------------------------------------------------------- command line

def parse_args(args, amb):
    """`roomproto <command> [flags] [FILE]`, flags as `--name value` or `--name=value`."""
    if not args:
        raise Unusable("no command")
    cmd = args[0]
    if cmd not in COMMANDS:
        raise Unusable("unknown command")
    spec = COMMANDS[cmd]
    flags, pos = {}, []
    i = 1
    rest = args[1:]
    while i < len(args):
        a = args[i]
        i += 1
        if DECISIONS and a == "--":
            # docs/decisions.md, Cross-package "Command line": `--` ends the flags.
            pos.extend(args[i:])
            break
        if a.startswith("-") and a != "-" and len(a) > 1:
            if pos:
                # A flag after the FILE: the usage line puts flags first; GNU tools accept
                # both orders, Go's flag package stops at the first operand.
                amb.add("flag-after-file")
            name = a.lstrip("-")
            val = None
            if "=" in name:
                name, val = name.split("=", 1)
            if not a.startswith("--"):
                # The contract writes --flag; Go's flag package also takes -flag.
                amb.add("single-dash-flag")
                EITHER[0] = True
            if name not in spec:
                raise Unusable("unknown flag " + a)
            takes, _ = spec[name]
            if takes:
                if val is None:
                    if i >= len(args):
                        raise Unusable("flag needs a value")
                    val = args[i]
                    i += 1
            elif val is not None:
                amb.add("bool-flag-value")
                if val not in ("true", "false", "1", "0"):
                    raise Unusable("bad boolean")
                val = val in ("true", "1")
            else:
                val = True
            if name in flags:
                amb.add("repeated-flag")  # the last one counts, or refused: not said
                EITHER[0] = True
            flags[name] = val
        else:
            pos.append(a)
    del rest
    for name, (takes, req) in spec.items():
        if req and name not in flags:
            raise Unusable("missing --" + name)
    if len(pos) > 1:
        raise Unusable("more than one FILE")
    return cmd, flags, (pos[0] if pos else None)


# FLAG_STDIN holds standard input while a flag's file may still read it (docs/decisions.md, cmd
# 3c: `-` is standard input for a flag's file too, read once): None when the input reads it or
# a flag already did.
FLAG_STDIN = [None]


def read_file(files, path, stdin=None):
    if DECISIONS and path == "-":
        # docs/decisions.md, Cross-package "Command line": `-` as the file is standard input.
        if stdin is not None:
            return stdin
        if FLAG_STDIN[0] is None:
            raise Unusable("standard input is already read")
        data, FLAG_STDIN[0] = FLAG_STDIN[0], None
        return data
    if path not in files:
        raise Unusable("no such file")
    return files[path]


def parse_json_bytes(data, amb):
    """RFC 8259 JSON text in UTF-8 (the only encoding it allows between systems).  Returns the
    value with verifyref's number types (vr.Num for fractions/exponents, vr.NegZero)."""
    if data.startswith(b"\xef\xbb\xbf"):
        # RFC 8259 8.1: "Implementations MUST NOT add a byte order mark ... [parsers] MAY
        # ignore the presence of a byte order mark rather than treating it as an error."
        # canonicaljson decision 13 refuses it too.
        amb.add("bom")
        raise Unusable("byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unusable("not UTF-8")
    if text.strip(" \t\r\n") == "":
        raise Unusable("empty input")
    try:
        v, dup = vr.parse_json(text, amb)
    except (ValueError, RecursionError):
        if re.search(r'[:\[,]\s*-?[0-9]+(\.[0-9]|[eE])|[:\[,]\s*-0[,}\]]|[0-9]{16,}', text):
            # Finding F2's tag: a number strict canonical JSON refuses before the syntax error.
            amb.add("malformed-after-strict-number")
        raise Unusable("malformed JSON")
    if has_surrogate(v):
        # A lone surrogate escape names no code point and has no UTF-8 form: the canonical
        # encoding ("UTF-8") cannot carry it.  canonicaljson decision 12 writes it as a
        # lowercase \udxxx escape in lenient mode and refuses it in strict mode (decision 8).
        amb.add("lone-surrogate")
        if not DECISIONS:
            raise Out(exit=1, either=True, cmp="any", out="", why="lone surrogate")
        SURROGATE[0] = True
    return v, dup


def has_surrogate(v):
    for x in vr.walk(v):
        strs = [x] if isinstance(x, str) else (list(x.keys()) if isinstance(x, dict) else [])
        for t in strs:
            if any(0xD800 <= ord(c) <= 0xDFFF for c in t):
                return True
    return False


def _enc_str(s):
    out = json.dumps(s, ensure_ascii=False)
    return "".join("\\u%04x" % ord(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in out)


vr.enc_str = _enc_str
SURROGATE = [False]
EITHER = [False]


def room_version(flags):
    v = flags["room-version"]
    if v not in VERSIONS:
        raise Unusable("unknown room version")
    return v


def need_object(x):
    if not isinstance(x, dict):
        raise Unusable("not a JSON object")
    return x


def strict_numbers(x, strict, amb):
    why = vr.check_numbers(x, strict, amb)
    if why:
        raise Unusable(why)


# ---------------------------------------------------------------- key files

def parse_signing_key(data, amb):
    """`ed25519 <key version> <unpadded base64 32-byte seed>`, one line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unusable("key file not UTF-8")
    lines = [ln for ln in text.split("\n")]
    if lines and lines[-1] == "":
        lines = lines[:-1]  # the final newline of a text file
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if len(lines) != 1:
        # "one line": a file of several keys (Synapse's format allows it) or comments.
        amb.add("keyfile-lines")
        # roomproto: signing decision 2 (a file of two keys is refused).
        raise Unusable("key file of %d lines" % len(lines))
    line = lines[0]
    parts = line.split(" ")
    if len(parts) != 3:
        parts2 = line.split()
        if len(parts2) == 3:
            # Runs of spaces, surrounding whitespace: signing decision 2 tolerates them.
            amb.add("keyfile-whitespace")
            if not DECISIONS:
                EITHER[0] = True
            parts = parts2
        else:
            raise Unusable("key line is not three fields")
    alg, ver, seed = parts
    if alg != "ed25519":
        raise Unusable("unknown algorithm")
    if ver == "":
        raise Unusable("empty key version")
    if not all(c.isascii() and (c.isalnum() or c == "_") for c in ver):
        # The spec extract says only that a key identifier distinguishes the keys of an
        # entity; the [a-zA-Z0-9_] grammar of key versions is in the key server API, which
        # is not part of the extract.
        amb.add("keyfile-version-chars")
        raise Out(exit=1, either=not DECISIONS, cmp="any", out="", why="key version characters")
    amb2 = set()
    raw = vr.b64decode(seed, amb2)
    if seed.endswith("="):
        amb.add("keyfile-padded")
    if raw is None or len(raw) != 32:
        raise Unusable("bad seed")
    return ver, Ed25519PrivateKey.from_private_bytes(raw)


def parse_keys_file(data, amb):
    """`{"server.name": {"ed25519:<key version>": "<unpadded base64 public key>"}}`."""
    v, _ = parse_json_bytes(data, amb)
    if not isinstance(v, dict):
        raise Unusable("keys file not an object")
    out = {}
    for srv, ks in v.items():
        if not isinstance(ks, dict):
            raise Unusable("keys file entry not an object")
        out[srv] = {}
        for kid, k in ks.items():
            alg, sep, ver = kid.partition(":")
            if DECISIONS and (not sep or not alg or not ver):
                # cli decision 3a: a malformed key ID (no ':', empty algorithm or version) is refused
                raise Unusable("malformed key ID")
            if alg != "ed25519" or not sep:
                # "Checking for a Signature" step 2: key IDs of algorithms it doesn't understand
                # are removed, whatever their value (cli decision 3a; finding F1, settled)
                amb.add("keys-unknown-algorithm")
                continue
            if not isinstance(k, str):
                raise Unusable("key not a string")
            raw = vr.b64decode(k, set())
            if raw is None or len(raw) != 32:
                amb.add("keys-bad-key")
                raise Unusable("bad public key")
            out[srv][kid] = k
    return out


# ---------------------------------------------------------------- commands

def sign_object(obj, server, ver, priv):
    signed = {k: x for k, x in obj.items() if k not in ("signatures", "unsigned")}
    sig = b64u(priv.sign(vr.canonical_bytes(signed)))
    out = dict(obj)
    sigs = dict(out.get("signatures") or {})
    ent = dict(sigs.get(server) or {})
    ent["ed25519:" + ver] = sig
    sigs[server] = ent
    out["signatures"] = sigs
    return out


def content_hash(ev):
    body = {k: x for k, x in ev.items() if k not in ("unsigned", "signatures", "hashes")}
    return b64u(hashlib.sha256(vr.canonical_bytes(body)).digest())


def event_id(v, ev):
    n = int(v)
    if n <= 2:
        eid = ev.get("event_id")
        if not isinstance(eid, str):
            raise Unusable("no event_id")
        return eid
    red = vr.redact(vr.V(v), ev, set())
    body = {k: x for k, x in red.items() if k not in ("signatures", "unsigned")}
    h = hashlib.sha256(vr.canonical_bytes(body)).digest()
    return "$" + (b64u(h) if n == 3 else b64url(h))


def bytes_out(s):
    raise Out(exit=0, cmp="bytes", out=s)


def nesting(v):
    """The nesting depth of a JSON value: 0 for a scalar, 1 for [] or {}."""
    depth, stack = 0, [(v, 1)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, (list, dict)):
            depth = max(depth, d)
            stack.extend((y, d + 1) for y in (x.values() if isinstance(x, dict) else x))
    return depth


def cmd_canonical(flags, data, amb):
    v, dup = parse_json_bytes(data, amb)
    if DECISIONS and nesting(v) > 127:
        # docs/decisions.md (canonicaljson) 20: nesting deeper than DefaultMaxDepth (127) is
        # refused (the spec sets no limit).
        raise Unusable("nesting deeper than 127")
    if flags.get("strict"):
        if dup:
            amb.add("strict-duplicate-keys")
            if not DECISIONS:
                raise Out(exit=0, either=True, cmp="bytes", out=vr.canonical(v))
        strict_extra(dup, "canonical")
        strict_numbers(v, True, amb)
    else:
        vr.check_numbers(v, False, amb)
    try:
        out = vr.canonical(v)
    except (OverflowError, ValueError):
        amb.add("float-overflow")  # 1e400: no canonical form, no number of IEEE doubles
        raise Out(exit=0, either=True, cmp="any", out="")
    bytes_out(out)


def event_input(flags, data, amb, strict_by_version=True):
    ev, dup = parse_json_bytes(data, amb)
    need_object(ev)
    why = vr.check_format(vr.V(flags.get("room-version") if flags.get("room-version") in VERSIONS else "9"),
                          ev, set())
    if why:
        # "an event": whether an object that is not a PDU of the version (a field missing or
        # of the wrong type) is unusable input (exit 1) or is processed all the same is not
        # said; the commands that need only some fields can do either.
        amb.add("not-a-pdu")
        if "content" not in ev or not isinstance(ev.get("content"), dict):
            amb.add("no-content-object")
            raise Out(exit=0, either=True, cmp="any", out="", why=why)
        NOT_PDU[0] = True
    if "room-version" in flags:
        v = room_version(flags)
        if strict_by_version and int(v) >= 6:
            # v6-canonical-json: strictly enforced; whether a tool that only transforms an
            # event (redact, event-id) refuses out-of-range numbers is not said.
            # roomproto: redaction decision 4, signing decision 8 (refused).
            strict_extra(dup, "event")
            why = vr.check_numbers(ev, True, set())
            if why:
                amb.add("strict-numbers-event")
                raise Out(exit=1, either=not DECISIONS, cmp="any", out="", why=why)
        else:
            vr.check_numbers(ev, False, amb)
    return ev


def cmd_redact(flags, data, amb):
    v = room_version(flags)
    ev = event_input(flags, data, amb)
    bytes_out(vr.canonical(vr.redact(vr.V(v), ev, amb)))


def cmd_content_hash(flags, data, amb):
    ev = event_input(flags, data, amb)
    vr.check_numbers(ev, False, amb)
    bytes_out(json.dumps({"sha256": content_hash(ev)}, separators=(",", ":")))


def cmd_event_id(flags, data, amb):
    v = room_version(flags)
    ev = event_input(flags, data, amb)
    bytes_out(event_id(v, ev))


def cmd_sign(flags, files, data, amb):
    ver, priv = parse_signing_key(read_file(files, flags["key"]), amb)
    obj, _ = parse_json_bytes(data, amb)
    need_object(obj)
    vr.check_numbers(obj, False, amb)
    if "signatures" in obj and not isinstance(obj["signatures"], dict):
        raise Unusable("signatures not an object")
    s = obj.get("signatures", {}).get(flags["server-name"])
    if s is not None and not isinstance(s, dict):
        raise Unusable("signatures entry not an object")
    bytes_out(vr.canonical(sign_object(obj, flags["server-name"], ver, priv)))


def cmd_sign_event(flags, files, data, amb):
    v = room_version(flags)
    ver, priv = parse_signing_key(read_file(files, flags["key"]), amb)
    ev = event_input(flags, data, amb)
    if "signatures" in ev and not isinstance(ev["signatures"], dict):
        raise Unusable("signatures not an object")
    ev = dict(ev)
    ev["hashes"] = {"sha256": content_hash(ev)}
    red = vr.redact(vr.V(v), ev, amb)
    signed = sign_object(red, flags["server-name"], ver, priv)
    out = dict(ev)
    out["signatures"] = signed["signatures"]
    bytes_out(vr.canonical(out))


def cmd_verify(flags, files, data, amb):
    keys = parse_keys_file(read_file(files, flags["keys"]), amb)
    obj, _ = parse_json_bytes(data, amb)
    need_object(obj)
    vr.check_numbers(obj, False, amb)
    sigs = obj.get("signatures")
    if sigs is None:
        raise Out(exit=0, cmp="verdict", fields={"valid": False}, free=["reason"])
    if not isinstance(sigs, dict):
        amb.add("verify-signatures-shape")
        raise Out(exit=0, either=True, cmp="verdict", fields={"valid": False}, free=["reason"])
    signed = vr.canonical_bytes({k: x for k, x in obj.items() if k not in ("signatures", "unsigned")})
    known, ok = 0, True
    for srv, ent in sigs.items():
        if not isinstance(ent, dict):
            # appendices "Checking for a Signature": a check reads only the entry of the entity
            # it checks (step 1), and DESIGN's `verify` skips servers it has no key for; an
            # entry that is not an object holds no signature by a known key.
            amb.add("verify-entry-not-object")
            continue
        for kid, s in ent.items():
            if srv not in keys or kid not in keys[srv]:
                continue
            known += 1
            sig = vr.b64decode(s, amb) if isinstance(s, str) else None
            if sig is None or not vr.ed_verify(vr.b64decode(keys[srv][kid], set()), signed, sig):
                ok = False
    if known and ok:
        raise Out(exit=0, cmp="verdict", fields={"valid": True}, free=[])
    raise Out(exit=0, cmp="verdict", fields={"valid": False}, free=["reason"])


def cmd_verify_event(flags, files, data, amb):
    v = room_version(flags)
    keys = parse_keys_file(read_file(files, flags["keys"]), amb)
    ev, _ = parse_json_bytes(data, amb)
    if not isinstance(ev, dict):
        amb.add("verify-event-not-object")  # unusable, or an event that is not valid
        raise Out(exit=0, either=True, cmp="verdict", fields={"valid": False}, free=["reason"])
    rk = {s: {k: {"key": x, "vu": None} for k, x in ks.items()} for s, ks in keys.items()}
    r = vr.verify({"v": v, "ev": data.decode("utf-8").lstrip("\ufeff"), "keys": rk})
    for a in r.get("amb", []):
        amb.add("verifyref:" + a)
    if r.get("error"):
        raise RuntimeError(r["error"])
    if r["verdict"] == "valid":
        raise Out(exit=0, cmp="verdict", fields={"valid": True}, free=[])
    if r["verdict"] == "reject" and "malformed" in r["kinds"]:
        # Not a PDU of the version: "unusable input" (exit 1) or not valid; the contract does
        # not say which.
        amb.add("verify-event-malformed")
        raise Out(exit=0, either=True, cmp="verdict", fields={"valid": False}, free=["reason"],
                  why=r["why"])
    raise Out(exit=0, cmp="verdict", fields={"valid": False}, free=["reason"], why=r["why"])


def cmd_auth_events(flags, data, amb):
    v = room_version(flags)
    ev = event_input(flags, data, amb)
    if ev.get("type") == "m.room.create":
        # "The auth_events for the m.room.create event in a room is empty".
        if ev.get("state_key") != "":
            amb.add("selection-create-state-key")
        keys = set()
    else:
        keys = authref.selected_keys(authref.V(v), ev, amb)
    pairs = sorted([list(k) for k in keys], key=lambda k: (str(k[0]), str(k[1])))
    # "JSON array of [type, state_key] pairs": the order is not given.
    raise Out(exit=0, cmp="set", out=json.dumps(pairs, separators=(",", ":"), ensure_ascii=False))


def cmd_auth(flags, files, data, amb):
    v = room_version(flags)
    ev = event_input(flags, data, amb)
    av, _ = parse_json_bytes(read_file(files, flags["auth-events"]), amb)
    if not isinstance(av, list) or not all(isinstance(a, dict) for a in av):
        raise Unusable("auth events file is not an array of events")
    keys = parse_keys_file(read_file(files, flags["keys"]), amb) if "keys" in flags else None
    ev_orig = ev
    for a in av:
        vr.check_numbers(a, False, amb)
    ids = [event_id(v, a) for a in av]
    # authref and memberref read numbers as Python's json does (floats as float).
    ev = plain(ev)
    av = [plain(a) for a in av]
    byid = {}
    for i, a in zip(ids, av):
        if i in byid:
            if byid[i] != a:
                # Two different events with one ID (v1-2, where the ID is a field): which one an
                # auth_events entry names is not said. docs/decisions.md authrules "Auth events
                # supplied twice": the first, as a server keeps the first event it has with an ID.
                amb.add("auth-file-duplicate-id")
            continue
        byid[i] = a
    n = int(v)
    cited = []
    for it in ev.get("auth_events") or []:
        cited.append(it[0] if n <= 2 and isinstance(it, list) and it else it)
    req = {"v": v, "ev": ev}
    if n >= 12:
        rid = ev.get("room_id")
        cr = [(i, a) for i, a in zip(ids, av) if a.get("type") == "m.room.create"
              and isinstance(rid, str) and "!" + i[1:] == rid]
        if ev.get("type") != "m.room.create":
            amb.add("v12-create-from-file")
        req["create"], req["create_id"] = (cr[0][1], cr[0][0]) if cr else (None, None)
    auth, auth_ids = [], []
    for c in cited:
        if c not in byid:
            amb.add("auth-event-missing")
            raise Out(exit=0, cmp="verdict", fields={"allowed": False, "severity": "error"},
                      free=["reason", "rule"])
        auth.append(byid[c])
        auth_ids.append(c)
    req["auth"], req["auth_ids"] = auth, auth_ids
    saved = authref.has_signature_from
    if keys is not None:
        # Rule 4.2.1 "validly signed by the homeserver of the user ID": with --keys, a
        # signature of that server by a known key that verifies (authref alone checks presence).
        vv = vr.V(v)
        red = vr.redact(vv, ev_orig, set())
        signed = vr.canonical_bytes({k: x for k, x in red.items() if k not in ("signatures", "unsigned")})
        rk = {sv: {k: {"key": x, "vu": None} for k, x in ks.items()} for sv, ks in keys.items()}

        def has_sig(e, server):
            sigs = ev_orig.get("signatures")
            if not isinstance(sigs, dict) or server not in sigs or not isinstance(sigs[server], dict):
                return False
            st = vr.check_server(vv, ev_orig, signed, server, rk, amb)[0]
            if st == "needkey":
                # No key of that server in the file: not verifiable; presence (as without
                # --keys) or rejection are both readings.
                amb.add("authvia-key-unknown")
                if DECISIONS:
                    return False  # authrules "Rule 4.2.1 without keys": verified, so it fails
                return saved(e, server)
            return st == "ok"
        authref.has_signature_from = has_sig
    try:
        r = authref.check(req)
    finally:
        authref.has_signature_from = saved
    for a in r.get("amb", []):
        amb.add("authref:" + a)
    if r["allow"]:
        raise Out(exit=0, cmp="verdict", fields={"allowed": True}, free=[], why=r["why"])
    raise Out(exit=0, cmp="verdict", fields={"allowed": False, "rule": r["rule"], "severity": severity_of(n, ev, r["rule"])},
              free=["reason"], why=r["why"])


def severity_of(n, ev, rule):
    """The severity of a rejection under rule (decisions.md authrules "Severity"): fatal for an
    event missing what the rules need, error otherwise. Each of the rules below rejects for
    nothing else: the malformed-member rule (4.1 of v6-11, 5.1 of v1-5 and v12), the creator rule
    1.4 of v1-10, the aliases state_key rule 4.1 of v1-5, and the third-party invite's `signed`,
    `mxid` and `token` rules (the invite sub-rule's 1.2 and 1.3)."""
    t = ev.get("type")
    member = "4" if 6 <= n <= 11 else "5"
    invite = member + (".4" if n >= 8 else ".3")
    fatal = (t == "m.room.create" and n <= 10 and rule == "1.4") or \
        (t == "m.room.aliases" and n <= 5 and rule == "4.1") or \
        (t == "m.room.member" and rule in (member + ".1", invite + ".1.2", invite + ".1.3"))
    return "fatal" if fatal else "error"


def cmd_join_decision(flags, data, amb):
    req, _ = parse_json_bytes(data, amb)
    need_object(req)
    v = req.get("room_version")
    if v not in VERSIONS:
        raise Unusable("unknown room version")
    for k in ("user_id", "resident_server"):
        if not isinstance(req.get(k), str):
            raise Unusable("missing " + k)
    if not isinstance(req.get("state"), list):
        raise Unusable("missing state")
    req = plain(req)
    rooms = req.get("rooms", {})
    try:
        r = memberref.decide_join({"op": "join", "v": v, "state": req["state"], "user_id": req["user_id"],
                                   "resident_server": req["resident_server"], "origin": None,
                                   "ver": None, "rooms": rooms})
    except memberref.Invalid as e:
        raise Unusable(str(e))
    for a in r.get("amb", []):
        amb.add("memberref:" + a)
    if r["allow"]:
        if r["needs_authoriser"]:
            # Which able user authorises is not fixed by the spec: any of them (membership
            # decision 7: highest level, then user ID).
            amb.add("authoriser-choice")
            alts = [r["preferred"]] if DECISIONS and r.get("preferred") else r["authorisers"]
            raise Out(exit=0, cmp="verdict", fields={"decision": "allow"},
                      alts={"authorising_user": alts}, free=[], why=r["why"])
        raise Out(exit=0, cmp="verdict", fields={"decision": "allow"}, free=[], why=r["why"])
    raise Out(exit=0, cmp="verdict", fields={"decision": "reject", "status": r["status"],
                                             "errcode": r["errcode"]}, free=["error"], why=r["why"])


def plain(v):
    """v with verifyref's number types turned into Python's json ones (int, float)."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, vr.Num):
        return float(v.text)
    if isinstance(v, vr.NegZero):
        return 0
    return v


def run(req):
    amb = set()
    NOT_PDU[0] = False
    SURROGATE[0] = False
    files = {k: base64.b64decode(x) for k, x in (req.get("files") or {}).items()}
    stdin = base64.b64decode(req.get("stdin") or "")
    try:
        try:
            cmd, flags, path = parse_args(req["args"], amb)
            input_reads_stdin = path is None or (DECISIONS and path == "-")
            FLAG_STDIN[0] = None if input_reads_stdin else stdin
            data = read_file(files, path, stdin) if path is not None else stdin
            if cmd == "canonical":
                cmd_canonical(flags, data, amb)
            elif cmd == "redact":
                cmd_redact(flags, data, amb)
            elif cmd == "content-hash":
                cmd_content_hash(flags, data, amb)
            elif cmd == "event-id":
                cmd_event_id(flags, data, amb)
            elif cmd == "sign":
                cmd_sign(flags, files, data, amb)
            elif cmd == "sign-event":
                cmd_sign_event(flags, files, data, amb)
            elif cmd == "verify":
                cmd_verify(flags, files, data, amb)
            elif cmd == "verify-event":
                cmd_verify_event(flags, files, data, amb)
            elif cmd == "auth-events":
                cmd_auth_events(flags, data, amb)
            elif cmd == "auth":
                cmd_auth(flags, files, data, amb)
            elif cmd == "join-decision":
                cmd_join_decision(flags, data, amb)
            raise RuntimeError("no answer")
        except Unusable as e:
            raise Out(exit=1, cmp="any", out="", why=str(e))
        except OverflowError:
            # A number beyond IEEE doubles (1e400) under this reference's own float reading:
            # the spec gives no canonical form for it.
            amb.add("float-overflow")
            raise Out(exit=0, either=True, cmp="any", out="")
    except Out as o:
        ans = {"exit": 0, "either": False, "cmp": "bytes", "out": "", "fields": {}, "free": [],
               "alts": {}, "why": ""}
        ans.update(o.kw)
        if NOT_PDU[0] or EITHER[0]:
            ans["either"] = True
        EITHER[0] = False
        NOT_PDU[0] = False
        if ans["either"] is False and "flag-after-file" in amb:
            ans["either"] = True
        ans["amb"] = sorted(amb)
        return ans


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = run(json.loads(line))
        except Exception as e:  # a harness problem, reported as such
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes cases.json: the table of cmd/roomproto's CLI tests (cmd/roomproto/cli_cases_test.go).

Every expected output is computed here, independently of roomproto's Go code: canonical JSON
with Python's json (the spec's own reference code, appendices "Canonical JSON"), hashes with
hashlib, Ed25519 with the `cryptography` package, a redaction of the event types used below
(rooms/fragments/v*-redactions.md), and the published vectors themselves: the spec's
appendices "Canonical JSON" examples and "Cryptographic Test Vectors" (read from
../shared/spec/content/appendices.md) and the independent benchmark corpus
(../shared/bench/corpus.json, whose event IDs and signatures are checked here first).

Run from the repository root, with ../shared beside it:  python3 testdata/cli/gen_cases.py

Case format (one object per case):
  name, source            what is tested and where the expectation comes from
  args                    the command line; "@NAME" is replaced by the path of files[NAME]
                          written to a temporary folder ("@NAME" without a file is a path that
                          does not exist: an unreadable file)
  files                   NAME -> file content
  stdin | stdin_base64    standard input (text, or raw bytes in base64 for non-UTF-8 input)
  expect.exit             exit status; 1 and 2 also require exactly one line on stderr, 0 an
                          empty stderr
  expect.stdout           exact standard output
  expect.json_set         stdout is one JSON array of arrays, equal to this one as a set
  expect.json_fields      the last line of stdout is a JSON object with these values; a key
                          "a.b" names a member of a member
  expect.nonempty         members of that object that must be non-empty strings
  expect.absent           members that object must not have
  expect.lines            exact number of stdout lines
  expect.stdout_contains  substrings of stdout
  expect.stderr_contains  substring of the one stderr line
"""
import base64, copy, hashlib, json, os, re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def canonical(v):  # appendices "Canonical JSON", the spec's own Python
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def cb(v):
    return canonical(v).encode("utf-8")


def b64(b):
    return base64.b64encode(b).decode().rstrip("=")


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def unb64(s):
    return base64.b64decode(s + "=" * (-len(s) % 4))


def redact(ev, ver):
    """rooms/fragments/v1-redactions.md (v1-5), v6 (6-7), v8 inline, v9-redactions (9-10),
    v11-redactions (11-12), for the event types used here."""
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
    elif t == "m.room.history_visibility":
        ck = ["history_visibility"]
    elif t == "m.room.power_levels":
        ck = ["ban", "events", "events_default", "kick", "redact", "state_default", "users",
              "users_default"] + (["invite"] if v >= 11 else [])
    elif t == "m.room.redaction" and v >= 11:
        ck = ["redacts"]
    out["content"] = {k: copy.deepcopy(c[k]) for k in ck if k in c}
    return out


def content_hash(ev):
    return hashlib.sha256(cb({k: v for k, v in ev.items() if k not in ("unsigned", "signatures", "hashes")})).digest()


def signed_part(obj):
    return cb({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


def event_id(ev, ver):
    v = int(ver)
    if v <= 2:
        return ev["event_id"]
    h = hashlib.sha256(signed_part(redact(ev, ver))).digest()
    return "$" + (b64(h) if v == 3 else b64url(h))


def sign_json(obj, server, seed, key_id="ed25519:1"):
    obj = copy.deepcopy(obj)
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(signed_part(obj))
    obj.setdefault("signatures", {}).setdefault(server, {})[key_id] = b64(sig)
    return obj


def sign_event(ev, ver, server, seed):  # server-server-api "Example code", hash_and_sign_event
    ev = copy.deepcopy(ev)
    ev["hashes"] = {"sha256": b64(content_hash(ev))}
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(signed_part(redact(ev, ver)))
    ev.setdefault("signatures", {}).setdefault(server, {})["ed25519:1"] = b64(sig)
    return ev


def seed_for(server):  # the bench corpus convention: seed = sha256(server name)
    return hashlib.sha256(server.encode()).digest()


def public_b64(seed):
    from cryptography.hazmat.primitives import serialization
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return b64(pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def text(v):  # how an input is written to stdin: ordinary, non-canonical JSON
    return json.dumps(v, ensure_ascii=False)


# ---- the published vectors -------------------------------------------------------------------

appendix = open(os.path.join(SHARED, "spec", "content", "appendices.md"), encoding="utf-8").read()


def json_blocks(section_start, section_end):
    part = appendix[appendix.index(section_start):appendix.index(section_end)]
    return re.findall(r"```json\n(.*?)```", part, re.S)


canon_examples = json_blocks("#### Examples", "### Signing Details")
assert len(canon_examples) % 2 == 0 and len(canon_examples) >= 20, len(canon_examples)
canon_examples = [(canon_examples[i], canon_examples[i + 1].strip()) for i in range(0, len(canon_examples), 2)]

vectors = json_blocks("## Cryptographic Test Vectors", "## Conventions for Matrix APIs")
assert len(vectors) == 8, len(vectors)
SPEC_SEED_B64 = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
assert SPEC_SEED_B64 in appendix
SPEC_SEED = unb64(SPEC_SEED_B64)
SPEC_KEY_FILE = "ed25519 1 %s\n" % SPEC_SEED_B64
SPEC_KEYS_FILE = json.dumps({"domain": {"ed25519:1": public_b64(SPEC_SEED)}})
json_in = [json.loads(vectors[0]), json.loads(vectors[2])]
json_out = [json.loads(vectors[1]), json.loads(vectors[3])]
ev_in = [json.loads(vectors[4]), json.loads(vectors[6])]
ev_out = [json.loads(vectors[5]), json.loads(vectors[7])]
for i in range(2):  # the oracle reproduces the spec (room version 1 redaction keeps origin)
    assert sign_json(json_in[i], "domain", SPEC_SEED) == json_out[i]
    assert sign_event(ev_in[i], "1", "domain", SPEC_SEED) == ev_out[i]

corpus = json.load(open(os.path.join(SHARED, "bench", "corpus.json"), encoding="utf-8"))
assert corpus["room_version"] == "9"
EV = corpus["events"]
IDS = corpus["event_ids"]
KEYS = corpus["keys"]
for i, e in enumerate(EV):  # the corpus agrees with the oracle
    assert event_id(e, "9") == IDS[i], i
    assert b64(content_hash(e)) == e["hashes"]["sha256"], i
    for server in e["signatures"]:
        assert public_b64(seed_for(server)) == KEYS[server]["ed25519:1"]
KEYS_FILE = json.dumps(KEYS)
CREATE, ALICE, PL, JR, HV, NAME, TOPIC, BOB, CAROL, DAVE = EV[:10]
MSG, REDACTION = EV[10], EV[17]
assert BOB["content"].get("join_authorised_via_users_server") == "@alice:a.example"
assert DAVE["type"] == "m.room.member" and "join_authorised_via_users_server" not in DAVE["content"]

cases = []


def case(name, source, args, expect, stdin="", files=None, stdin_bytes=None):
    c = {"name": name, "source": source, "args": args, "files": files or {}}
    if stdin_bytes is not None:
        c["stdin_base64"] = base64.b64encode(stdin_bytes).decode()
    else:
        c["stdin"] = stdin
    c["expect"] = expect
    cases.append(c)


def unusable(name, args, stdin="", files=None, contains=None, stdin_bytes=None):
    e = {"exit": 1}
    if contains:
        e["stderr_contains"] = contains
    case(name, "DESIGN.md CLI contract: unusable input exits 1 with one line on stderr", args, e,
         stdin, files, stdin_bytes)


MALFORMED = '{"type": "m.room.message", "content": {'

# ---- canonical -------------------------------------------------------------------------------
for i, (given, want) in enumerate(canon_examples):
    case("canonical: appendix example %d" % i, 'appendices "Canonical JSON" › Examples',
         ["canonical"], {"exit": 0, "stdout": want}, stdin=given)
case("canonical: FILE argument", "DESIGN.md: reads JSON from a file argument",
     ["canonical", "@in"], {"exit": 0, "stdout": '{"a":[1,{"b":null}],"z":"\\u0000\\n"}'},
     files={"in": '{"z": "\\u0000\\n", "a": [1, {"b": null}]}'})
case("canonical --strict: integers only", 'appendices "Canonical JSON" (strict, v6+)',
     ["canonical", "--strict"], {"exit": 0, "stdout": '{"a":9007199254740991,"b":-9007199254740991}'},
     stdin='{"b": -9007199254740991, "a": 9007199254740991}')
unusable("canonical --strict: a float", ["canonical", "--strict"], stdin='{"a": 1.5}')
unusable("canonical --strict: -0 and 1e10 (the appendix example)", ["canonical", "--strict"],
         stdin='{"a": -0, "b": 1e10}')
unusable("canonical --strict: 2^53", ["canonical", "--strict"], stdin='{"a": 9007199254740992}')
case("canonical: a flag after the FILE argument", "decision: flags before or after the file argument",
     ["canonical", "@in", "--strict"], {"exit": 0, "stdout": '{"a":1,"b":2}'}, files={"in": '{"b": 2, "a": 1}'})
unusable("canonical: a flag after the FILE argument still applies", ["canonical", "@in", "--strict"],
         files={"in": '{"a": 1.5}'})
case("canonical: - is standard input", "decision: \"-\" names standard input",
     ["canonical", "-"], {"exit": 0, "stdout": '{"a":1,"b":2}'}, stdin='{"b": 2, "a": 1}')
case("canonical: -- ends the flags", "decision: flags before or after the file argument",
     ["canonical", "--", "@in"], {"exit": 0, "stdout": '{"a":1}'}, files={"in": '{"a": 1}'})
unusable("canonical: two FILE arguments around a flag", ["canonical", "@in", "--strict", "@in"],
         files={"in": '{"a": 1}'})
unusable("canonical --strict: duplicate key after unescaping", ["canonical", "--strict"],
         stdin='{"sender": 1, "\\u0073ender": 2}')
case("canonical: lenient duplicate key, the last wins", "docs/decisions/canonicaljson.md 11",
     ["canonical"], {"exit": 0, "stdout": '{"sender":"@b:y"}'},
     stdin='{"sender": "@a:x", "\\u0073ender": "@b:y"}')
unusable("canonical: malformed JSON", ["canonical"], stdin=MALFORMED)
unusable("canonical: empty input", ["canonical"], stdin="")
unusable("canonical: trailing data", ["canonical"], stdin='{} {}')
unusable("canonical: invalid UTF-8", ["canonical"], stdin_bytes=b'{"a":"\xff"}')
unusable("canonical: nesting deeper than DefaultMaxDepth (127)", ["canonical"], stdin="[" * 128 + "]" * 128)
case("canonical: nesting at DefaultMaxDepth (127)", "docs/decisions/canonicaljson.md 20",
     ["canonical"], {"exit": 0, "stdout": "[" * 127 + "]" * 127}, stdin="[ " * 127 + "]" * 127)
unusable("canonical: unreadable FILE", ["canonical", "@missing"])
unusable("canonical: two FILE arguments", ["canonical", "@in", "@in"], files={"in": "{}"})
unusable("canonical: unknown flag", ["canonical", "--frobnicate"], stdin="{}")

# ---- redact ----------------------------------------------------------------------------------
for name, ev in [("restricted join rules keep allow", JR), ("restricted join keeps the authoriser", BOB),
                 ("message loses its content", MSG), ("power levels", PL), ("redaction loses redacts", REDACTION)]:
    case("redact: corpus %s (v9)" % name, "rooms/fragments/v9-redactions.md; bench corpus",
         ["redact", "--room-version", "9"], {"exit": 0, "stdout": canonical(redact(ev, "9")) + "\n"}, stdin=text(ev))
case("redact: corpus message (v11 drops origin)", "rooms/fragments/v11-redactions.md",
     ["redact", "--room-version", "11"], {"exit": 0, "stdout": canonical(redact(MSG, "11")) + "\n"}, stdin=text(MSG))
case("redact: spec event vector 2 (v1)", 'appendices "Cryptographic Test Vectors"; rooms/fragments/v1-redactions.md',
     ["redact", "--room-version", "1"], {"exit": 0, "stdout": canonical(redact(ev_out[1], "1")) + "\n"},
     stdin=vectors[7])
unusable("redact: malformed JSON", ["redact", "--room-version", "9"], stdin=MALFORMED)
unusable("redact: unknown room version", ["redact", "--room-version", "99"], stdin=text(MSG))
unusable("redact: missing --room-version", ["redact"], stdin=text(MSG), contains="room-version")
unusable("redact: v9 refuses a float", ["redact", "--room-version", "9"], stdin='{"type":"m.room.message","content":{},"depth":1.5}')
unusable("redact: unreadable FILE", ["redact", "--room-version", "9", "@missing"])

# ---- content-hash ----------------------------------------------------------------------------
for i in range(2):
    want = ev_out[i]["hashes"]["sha256"]
    assert b64(content_hash(ev_in[i])) == want
    case("content-hash: spec event vector %d" % (i + 1), 'appendices "Cryptographic Test Vectors" › Event Signing',
         ["content-hash"], {"exit": 0, "stdout": canonical({"sha256": want}) + "\n"}, stdin=vectors[4 + 2 * i])
case("content-hash: corpus message", "server-server-api \"Calculating the content hash\"; bench corpus",
     ["content-hash"], {"exit": 0, "stdout": canonical({"sha256": MSG["hashes"]["sha256"]}) + "\n"}, stdin=text(MSG))
unusable("content-hash: malformed JSON", ["content-hash"], stdin=MALFORMED)
unusable("content-hash: not an object", ["content-hash"], stdin="[]")
unusable("content-hash: unreadable FILE", ["content-hash", "@missing"])

# ---- event-id --------------------------------------------------------------------------------
for i in [0, 2, 3, 7, 10, 17]:
    case("event-id: corpus event %d (v9)" % i, "rooms/fragments/v4-event-ids.md; bench corpus event_ids",
         ["event-id", "--room-version", "9"], {"exit": 0, "stdout": IDS[i] + "\n"}, stdin=text(EV[i]))
case("event-id: --room-version after the FILE argument", "decision: flags before or after the file argument",
     ["event-id", "@ev", "--room-version", "9"], {"exit": 0, "stdout": IDS[0] + "\n"}, files={"ev": text(EV[0])})
case("event-id: corpus message as v3 (standard base64)", "rooms/v3.md \"Event IDs\"",
     ["event-id", "--room-version", "3"], {"exit": 0, "stdout": event_id(MSG, "3") + "\n"}, stdin=text(MSG))
case("event-id: v1 is the event's own event_id", "rooms/fragments/v1-event-ids.md; spec event vector 2",
     ["event-id", "--room-version", "1"], {"exit": 0, "stdout": "$0:domain\n"}, stdin=vectors[7])
unusable("event-id: v1 event without event_id", ["event-id", "--room-version", "1"], stdin=vectors[4])
unusable("event-id: v1 event_id longer than 255 bytes", ["event-id", "--room-version", "1"],
         stdin=text(dict(ev_out[1], event_id="$" + "x" * 248 + ":domain")))
case("event-id: v1 event_id of exactly 255 bytes", 'appendices "Event IDs": at most 255 bytes',
     ["event-id", "--room-version", "1"], {"exit": 0, "stdout": "$" + "x" * 247 + ":domain\n"},
     stdin=text(dict(ev_out[1], event_id="$" + "x" * 247 + ":domain")))
assert len("$" + "x" * 247 + ":domain") == 255
unusable("event-id: v1 event_id with a line break is not an event ID", ["event-id", "--room-version", "1"],
         stdin=text(dict(ev_out[1], event_id="$0:domain\n$1:domain")))
for what, ch in [("a line break", "\n"), ("a carriage return", "\r"),
                 ("U+2028 (a line separator)", "\u2028"), ("a vertical tab", "\x0b")]:
    unusable("event-id: v1 event_id with %s in its opaque part cannot be printed on one line" % what,
             ["event-id", "--room-version", "1"], stdin=text(dict(ev_out[1], event_id="$e" + ch + "v:domain")),
             contains="line break")
case("event-id: v1 event_id with a control character in its opaque part", 'appendices "Room IDs" grammar of opaque_id (control characters allowed); docs/decisions.md cross-package',
     ["event-id", "--room-version", "1"], {"exit": 0, "stdout": "$e\x01v:domain\n"},
     stdin=text(dict(ev_out[1], event_id="$e\x01v:domain")))
case("event-id: v1 event_id with an empty opaque part", "rooms/fragments/v1-event-ids.md",
     ["event-id", "--room-version", "1"], {"exit": 0, "stdout": "$:domain\n"},
     stdin=text(dict(ev_out[1], event_id="$:domain")))
unusable("event-id: v1 event_id holding NUL", ["event-id", "--room-version", "1"],
         stdin=text(dict(ev_out[1], event_id="$e\x00v:domain")))
unusable("event-id: v1 event_id whose domain is not a server name", ["event-id", "--room-version", "1"],
         stdin=text(dict(ev_out[1], event_id="$0:exa_mple.org")))
unusable("event-id: malformed JSON", ["event-id", "--room-version", "9"], stdin=MALFORMED)
unusable("event-id: unknown room version", ["event-id", "--room-version", "99"], stdin=text(MSG))
unusable("event-id: missing --room-version", ["event-id"], stdin=text(MSG), contains="room-version")

# ---- sign ------------------------------------------------------------------------------------
for i in range(2):
    case("sign: spec JSON vector %d" % (i + 1), 'appendices "Cryptographic Test Vectors" › JSON Signing',
         ["sign", "--server-name", "domain", "--key", "@key"], {"exit": 0, "stdout": canonical(json_out[i]) + "\n"},
         stdin=vectors[2 * i], files={"key": SPEC_KEY_FILE})
obj = {"old_verify_keys": {}, "server_name": "a.example", "unsigned": {"x": 1},
       "signatures": {"b.example": {"ed25519:1": "c2ln"}}}
case("sign: keeps unsigned and other signatures", 'appendices "Signing Details"',
     ["sign", "--server-name", "a.example", "--key", "@key"],
     {"exit": 0, "stdout": canonical(sign_json(obj, "a.example", seed_for("a.example"))) + "\n"},
     stdin=text(obj), files={"key": "ed25519 1 %s\n" % b64(seed_for("a.example"))})
obj = {"server_name": "a.example", "signatures": {"b.example": {}, "a.example": {"ed25519:0": "k0"}}}
case("sign: keeps another server's empty signatures object and its own other keys", 'appendices "Signing Details"',
     ["sign", "--server-name", "a.example", "--key", "@key"],
     {"exit": 0, "stdout": canonical(sign_json(obj, "a.example", seed_for("a.example"))) + "\n"},
     stdin=text(obj), files={"key": "ed25519 1 %s\n" % b64(seed_for("a.example"))})
unusable("sign: malformed JSON", ["sign", "--server-name", "domain", "--key", "@key"], stdin=MALFORMED,
         files={"key": SPEC_KEY_FILE})
unusable("sign: missing --server-name", ["sign", "--key", "@key"], stdin="{}", files={"key": SPEC_KEY_FILE},
         contains="server-name")
unusable("sign: missing --key", ["sign", "--server-name", "domain"], stdin="{}", contains="key")
unusable("sign: unreadable key file", ["sign", "--server-name", "domain", "--key", "@missing"], stdin="{}")
unusable("sign: key file is not a key", ["sign", "--server-name", "domain", "--key", "@key"], stdin="{}",
         files={"key": "ed25519 1 not-base64!\n"})

# ---- sign-event ------------------------------------------------------------------------------
for i in range(2):
    case("sign-event: spec event vector %d (v1)" % (i + 1), 'appendices "Cryptographic Test Vectors" › Event Signing',
         ["sign-event", "--room-version", "1", "--server-name", "domain", "--key", "@key"],
         {"exit": 0, "stdout": canonical(ev_out[i]) + "\n"}, stdin=vectors[4 + 2 * i], files={"key": SPEC_KEY_FILE})
unsigned_msg = {k: v for k, v in MSG.items() if k not in ("hashes", "signatures")}
assert sign_event(unsigned_msg, "9", "b.example", seed_for("b.example")) == MSG
case("sign-event: corpus message (v9)", "server-server-api \"Adding hashes and signatures\"; bench corpus",
     ["sign-event", "--room-version", "9", "--server-name", "b.example", "--key", "@key"],
     {"exit": 0, "stdout": canonical(MSG) + "\n"}, stdin=text(unsigned_msg),
     files={"key": "ed25519 1 %s\n" % b64(seed_for("b.example"))})
unusable("sign-event: malformed JSON", ["sign-event", "--room-version", "1", "--server-name", "domain", "--key", "@key"],
         stdin=MALFORMED, files={"key": SPEC_KEY_FILE})
unusable("sign-event: unknown room version", ["sign-event", "--room-version", "99", "--server-name", "domain", "--key", "@key"],
         stdin=vectors[4], files={"key": SPEC_KEY_FILE})
unusable("sign-event: missing --room-version", ["sign-event", "--server-name", "domain", "--key", "@key"],
         stdin=vectors[4], files={"key": SPEC_KEY_FILE}, contains="room-version")
unusable("sign-event: missing --server-name", ["sign-event", "--room-version", "1", "--key", "@key"],
         stdin=vectors[4], files={"key": SPEC_KEY_FILE}, contains="server-name")
unusable("sign-event: unreadable key file", ["sign-event", "--room-version", "1", "--server-name", "domain", "--key", "@missing"],
         stdin=vectors[4])

# ---- verify ----------------------------------------------------------------------------------
VALID = {"exit": 0, "stdout": '{"valid":true}\n'}


def invalid(*contains):
    e = {"exit": 0, "json_fields": {"valid": False}, "nonempty": ["reason"], "lines": 1}
    return e


for i in range(2):
    case("verify: spec JSON vector %d" % (i + 1), 'appendices "Cryptographic Test Vectors"; "Checking for a Signature"',
         ["verify", "--keys", "@keys"], VALID, stdin=vectors[2 * i + 1], files={"keys": SPEC_KEYS_FILE})
tampered = copy.deepcopy(json_out[1]); tampered["two"] = "Three"
case("verify: changed value", 'appendices "Checking for a Signature"', ["verify", "--keys", "@keys"],
     invalid(), stdin=text(tampered), files={"keys": SPEC_KEYS_FILE})
case("verify: unsigned object", 'appendices "Checking for a Signature" step 1', ["verify", "--keys", "@keys"],
     invalid(), stdin='{"one": 1}', files={"keys": SPEC_KEYS_FILE})
case("verify: only unknown keys", "DESIGN.md verify: at least one signature by a known key", ["verify", "--keys", "@keys"],
     invalid(), stdin=vectors[3], files={"keys": KEYS_FILE})
case("verify: unsigned is not covered", 'appendices "Signing Details"', ["verify", "--keys", "@keys"], VALID,
     stdin=text(dict(json_out[1], unsigned={"age": 5})), files={"keys": SPEC_KEYS_FILE})
junk = copy.deepcopy(json_out[1])
junk["signatures"].update({"notary.example": 5, "relay.example": {"ed25519:1": []}})
junk["signatures"]["domain"]["curve25519:1"] = {"x": 1}
case("verify: entries that are not signatures are ignored", 'appendices "Checking for a Signature" steps 1-2',
     ["verify", "--keys", "@keys"], VALID, stdin=text(junk), files={"keys": SPEC_KEYS_FILE})
nonstring = copy.deepcopy(json_out[1]); nonstring["signatures"]["domain"]["ed25519:1"] = 5
case("verify: a known key's signature that is not a string", 'appendices "Checking for a Signature" step 4',
     ["verify", "--keys", "@keys"], invalid(), stdin=text(nonstring), files={"keys": SPEC_KEYS_FILE})
unusable("verify: malformed JSON", ["verify", "--keys", "@keys"], stdin=MALFORMED, files={"keys": SPEC_KEYS_FILE})
for label, raw in [("empty input", ""), ("a bare word", "not json"), ("a truncated literal", "nul"),
                   ("a truncated array", "[1,"), ("an unterminated string", '"abc')]:
    unusable("verify: not JSON: " + label, ["verify", "--keys", "@keys"], stdin=raw, files={"keys": SPEC_KEYS_FILE})
unusable("verify: not JSON: a byte order mark", ["verify", "--keys", "@keys"], stdin_bytes=b"\xef\xbb\xbf{}",
         files={"keys": SPEC_KEYS_FILE})
unusable("verify: missing --keys", ["verify"], stdin=vectors[3], contains="keys")
unusable("verify: unreadable keys file", ["verify", "--keys", "@missing"], stdin=vectors[3])
unusable("verify: keys file is not JSON", ["verify", "--keys", "@keys"], stdin=vectors[3], files={"keys": "{domain"})

# ---- verify-event ----------------------------------------------------------------------------
for i in [0, 7, 10, 17]:
    case("verify-event: corpus event %d" % i, "server-server-api \"Validating hashes and signatures\"; bench corpus",
         ["verify-event", "--room-version", "9", "--keys", "@keys"], VALID, stdin=text(EV[i]), files={"keys": KEYS_FILE})
changed = copy.deepcopy(MSG); changed["content"]["body"] = "changed"
case("verify-event: changed content fails the content hash", "server-server-api \"Validating hashes and signatures\"",
     ["verify-event", "--room-version", "9", "--keys", "@keys"], dict(invalid(), stdout_contains=["content hash"]),
     stdin=text(changed), files={"keys": KEYS_FILE})
no_authoriser = {k: v for k, v in KEYS.items() if k != "a.example"}
case("verify-event: restricted join without the authorising server's key", "rooms/fragments/v8-auth-rules.md 4.2; server-server-api",
     ["verify-event", "--room-version", "9", "--keys", "@keys"], invalid(), stdin=text(BOB), files={"keys": json.dumps(no_authoriser)})
stripped = copy.deepcopy(BOB); del stripped["signatures"]["a.example"]
case("verify-event: restricted join without the authorising server's signature", "rooms/fragments/v8-auth-rules.md 4.2",
     ["verify-event", "--room-version", "9", "--keys", "@keys"], invalid(), stdin=text(stripped), files={"keys": KEYS_FILE})
resigned = sign_event({k: v for k, v in MSG.items() if k not in ("hashes", "signatures")}, "9", "b.example", seed_for("evil"))
case("verify-event: signature by another key under the same key ID", "appendices \"Checking for a Signature\"",
     ["verify-event", "--room-version", "9", "--keys", "@keys"], invalid(), stdin=text(resigned), files={"keys": KEYS_FILE})
unusable("verify-event: malformed JSON", ["verify-event", "--room-version", "9", "--keys", "@keys"], stdin=MALFORMED,
         files={"keys": KEYS_FILE})
unusable("verify-event: unknown room version", ["verify-event", "--room-version", "99", "--keys", "@keys"], stdin=text(MSG),
         files={"keys": KEYS_FILE})
unusable("verify-event: missing --room-version", ["verify-event", "--keys", "@keys"], stdin=text(MSG), files={"keys": KEYS_FILE},
         contains="room-version")
unusable("verify-event: missing --keys", ["verify-event", "--room-version", "9"], stdin=text(MSG), contains="keys")
unusable("verify-event: unreadable keys file", ["verify-event", "--room-version", "9", "--keys", "@missing"], stdin=text(MSG))
# Malformed JSON whose first problem, read strictly (v6+), is a number: still unusable input
# (tools/cliref F2), as is JSON that is not an object.
for label, raw in [("a float, then the end", '{"a":1.5,'), ("a big integer, then the end", '{"a":9007199254740993,'),
                   ("-0, then the end", '{"a":-0,"b":'), ("an exponent, then trailing data", '{"a":1e2}x')]:
    unusable("verify-event: malformed JSON after " + label, ["verify-event", "--room-version", "9", "--keys", "@keys"],
             stdin=raw, files={"keys": KEYS_FILE})
for label, raw in [("an array", "[1]"), ("a string", '"s"')]:
    unusable("verify-event: not an object: " + label, ["verify-event", "--room-version", "9", "--keys", "@keys"],
             stdin=raw, files={"keys": KEYS_FILE})
    unusable("verify: not an object: " + label, ["verify", "--keys", "@keys"], stdin=raw, files={"keys": SPEC_KEYS_FILE})
# Key IDs of another algorithm in --keys are skipped (appendices "Checking for a Signature", step 2).
OTHER_ALG_KEYS = json.dumps({s: dict(k, **{"curve25519:1": "HvqOKzpifWrfoSnzjnYfgw5fZbuVL/H02Lpf7WLryEI"}) for s, k in KEYS.items()})
case("verify-event: keys file with a key of another algorithm", 'appendices "Checking for a Signature" step 2',
     ["verify-event", "--room-version", "9", "--keys", "@keys"], VALID, stdin=text(MSG), files={"keys": OTHER_ALG_KEYS})

# ---- auth-events -----------------------------------------------------------------------------
sel = [
    ("a message", MSG, [["m.room.create", ""], ["m.room.power_levels", ""], ["m.room.member", "@bob:b.example"]]),
    ("a restricted join", BOB, [["m.room.create", ""], ["m.room.power_levels", ""], ["m.room.member", "@bob:b.example"],
                                ["m.room.join_rules", ""], ["m.room.member", "@alice:a.example"]]),
    ("the create event", CREATE, []),
    ("a power levels event", PL, [["m.room.create", ""], ["m.room.power_levels", ""], ["m.room.member", "@alice:a.example"]]),
]
for name, ev, want in sel:
    case("auth-events: %s" % name, "server-server-api \"Auth events selection\"", ["auth-events", "--room-version", "9"],
         {"exit": 0, "json_set": want, "lines": 1}, stdin=text(ev))
unusable("auth-events: malformed JSON", ["auth-events", "--room-version", "9"], stdin=MALFORMED)
unusable("auth-events: not an event", ["auth-events", "--room-version", "9"], stdin='{"type": "m.room.message"}')
unusable("auth-events: unknown room version", ["auth-events", "--room-version", "99"], stdin=text(MSG))
unusable("auth-events: missing --room-version", ["auth-events"], stdin=text(MSG), contains="room-version")

# ---- auth ------------------------------------------------------------------------------------
AUTH = [CREATE, PL, JR, ALICE]
eve_msg = sign_event({"room_id": "!bench:a.example", "sender": "@eve:e.example", "type": "m.room.message",
                      "content": {"body": "hi", "msgtype": "m.text"}, "auth_events": [IDS[0], IDS[2]],
                      "prev_events": [IDS[17]], "depth": 40, "origin_server_ts": 1700000100000},
                     "9", "e.example", seed_for("e.example"))
KEYS_E = dict(KEYS, **{"e.example": {"ed25519:1": public_b64(seed_for("e.example"))}})
case("auth: restricted join via a joined authoriser is allowed", "rooms/fragments/v8-auth-rules.md 4.3.5.2",
     ["auth", "--room-version", "9", "--auth-events", "@auth", "--keys", "@keys"], {"exit": 0, "stdout": '{"allowed":true}\n'},
     stdin=text(BOB), files={"auth": text(AUTH), "keys": KEYS_FILE})
case("auth: restricted join without --keys is allowed (warning only)", "docs/decisions/authrules.md \"Rule 4.2.1 without keys\"",
     ["auth", "--room-version", "9", "--auth-events", "@auth"], {"exit": 0, "stdout": '{"allowed":true}\n'},
     stdin=text(BOB), files={"auth": text(AUTH)})
case("auth: message from a non-member is rejected by rule 5", "rooms/fragments/v8-auth-rules.md 5",
     ["auth", "--room-version", "9", "--auth-events", "@auth", "--keys", "@keys"],
     {"exit": 0, "json_fields": {"allowed": False, "rule": "5", "severity": "error"}, "nonempty": ["reason"], "lines": 1},
     stdin=text(eve_msg), files={"auth": text([CREATE, PL]), "keys": json.dumps(KEYS_E)})
case("auth: join listing an auth event the selection does not pick (rule 2.2)", "rooms/fragments/v8-auth-rules.md 2.2",
     ["auth", "--room-version", "9", "--auth-events", "@auth"],
     {"exit": 0, "json_fields": {"allowed": False, "rule": "2.2", "severity": "error"}, "nonempty": ["reason"]},
     stdin=text(DAVE), files={"auth": text(AUTH)})
case("auth: an auth event that was not supplied (rule 2)", "docs/decisions/authrules.md \"Missing auth events\"",
     ["auth", "--room-version", "9", "--auth-events", "@auth"],
     {"exit": 0, "json_fields": {"allowed": False, "rule": "2"}, "nonempty": ["reason", "severity"]},
     stdin=text(BOB), files={"auth": text([CREATE, PL, JR])})
bad_sig = copy.deepcopy(BOB); bad_sig["signatures"]["a.example"]["ed25519:1"] = BOB["signatures"]["b.example"]["ed25519:1"]
case("auth: authoriser's signature forged (rule 4.2.1)", "rooms/fragments/v8-auth-rules.md 4.2.1",
     ["auth", "--room-version", "9", "--auth-events", "@auth", "--keys", "@keys"],
     {"exit": 0, "json_fields": {"allowed": False, "rule": "4.2.1"}, "nonempty": ["reason", "severity"]},
     stdin=text(bad_sig), files={"auth": text(AUTH), "keys": KEYS_FILE})
unusable("auth: malformed JSON", ["auth", "--room-version", "9", "--auth-events", "@auth"], stdin=MALFORMED,
         files={"auth": text(AUTH)})
# An object that is no event of the version is DESIGN.md's fatal verdict ("the event could not be
# parsed or misses a required field"), without a rule; input that is not a JSON object is unusable.
no_depth = {k: v for k, v in BOB.items() if k != "depth"}
with_float = copy.deepcopy(BOB); with_float["content"]["x"] = 1.5
for label, ev in [("an event missing a required field", no_depth), ("a float in a v9 event", with_float)]:
    case("auth: " + label + " is a fatal verdict", "DESIGN.md \"Verdicts cite the spec\": fatal",
         ["auth", "--room-version", "9", "--auth-events", "@auth"],
         {"exit": 0, "json_fields": {"allowed": False, "severity": "fatal"}, "nonempty": ["reason"], "absent": ["rule"], "lines": 1},
         stdin=text(ev), files={"auth": text(AUTH)})
unusable("auth: not an object", ["auth", "--room-version", "9", "--auth-events", "@auth"], stdin="[1]",
         files={"auth": text(AUTH)})
unusable("auth: malformed auth events file", ["auth", "--room-version", "9", "--auth-events", "@auth"], stdin=text(BOB),
         files={"auth": "[{"})
unusable("auth: auth events file is not an array", ["auth", "--room-version", "9", "--auth-events", "@auth"], stdin=text(BOB),
         files={"auth": text(CREATE)})
unusable("auth: unknown room version", ["auth", "--room-version", "99", "--auth-events", "@auth"], stdin=text(BOB),
         files={"auth": text(AUTH)})
unusable("auth: missing --room-version", ["auth", "--auth-events", "@auth"], stdin=text(BOB), files={"auth": text(AUTH)},
         contains="room-version")
unusable("auth: missing --auth-events", ["auth", "--room-version", "9"], stdin=text(BOB), contains="auth-events")
unusable("auth: unreadable auth events file", ["auth", "--room-version", "9", "--auth-events", "@missing"], stdin=text(BOB))
unusable("auth: unreadable keys file", ["auth", "--room-version", "9", "--auth-events", "@auth", "--keys", "@missing"],
         stdin=text(BOB), files={"auth": text(AUTH)})

# ---- join-decision ---------------------------------------------------------------------------
STATE = [CREATE, ALICE, PL, JR]


def jd(user, resident, rooms, state=STATE, version="9", **extra):
    return text({"room_version": version, "state": state, "user_id": user, "resident_server": resident, "rooms": rooms,
                 **extra})


case("join-decision: member of an allowed room gets an authoriser", "server-server-api \"Restricted rooms\"",
     ["join-decision"], {"exit": 0, "stdout": canonical({"authorising_user": "@alice:a.example", "decision": "allow"}) + "\n"},
     stdin=jd("@zed:z.example", "a.example", {"!space:a.example": {"@zed:z.example": "join"}}))
case("join-decision: the second allow condition", "client-server-api \"Restricted rooms\" › Conditions",
     ["join-decision"], {"exit": 0, "stdout": canonical({"authorising_user": "@alice:a.example", "decision": "allow"}) + "\n"},
     stdin=jd("@zed:z.example", "a.example", {"!space:a.example": {}, "!other:b.example": {"@zed:z.example": "join"}}))
case("join-decision: already joined needs no authoriser", "rooms/fragments/v8-auth-rules.md 4.3.5.1",
     ["join-decision"], {"exit": 0, "stdout": '{"decision":"allow"}\n'},
     stdin=jd("@alice:a.example", "a.example", {}))
case("join-decision: no allowed room known gives M_UNABLE_TO_AUTHORISE_JOIN", "server-server-api \"Restricted rooms\"",
     ["join-decision"], {"exit": 0, "json_fields": {"decision": "reject", "status": 400, "errcode": "M_UNABLE_TO_AUTHORISE_JOIN"},
                         "nonempty": ["error"]},
     stdin=jd("@zed:z.example", "a.example", {}))
case("join-decision: known rooms, not a member: M_FORBIDDEN", "server-server-api \"Restricted rooms\"",
     ["join-decision"], {"exit": 0, "json_fields": {"decision": "reject", "status": 403, "errcode": "M_FORBIDDEN"},
                         "nonempty": ["error"]},
     stdin=jd("@zed:z.example", "a.example", {"!space:a.example": {"@zed:z.example": "leave"}, "!other:b.example": {}}))
case("join-decision: no user of the resident server can invite: M_UNABLE_TO_GRANT_JOIN", "server-server-api \"Restricted rooms\"",
     ["join-decision"], {"exit": 0, "json_fields": {"decision": "reject", "status": 400, "errcode": "M_UNABLE_TO_GRANT_JOIN"},
                         "nonempty": ["error"]},
     stdin=jd("@zed:z.example", "b.example", {"!space:a.example": {"@zed:z.example": "join"}}))
case("join-decision: ver without the room's version gives M_INCOMPATIBLE_ROOM_VERSION", "joins-v1.yaml \"ver\"",
     ["join-decision"], {"exit": 0, "json_fields": {"decision": "reject", "status": 400,
                                                    "errcode": "M_INCOMPATIBLE_ROOM_VERSION", "room_version": "9"},
                         "nonempty": ["error"]},
     stdin=jd("@zed:z.example", "a.example", {"!space:a.example": {"@zed:z.example": "join"}}, ver=["1"]))
case("join-decision: a user not of the origin server: M_FORBIDDEN", "joins-v1.yaml userId",
     ["join-decision"], {"exit": 0, "json_fields": {"decision": "reject", "status": 403, "errcode": "M_FORBIDDEN"},
                         "nonempty": ["error"]},
     stdin=jd("@zed:z.example", "a.example", {"!space:a.example": {"@zed:z.example": "join"}}, origin="evil.example",
              ver=["9"]))
unusable("join-decision: malformed JSON", ["join-decision"], stdin=MALFORMED)
unusable("join-decision: ver is not an array", ["join-decision"],
         stdin=jd("@zed:z.example", "a.example", {}, ver="9"))
unusable("join-decision: unknown room version", ["join-decision"], stdin=jd("@zed:z.example", "a.example", {}, version="99"))
unusable("join-decision: state event of another format", ["join-decision"],
         stdin=jd("@zed:z.example", "a.example", {}, state=[{"type": "m.room.create"}]))
unusable("join-decision: unreadable FILE", ["join-decision", "@missing"])

# ---- policy-check ----------------------------------------------------------------------------
# server-server-api "Policy Servers" (spec v1.18), written out here from the spec's prose alone.
PS_SEED = hashlib.sha256(b"policy key of policy.example").digest()
PS_KEY_ID = "ed25519:policy_server"


def ps_valid_server_name(s):  # appendices "Server Name", enough for the names used here
    return re.fullmatch(r"[0-9A-Za-z.-]{1,255}(:[0-9]{1,5})?", s) is not None


def policy_server(state):
    """ "Determining if a Policy Server is enabled in a room": the name of the room's Policy
    Server and its key, or None."""
    pol = [e for e in state if e["type"] == "m.room.policy" and e.get("state_key") == ""]
    if not pol:
        return None
    c = pol[0]["content"]
    via, keys = c.get("via"), c.get("public_keys")
    if not isinstance(via, str) or not ps_valid_server_name(via) or not isinstance(keys, dict) \
            or not isinstance(keys.get("ed25519"), str):
        return None
    if not any(e["type"] == "m.room.member" and e["content"].get("membership") == "join"
               and e["state_key"].split(":", 1)[1] == via for e in state):
        return None
    return via, keys["ed25519"]


def policy_recommended(state, ev, ver):
    """ "Validating Policy Server signatures": (recommended, policy server name or None, why not:
    "invalid-key", "missing" or "bad")."""
    ps = policy_server(state)
    if ps is None:
        return True, None, None
    via, key = ps
    if ev["type"] == "m.room.policy" and ev.get("state_key") == "":
        return True, via, None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        pub = Ed25519PublicKey.from_public_bytes(unb64(key))
    except Exception:
        return False, via, "invalid-key"  # no signature can hold
    sig = ev.get("signatures", {}).get(via, {}).get(PS_KEY_ID)
    if sig is None:
        return False, via, "missing"
    try:
        pub.verify(unb64(sig), signed_part(redact(ev, ver)))
        return True, via, None
    except Exception:
        return False, via, "bad"


# The words roomproto's reason starts with for each kind (policyserver's sentinel errors).
PS_REASON = {"invalid-key": "is not an ed25519 public key", "missing": "no Policy Server signature",
             "bad": "invalid Policy Server signature"}


def ps_sign(ev, ver, seed=PS_SEED):  # what the Policy Server's /sign adds
    ev = copy.deepcopy(ev)
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(signed_part(redact(ev, ver)))
    ev.setdefault("signatures", {}).setdefault("policy.example", {})[PS_KEY_ID] = b64(sig)
    return ev


def room_event(typ, state_key, sender, content, depth):
    ev = {"room_id": CREATE["room_id"], "type": typ, "sender": sender, "content": content, "depth": depth,
          "origin_server_ts": 1700000000000 + depth, "prev_events": [], "auth_events": []}
    if state_key is not None:
        ev["state_key"] = state_key
    server = sender.split(":", 1)[1]
    return sign_event(ev, "9", server, seed_for(server))


PS_JOIN = room_event("m.room.member", "@ps:policy.example", "@ps:policy.example", {"membership": "join"}, 30)
PS_INVITE = room_event("m.room.member", "@ps:policy.example", "@alice:a.example", {"membership": "invite"}, 30)


def policy_event(content):
    return room_event("m.room.policy", "", "@alice:a.example", content, 31)


POLICY_CONTENT = {"via": "policy.example", "public_keys": {"ed25519": public_b64(PS_SEED)}}
PS_STATE = [CREATE, ALICE, PL, JR, BOB, PS_JOIN, policy_event(POLICY_CONTENT)]
PS_MSG = ps_sign(MSG, "9")


def policy_case(name, source, state, ev):
    ok, via, why = policy_recommended(state, ev, "9")
    if ok:
        expect = {"exit": 0, "stdout": json.dumps({"recommended": True, "policy_server": via}, separators=(",", ":")) + "\n"}
    else:
        expect = {"exit": 0, "json_fields": {"recommended": False, "policy_server": via}, "nonempty": ["reason"],
                  "stdout_contains": [PS_REASON[why]]}
    case(name, source, ["policy-check", "--room-version", "9", "--state", "@state"], expect, stdin=text(ev),
         files={"state": text(state)})


PS_SRC = "server-server-api \"Validating Policy Server signatures\""
policy_case("policy-check: no m.room.policy: every event recommended", PS_SRC, [CREATE, ALICE, PL, JR, BOB], MSG)
policy_case("policy-check: signed by the Policy Server", PS_SRC, PS_STATE, PS_MSG)
policy_case("policy-check: no Policy Server signature", PS_SRC, PS_STATE, MSG)
policy_case("policy-check: signed by another key under ed25519:policy_server", PS_SRC, PS_STATE,
            ps_sign(MSG, "9", hashlib.sha256(b"another key").digest()))
policy_case("policy-check: content changed after signing: the signature covers the redacted event", PS_SRC, PS_STATE,
            dict(PS_MSG, content=dict(PS_MSG["content"], body="changed")))
policy_case("policy-check: the m.room.policy state event needs no signature", PS_SRC, PS_STATE, policy_event({}))
policy_case("policy-check: an m.room.policy event with another state key needs one", PS_SRC, PS_STATE,
            room_event("m.room.policy", "x", "@alice:a.example", {}, 32))
policy_case("policy-check: Policy Server invited, not joined",
            "server-server-api \"Determining if a Policy Server is enabled in a room\"",
            [CREATE, ALICE, PL, JR, BOB, PS_INVITE, policy_event(POLICY_CONTENT)], MSG)
policy_case("policy-check: via is not a server name", "docs/decisions.md (policy servers) 1",
            [CREATE, ALICE, PL, JR, BOB, PS_JOIN, policy_event(dict(POLICY_CONTENT, via="policy example"))], PS_MSG)
policy_case("policy-check: the room's key is not a key", "docs/decisions.md (policy servers) 2",
            [CREATE, ALICE, PL, JR, BOB, PS_JOIN, policy_event(dict(POLICY_CONTENT, public_keys={"ed25519": "nope"}))],
            PS_MSG)
unusable("policy-check: missing --state", ["policy-check", "--room-version", "9"], stdin=text(MSG), contains="state")
unusable("policy-check: missing --room-version", ["policy-check", "--state", "@state"], stdin=text(MSG),
         files={"state": text(PS_STATE)}, contains="room-version")
unusable("policy-check: state is not an array", ["policy-check", "--room-version", "9", "--state", "@state"],
         stdin=text(MSG), files={"state": text(CREATE)})
unusable("policy-check: state holds a non-state event", ["policy-check", "--room-version", "9", "--state", "@state"],
         stdin=text(MSG), files={"state": text(PS_STATE + [MSG])})
unusable("policy-check: malformed event", ["policy-check", "--room-version", "9", "--state", "@state"],
         stdin=MALFORMED, files={"state": text(PS_STATE)})
unusable("policy-check: unreadable state file", ["policy-check", "--room-version", "9", "--state", "@missing"],
         stdin=text(MSG))

# ---- verify-room -----------------------------------------------------------------------------
DUMP = text({"room_version": "9", "events": EV})
case("verify-room: bench corpus", "DESIGN.md verify-room; bench corpus (its messages list no member auth event)",
     ["verify-room", "--quiet", "--keys", "@keys", "@dump"],
     {"exit": 0, "lines": 9, "json_fields": {"summary.events": 18, "summary.valid": 10, "summary.rejected": 8,
                                             "summary.bad_signature": 0, "summary.missing_key": 0, "summary.malformed": 0,
                                             "summary.redacted": 0, "summary.rejected_by_rule.5": 7,
                                             "summary.rejected_by_rule.2.2": 1}},
     files={"keys": KEYS_FILE, "dump": DUMP})
alice_msg = sign_event({"room_id": "!bench:a.example", "sender": "@alice:a.example", "type": "m.room.message",
                        "content": {"body": "hello", "msgtype": "m.text"}, "auth_events": [IDS[0], IDS[2], IDS[1]],
                        "prev_events": [IDS[3]], "depth": 5, "origin_server_ts": 1700000000001, "origin": "a.example"},
                       "9", "a.example", seed_for("a.example"))
alice_changed = copy.deepcopy(alice_msg); alice_changed["content"]["body"] = "changed"
alice_forged = sign_event({k: v for k, v in alice_msg.items() if k not in ("hashes", "signatures")}, "9", "a.example",
                          seed_for("evil"))
assert event_id(alice_changed, "9") == event_id(alice_forged, "9") == event_id(alice_msg, "9")
case("verify-room: a message whose content hash fails is kept redacted", "server-server-api \"Checks performed on receipt of a PDU\" check 3",
     ["verify-room", "--quiet", "--keys", "@keys"],
     {"exit": 0, "lines": 2, "json_fields": {"summary.events": 5, "summary.valid": 4, "summary.redacted": 1,
                                             "summary.rejected": 0, "summary.bad_signature": 0}},
     stdin=text({"room_version": "9", "events": [CREATE, ALICE, PL, JR, alice_changed]}), files={"keys": KEYS_FILE})
case("verify-room: a forged copy with the same event ID does not taint the genuine event",
     "server-server-api \"Checks performed on receipt of a PDU\" check 2 (a bad signature drops that PDU); docs/decisions/bulk.md 5",
     ["verify-room", "--quiet", "--keys", "@keys"],
     {"exit": 0, "lines": 2, "json_fields": {"summary.events": 6, "summary.valid": 5, "summary.bad_signature": 1,
                                             "summary.rejected": 0}},
     stdin=text({"room_version": "9", "events": [CREATE, ALICE, PL, JR, alice_msg, alice_forged]}), files={"keys": KEYS_FILE})
unusable("verify-room: malformed dump", ["verify-room", "--quiet", "--keys", "@keys"], stdin=MALFORMED, files={"keys": KEYS_FILE})
unusable("verify-room: unknown room version", ["verify-room", "--quiet", "--keys", "@keys"],
         stdin=text({"room_version": "99", "events": []}), files={"keys": KEYS_FILE})
other_create = sign_event(dict({k: v for k, v in CREATE.items() if k not in ("hashes", "signatures", "unsigned")},
                                room_id="!other:a.example"), "9", "a.example", seed_for("a.example"))
case("verify-room: the create event of another room is rejected, as replay rejects it",
     "docs/decisions.md cmd (verify-room: one room, as replay); tools/climisuse C6",
     ["verify-room", "--quiet", "--keys", "@keys"],
     {"exit": 0, "lines": 2, "stdout_contains": ['"index":0', "an event of another room", '"rejected_by_rule":{"":1}'],
      "json_fields": {"summary.events": 5, "summary.valid": 4, "summary.rejected": 1}},
     stdin=text({"room_version": "9", "events": [other_create, CREATE, ALICE, PL, JR]}), files={"keys": KEYS_FILE})
other_tampered = copy.deepcopy(other_create); other_tampered["content"]["m.federate"] = True
case("verify-room: another room's create whose content hash fails is rejected as redacted",
     "server-server-api \"Checks performed on receipt of a PDU\" check 3, then docs/decisions.md cmd (one room)",
     ["verify-room", "--quiet", "--keys", "@keys"],
     {"exit": 0, "lines": 2, "stdout_contains": ['"reason":"(redacted: content hash mismatch) an event of another room'],
      "json_fields": {"summary.events": 5, "summary.valid": 4, "summary.rejected": 1, "summary.redacted": 0}},
     stdin=text({"room_version": "9", "events": [other_tampered, CREATE, ALICE, PL, JR]}), files={"keys": KEYS_FILE})
case("verify-room: a dump whose room_version is not its create event's says so",
     "rooms/v1.md auth rule 1 (content.room_version); docs/decisions.md cmd; tools/climisuse C5",
     ["verify-room", "--quiet", "--keys", "@keys"],
     {"exit": 0, "lines": 1, "stdout_contains": ['"warnings":["event ' + IDS[0] + ' (m.room.create), rule 1.3: content.room_version is \\"9\\" but the event is checked as room version \\"10\\""]'],
      "json_fields": {"summary.events": 4, "summary.valid": 4}},
     stdin=text({"room_version": "10", "events": [CREATE, ALICE, PL, JR]}), files={"keys": KEYS_FILE})
case("verify-room: the dump's keys member is not read", "docs/decisions.md cmd (verify-room takes keys from --keys only); tools/climisuse C4",
     ["verify-room", "--quiet", "--keys", "@keys"],
     {"exit": 0, "lines": 1, "json_fields": {"summary.events": 4, "summary.valid": 4}},
     stdin=text({"room_version": "9", "keys": "not keys", "events": [CREATE, ALICE, PL, JR]}), files={"keys": KEYS_FILE})
case("verify-room --timing: the summary says how long it took", "cmd/roomproto verify-room --timing",
     ["verify-room", "--quiet", "--timing", "--keys", "@keys"],
     {"exit": 0, "lines": 1, "stdout_contains": ['"milliseconds":', '"events_per_second":']},
     stdin=text({"room_version": "9", "events": [CREATE, ALICE, PL, JR]}), files={"keys": KEYS_FILE})
SMALL_DUMP = text({"room_version": "9", "events": [CREATE]})
unusable("verify-room: missing --keys", ["verify-room", "--quiet"], stdin=SMALL_DUMP, contains="keys")
unusable("verify-room: unreadable keys file", ["verify-room", "--quiet", "--keys", "@missing"], stdin=SMALL_DUMP)

# ---- replay ----------------------------------------------------------------------------------
case("replay: the built-in example room", "README quick start", ["replay"],
     {"exit": 0, "stdout_contains": ["rule 4.3.5.2", "rule 4.7.1", "accepted", "summary"]})
case("replay: the bench corpus", "DESIGN.md replay; bench corpus", ["replay", "@dump"],
     {"exit": 0, "lines": 20, "stdout_contains": IDS + ["rule 2.2", "rule 5"]}, files={"dump": DUMP})
case("replay: from standard input", "cmd/roomproto replay -", ["replay", "-"],
     {"exit": 0, "lines": 20, "stdout_contains": IDS}, stdin=DUMP)
unusable("replay: malformed dump", ["replay", "@dump"], files={"dump": MALFORMED})
unusable("replay: unknown room version", ["replay", "@dump"], files={"dump": text({"room_version": "99", "events": []})})
unusable("replay: events not an array", ["replay", "@dump"], files={"dump": text({"room_version": "9", "events": {}})})
unusable("replay: unreadable FILE", ["replay", "@missing"])

# ---- the tool --------------------------------------------------------------------------------
unusable("no command", [])
unusable("unknown command", ["frobnicate"])
unusable("unknown command that looks like a flag", ["--strict"])
case("help", "cmd/roomproto main.go", ["help"], {"exit": 0, "stdout_contains": ["canonical", "verify-room", "join-decision"]})

case("help COMMAND: that command's usage and flags", "cmd/roomproto main.go (roomproto help <command>)", ["help", "verify-room"],
     {"exit": 0, "stdout_contains": ["usage: roomproto verify-room:", "-keys", "-quiet", "-timing"]})
unusable("help: an unknown command", ["help", "frobnicate"], contains="unknown command")
unusable("help: two commands", ["help", "canonical", "redact"], contains="at most one command")

# ---- flags and files (tools/climisuse findings C2, C7, C8, C9) --------------------------------
case("sign: a flag's value \"--\" does not end the flags", "docs/decisions.md cmd: \"--\" ends the flags, not as a value",
     ["sign", "--server-name", "--", "@obj", "--key", "@key"],
     {"exit": 0, "stdout": canonical(sign_json({"a": 1}, "--", seed_for("a.example"))) + "\n"},
     files={"obj": '{"a": 1}', "key": "ed25519 1 %s\n" % b64(seed_for("a.example"))})
unusable("event-id: --room-version given twice", ["event-id", "--room-version", "1", "--room-version", "9"],
         stdin=text(MSG), contains="--room-version given twice")
unusable("verify-event: --keys given twice", ["verify-event", "--room-version", "9", "--keys", "@keys", "--keys", "@keys"],
         stdin=text(MSG), files={"keys": KEYS_FILE}, contains="--keys given twice")
unusable("canonical: --strict given twice", ["canonical", "--strict", "--strict"], stdin="{}", contains="--strict given twice")
case("verify-event: --keys - reads the keys from standard input", "docs/decisions.md cmd: \"-\" is standard input",
     ["verify-event", "--room-version", "9", "--keys", "-", "@ev"], VALID, stdin=KEYS_FILE, files={"ev": text(EV[0])})
unusable("verify-event: --keys - and the event both from standard input", ["verify-event", "--room-version", "9", "--keys", "-"],
         stdin=KEYS_FILE, contains="standard input is already read for --keys")
names = [c["name"] for c in cases]
assert len(names) == len(set(names)), "duplicate case names"
with open(os.path.join(HERE, "cases.json"), "w", encoding="utf-8") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
    f.write("\n")
print("wrote %d cases" % len(cases))

#!/usr/bin/env python3
"""Independent reference of the event-format check of a received PDU (room versions 1-12):
what a receiving server accepts as "a valid event" (server-server-api "Checks performed on
receipt of a PDU", check 1) and, for an accepted event, its event ID.

Written from the spec text only (/work/shared/spec), before reading roomproto's pdu package:
  data/api/server-server/definitions/pdu_v1.yaml (v1-2), pdu_v3.yaml (v3), pdu_v4.yaml (v4-5),
      pdu_v6.yaml (v6-10), pdu_v11.yaml (v11), pdu_v12.yaml (v12) and components/ (pdu_base,
      event_hash, auth_events_prev_events_v4, depth_v6, room_id_before_v12, room_id_v12);
  content/client-server-api/_index.md "Size limits" (65536 bytes of the whole event in the
      federation format, signatures included, as canonical JSON; sender/room_id/event_id by
      the identifier limits (255 bytes), state_key and type 255 bytes);
  content/appendices.md "Canonical JSON" (+ Grammar), "Identifier Grammar", "Server Name",
      "User Identifiers" (+ "Historical User IDs"), "Room IDs", "Event IDs",
      "Unpadded Base64", "URL-safe unpadded Base64";
  rooms/fragments/v1-event-ids.md, rooms/v3.md "Event IDs", rooms/fragments/v4-event-ids.md,
      v1-canonical-json.md / v6-canonical-json.md, rooms/v12.md (room ID = create event ID).
The event ID (v3+: reference hash) reuses tools/verifyref/verifyref.py's redaction and
canonical JSON (also written from the spec only).

Protocol: one JSON object per line on stdin
  {"v": "9", "ev": "<base64 of the received bytes>"}
one JSON object per line on stdout
  {"verdict": "accept" | "refuse", "kinds": [...], "why": "...", "id": "<event ID>" (accept),
   "amb": [...]}
kinds: the acceptable error kinds (any of them): notjson, notobject, missing, wrongtype,
toolarge, toomany, outofrange, grammar (an identifier that breaks the appendices' grammar:
no sentinel of the audited package names it, so any kind is accepted).

"amb" lists the spec-silent corners the verdict went through. FORMATREF_DECISIONS=1 adopts the
readings of roomproto's docs/decisions.md where the spec is silent (DECISIONS below).
"""
import base64
import hashlib
import json
import os
import re
import sys

DECISIONS = os.environ.get("FORMATREF_DECISIONS") == "1"
if DECISIONS:
    os.environ["VERIFYREF_DECISIONS"] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "verifyref"))
import verifyref as vr  # noqa: E402

sys.setrecursionlimit(20000)
MAX_SAFE = 2 ** 53 - 1

_vr_canonical = vr.canonical
_vr_enc_str = vr.enc_str


def _canonical(v):
    # verifyref's canonical() converts a fraction/exponent literal to float to see whether it
    # is an integer; 1e400 overflows. No canonical form exists for it (v1-5 only): its text.
    if isinstance(v, vr.Num):
        try:
            float(v.text) == int(float(v.text))
        except (OverflowError, ValueError):
            return v.text
    return _vr_canonical(v)


def _enc_str(s):
    # canonicaljson decision 12 (v1-5): an unpaired surrogate is written as a lowercase \udxxx
    # escape. Without -decisions such an event is refused before it is encoded.
    out = _vr_enc_str(s)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in out):
        out = "".join("\\u%04x" % ord(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in out)
    return out


vr.canonical = _canonical
vr.enc_str = _enc_str
INT64_MAX = 2 ** 63 - 1
INT64_MIN = -(2 ** 63)
MAX_EVENT = 65536
MAX_ID = 255


Num = vr.Num          # a number literal with a fraction or an exponent
NegZero = vr.NegZero  # the literal -0


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def parse(text):
    """RFC 8259 JSON; returns (value, whether a key occurred twice in an object)."""
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

    def pint(t):
        return NegZero(0) if t == "-0" else int(t)

    v = json.loads(text, object_pairs_hook=hook, parse_float=Num, parse_int=pint,
                   parse_constant=const)
    return v, bool(dup)


def nesting(v):
    d, stack = 0, [(v, 1)]
    while stack:
        x, n = stack.pop()
        if isinstance(x, (dict, list)):
            d = max(d, n)
            stack.extend((y, n + 1) for y in (x.values() if isinstance(x, dict) else x))
    return d


def walk(v):
    yield v
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)


# ------------------------------------------------------------------ grammar (appendices)

DNS_RE = re.compile(r"[0-9A-Za-z.\-]{1,255}\Z")
IPV6_RE = re.compile(r"\[[0-9A-Fa-f:.]{2,45}\]\Z")


def valid_server_name(s, amb):
    """appendices "Server Name": hostname [ ":" port ]."""
    if not isinstance(s, str) or s == "":
        return False
    if s.startswith("["):
        i = s.find("]")
        if i < 0:
            return False
        host, rest = s[:i + 1], s[i + 1:]
        if not IPV6_RE.match(host):
            return False
        # "IPv6 literals must be as specified by RFC3513": only the character grammar here.
        amb.add("ipv6-literal-chars-only")
    else:
        i = s.find(":")
        host, rest = (s, "") if i < 0 else (s[:i], s[i:])
        if not DNS_RE.match(host):
            return False
        # IPv4address = 1*3DIGIT x4 is also a dns-name, so its 0-255 range changes nothing.
    if rest:
        if not re.match(r":[0-9]{1,5}\Z", rest):
            return False
    return True


def opaque_ok(s):
    """Localpart of room IDs / historical user IDs: non-surrogate code points except ':' and NUL."""
    return ":" not in s and "\x00" not in s and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def valid_user_id(s, amb):
    """appendices "User Identifiers" with "Historical User IDs" (MUST accept any localpart of
    non-surrogate code points except ':' and NUL, possibly empty)."""
    if not s.startswith("@") or ":" not in s:
        return False
    loc, dom = s[1:].split(":", 1)
    if not opaque_ok(loc):
        return False
    if not re.match(r"[a-z0-9._=\-/+]+\Z", loc):
        amb.add("historical-user-id")
    return valid_server_name(dom, amb)


def valid_room_id(v, s, amb):
    if v >= 12:
        # appendices "Room IDs": the create event's ID with "!" (v4+ event ID grammar).
        return s.startswith("!") and valid_hash_id(12, "$" + s[1:])
    if not s.startswith("!") or ":" not in s:
        return False
    loc, dom = s[1:].split(":", 1)
    return opaque_ok(loc) and valid_server_name(dom, amb)


def valid_hash_id(v, s):
    """v3: "$" + unpadded standard base64 of the 32-byte reference hash; v4+: URL-safe."""
    alpha = "A-Za-z0-9+/" if v == 3 else "A-Za-z0-9\\-_"
    return re.match("\\$[" + alpha + "]{43}\\Z", s) is not None


def valid_event_id(v, s, amb):
    if v <= 2:
        # fragments/v1-event-ids.md: $opaque_id:domain; opaque_id "a locally-unique string".
        if not s.startswith("$") or ":" not in s:
            return False
        loc, dom = s[1:].split(":", 1)
        if not opaque_ok(loc):
            amb.add("v1-opaque-id-chars")
            return False
        return valid_server_name(dom, amb)
    return valid_hash_id(v, s)


# ------------------------------------------------------------------ the check

def utf8len(s):
    # an unpaired surrogate (v1-5 with -decisions only) counts its 3-byte generalised UTF-8 form
    return len(s.encode("utf-8", "surrogatepass"))


def check(v, raw, amb):
    """Returns (kinds, why) of every violation found ([] when the event is valid), and the
    parsed event."""
    errs = []

    def bad(kind, why):
        errs.append((kind, why))

    strict = v >= 6
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [("notjson", "not UTF-8")], None
    try:
        ev, dup = parse(text)
    except (ValueError, RecursionError) as e:
        return [("notjson", "not JSON: %s" % e)], None
    if nesting(ev) > 127:
        # The spec sets no nesting limit; roomproto's canonicaljson has one (127).
        amb.add("nesting-limit")
        if DECISIONS:
            return [("notjson", "nested deeper than 127")], ev
    if not isinstance(ev, dict):
        return [("notobject", "not an object")], None
    # Canonical JSON values (appendices): strictly enforced from v6 (v6-canonical-json.md).
    for x in walk(ev):
        if isinstance(x, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in x):
                # No UTF-8 encoding exists: no canonical form, no hash, no size. v1-5 servers
                # "SHOULD be capable of handling JSON which is considered invalid" (spec-silent).
                if strict:
                    return [("notjson", "lone surrogate")], ev
                amb.add("lone-surrogate-lenient")
                if not DECISIONS:
                    return [("notjson", "lone surrogate")], ev
        elif isinstance(x, Num):
            if strict:
                return [("notjson", "number %s is not an integer literal" % x.text)], ev
            amb.add("lenient-float")
        elif isinstance(x, NegZero):
            if strict:
                return [("notjson", "-0")], ev
        elif is_int(x):
            if strict and not -MAX_SAFE <= x <= MAX_SAFE:
                # depth beyond 2^53-1 is also out of depth_v6's range
                return [("notjson", "integer out of canonical range"),
                        ("outofrange", "integer out of canonical range")], ev
    if dup:
        amb.add("duplicate-keys")
        if strict and DECISIONS:
            return [("notjson", "duplicate keys")], ev

    # Size limits (client-server-api "Size limits").
    if any(isinstance(x, Num) for x in walk(ev)):
        amb.add("float-size")
    size = len(vr.canonical_bytes(ev))
    if size > MAX_EVENT:
        bad("toolarge", "event is %d bytes" % size)

    is_create = ev.get("type") == "m.room.create"
    req = ["sender", "origin_server_ts", "type", "content", "depth", "hashes", "signatures",
           "auth_events", "prev_events"]
    if v <= 2:
        req.append("event_id")
    if v < 12 or not is_create:
        req.append("room_id")
    for k in req:
        if k not in ev:
            bad("missing", "missing " + k)
        elif ev[k] is None:
            amb.add("null-required")
            bad("wrongtype", k + " is null")
            bad("missing", k + " is null")
            if k in ("content", "hashes", "signatures"):
                bad("notobject", k + " is null")

    def string(k, limit):
        if k not in ev or ev[k] is None and k in req:
            return None
        x = ev[k]
        if not isinstance(x, str):
            bad("wrongtype", k + " not a string")
            return None
        if limit and utf8len(x) > MAX_ID:
            bad("toolarge", "%s is %d bytes" % (k, utf8len(x)))
        return x

    sender = string("sender", True)
    typ = string("type", True)
    string("state_key", True)
    if v <= 2:
        eid = string("event_id", True)
    else:
        eid = None
        if "event_id" in ev:
            amb.add("event_id-after-v2")  # not part of the v3+ format; extra keys are allowed
    if v >= 12 and is_create:
        if "room_id" in ev:
            # pdu_v12: "Omitted from m.room.create events"; auth rule 1.2 rejects one that has it.
            amb.add("v12-create-room_id")
            string("room_id", True)  # a room ID still: a string of at most 255 bytes
        room = None
    else:
        room = string("room_id", True)
    redacts = None
    if v <= 10:
        redacts = string("redacts", False)

    for k, lo, hi in (("origin_server_ts", INT64_MIN, INT64_MAX),
                      ("depth", INT64_MIN, INT64_MAX if v <= 5 else MAX_SAFE)):
        if k not in ev or ev[k] is None:
            continue
        x = ev[k]
        if isinstance(x, Num):
            amb.add("float-integer")
            bad("wrongtype", k + " is a number literal with a fraction or exponent")
            continue
        if not is_int(x):
            bad("wrongtype", k + " not an integer")
            continue
        if x < INT64_MIN or x > INT64_MAX:
            # beyond what any int64 holds: "out of range" (the pdu decision on depth, finding F3)
            amb.add("beyond-int64")
        if x < lo or x > hi:
            bad("outofrange", "%s %d out of range" % (k, x))
        if x < 0:
            amb.add("negative-" + k)
            if DECISIONS and k == "depth":
                bad("outofrange", "depth %d is negative (pdu decision: 0 to the maximum)" % x)
    for k in ("content", "hashes", "signatures", "unsigned"):
        if k in ev and ev[k] is not None and not isinstance(ev[k], dict):
            bad("notobject", k + " not an object")
            bad("wrongtype", k + " not an object")
    if isinstance(ev.get("unsigned"), dict) and "age" in ev["unsigned"] \
            and not is_int(ev["unsigned"]["age"]):
        # pdu_base.yaml types unsigned.age as an integer; the pdu decision "Keys outside the
        # format ..." (finding F2): the members of unsigned are not checked.
        amb.add("unsigned-age-type")
        if not DECISIONS:
            bad("wrongtype", "unsigned.age not an integer")
    if "unsigned" in ev and ev["unsigned"] is None:
        bad("wrongtype", "unsigned is null")
        bad("notobject", "unsigned is null")
    h = ev.get("hashes")
    if isinstance(h, dict):
        if "sha256" not in h:
            bad("missing", "hashes.sha256 missing")
        elif not isinstance(h["sha256"], str):
            bad("wrongtype", "hashes.sha256 not a string")
    s = ev.get("signatures")
    if isinstance(s, dict):
        for srv, ent in s.items():
            if not isinstance(ent, dict):
                bad("wrongtype", "signatures.%s not an object" % srv)
                bad("notobject", "signatures.%s not an object" % srv)
                continue
            for kid, sig in ent.items():
                if not isinstance(sig, str):
                    bad("wrongtype", "signature %s/%s not a string" % (srv, kid))

    refs = []
    for k, mx in (("auth_events", 10), ("prev_events", 20)):
        if k not in ev or ev[k] is None:
            continue
        lst = ev[k]
        if not isinstance(lst, list):
            bad("wrongtype", k + " not an array")
            continue
        if len(lst) > mx:
            bad("toomany", "%s has %d entries" % (k, len(lst)))
        for it in lst:
            if v <= 2:
                # pdu_v1.yaml: [event ID, event_hash] pairs (minItems = maxItems = 2; each item
                # "anyOf" a string or an event_hash: the description says which is which).
                if not isinstance(it, list):
                    bad("wrongtype", k + " item not a pair")
                    continue
                if len(it) != 2:
                    bad("wrongtype", k + " item has %d elements" % len(it))
                    continue
                a, b = it
                if not isinstance(a, str):
                    bad("wrongtype", k + " pair's event ID not a string")
                    continue
                if not isinstance(b, dict):
                    if isinstance(b, str):
                        amb.add("v1-pair-anyof")  # anyOf admits [string, string]
                        if not DECISIONS:  # pdu decision: an object or a string
                            bad("wrongtype", k + " pair's hash not an object")
                    else:
                        bad("wrongtype", k + " pair's hash not an object")
                elif not isinstance(b.get("sha256"), str):
                    amb.add("v1-pair-hash-shape")
                    if not DECISIONS:  # pdu decision: a hash object is not checked
                        bad("wrongtype", k + " pair's hash has no sha256 string")
                refs.append((k, a))
            elif not isinstance(it, str):
                bad("wrongtype", k + " item not a string")
            else:
                refs.append((k, it))

    # Identifier grammar (appendices): whether check 1 ("comply with the event format") covers
    # the grammar of the IDs the schema only calls strings is spec-silent: tagged per field.
    gram = []
    if sender is not None and not valid_user_id(sender, amb):
        gram.append("sender")
    if room is not None and not valid_room_id(v, room, amb):
        gram.append("room_id")
    if eid is not None and not valid_event_id(v, eid, amb):
        gram.append("event_id")
    if redacts is not None and not valid_event_id(v, redacts, amb):
        gram.append("redacts")
    for k, r in refs:
        if utf8len(r) > MAX_ID:
            # appendices "Event IDs": every event ID is at most 255 bytes.
            amb.add("ref-id-length")
            bad("toolarge", "an ID in %s is %d bytes" % (k, utf8len(r)))
        if not valid_event_id(v, r, amb):
            gram.append(k)
    for g in sorted(set(gram)):
        amb.add("grammar-" + g)
        if not DECISIONS or decided_grammar(v, g):
            bad("grammar", "%s breaks the identifier grammar" % g)
    return errs, ev


def decided_grammar(v, field):
    """With -decisions: whether the project's readings put the grammar of field in the format
    check. Fields docs/decisions.md says nothing about keep this reference's own reading
    (checked)."""
    if field in DECIDED_CHECKED.get("v1" if v <= 2 else "v3", ()):
        return True
    return field not in DECIDED_UNCHECKED


# Cross-package decision "v1-2 event_id format": pdu.Parse checks $opaque_id:domain (opaque part:
# non-surrogate code points but ':' and NUL, possibly empty; domain: Server Name).
DECIDED_CHECKED = {"v1": ("event_id",)}
# pdu decision "room_id is a string of at most 255 bytes; its grammar is not checked by Parse";
# authrules "Rule 1.4 (v12)": "pdu limits sender to 255 bytes" and no rule checks its grammar.
# pdu decision "Referenced event IDs are strings of at most 255 bytes; their form is not checked"
# (finding F1): prev_events, auth_events and redacts.
DECIDED_UNCHECKED = ("room_id", "sender", "prev_events", "auth_events", "redacts")


def event_id(v, ev, amb):
    if v <= 2:
        return ev["event_id"]
    red = vr.redact(vr.V(str(v)), ev, amb)
    body = {k: x for k, x in red.items() if k not in ("signatures", "unsigned")}
    h = hashlib.sha256(vr.canonical_bytes(body)).digest()
    if v == 3:
        return "$" + base64.b64encode(h).decode().rstrip("=")
    return "$" + base64.urlsafe_b64encode(h).decode().rstrip("=")


def answer(req):
    amb = set()
    v = int(req["v"])
    raw = base64.b64decode(req["ev"])
    errs, ev = check(v, raw, amb)
    if errs:
        return {"verdict": "refuse", "kinds": sorted({k for k, _ in errs}),
                "why": "; ".join(w for _, w in errs), "amb": sorted(amb)}
    return {"verdict": "accept", "kinds": [], "why": "", "id": event_id(v, ev, amb),
            "amb": sorted(amb)}


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

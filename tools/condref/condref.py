#!/usr/bin/env python3
"""condref: an independent reference of the small decision helpers around make_join/send_join
for restricted rooms: allow conditions (parsing and evaluation), which join rules each room
version defines for joins and knocks, whether an error response means "try another resident
server", the join-decision output (DESIGN.md) and input, and the checks of a make_join /
make_knock request (`ver` and the origin of the user).

Written from the spec text only: server-server-api "Joining Rooms", "Restricted rooms",
"Knocking upon a room"; client-server-api "Room membership" (join rules), "Restricted rooms"
(› "Conditions"); rooms/_index.md "Feature matrix" and the m.room.member join rules of
rooms/fragments/v1-auth-rules.md, rooms/v7.md, rooms/fragments/v8-auth-rules.md, rooms/v10.md;
data/event-schemas/schema/m.room.join_rules.yaml; data/api/server-server/joins-v1.yaml,
joins-v2.yaml, knocks.yaml; the join-decision contract of DESIGN.md. membership/*.go was not
read (API from `go doc`). Event format, canonical JSON numbers and redaction (for event IDs)
come from tools/verifyref/verifyref.py, user ID grammar from tools/authref/authref.py, both
references of this repository written from the spec text only.

Protocol: one JSON object per line on stdin (field "op"), one JSON answer per line on stdout.
Raw byte inputs travel base64-encoded ("b64"). Every answer carries "amb": the spec-silent
corners the case touched. {"error": why} for a bug of the reference.

CONDREF_DECISIONS=1 adopts the readings of roomproto's docs/decisions.md where the spec is silent.
"""
import base64
import hashlib
import json
import os
import re
import sys

DECISIONS = os.environ.get("CONDREF_DECISIONS") == "1"
if DECISIONS:
    for k in ("AUTHREF_DECISIONS", "VERIFYREF_DECISIONS"):
        os.environ[k] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("authref", "verifyref"):
    sys.path.insert(0, os.path.join(HERE, "..", d))
import authref  # noqa: E402
import verifyref as vr  # noqa: E402

ROOM_MEMBERSHIP = "m.room_membership"
VERSIONS = [str(i) for i in range(1, 13)]


# ------------------------------------------------------------------ allow conditions

def room_id_looks_full(r):
    """appendices "Room IDs": !opaque_id:domain, or (v12) ! + 43 chars of URL-safe base64."""
    return bool(re.fullmatch(r"![^:\x00]+:[^\x00]+", r) or re.fullmatch(r"![A-Za-z0-9_-]{43}", r))


def nesting(text):
    """Deepest nesting of arrays and objects, strings skipped."""
    d = m = 0
    instr = esc = False
    for ch in text:
        if instr:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                instr = False
        elif ch == '"':
            instr = True
        elif ch in "[{":
            d += 1
            m = max(m, d)
        elif ch in "]}":
            d -= 1
    return m


def parse_tracking(text):
    """vr.parse_json, also returning the ids of the objects that had a duplicate key."""
    dups = set()

    def hook(pairs):
        d = {}
        had = False
        for k, val in pairs:
            if k in d:
                had = True
            d[k] = val
        if had:
            dups.add(id(d))
        return d

    def const(name):
        raise ValueError("not JSON: " + name)

    def parse_int(t):
        return vr.NegZero(0) if t == "-0" else int(t)

    v = json.loads(text, object_pairs_hook=hook, parse_float=vr.Num, parse_int=parse_int,
                   parse_constant=const)
    return v, dups


MAX_DEPTH = 127  # decisions (canonicaljson) 20


def parse_allow(raw, amb):
    """m.room.join_rules.yaml `allow`: array of AllowCondition objects; `type` required,
    enum m.room_membership; `room_id` a string, pattern ^!, required for m.room_membership.
    server-server "Restricted rooms": conditions that do not "match the required schema" count
    as failed, so they are dropped here. Returns (conditions, error)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        amb.add("invalid-utf8")
        return None, "not UTF-8"
    if nesting(text) > MAX_DEPTH:
        # no depth bound in the spec; decisions (canonicaljson) 20: canonicaljson's default, 127
        amb.add("deep-nesting")
        if DECISIONS:
            return None, "nested deeper than 127"
    try:
        a = set()
        content, dup = vr.parse_json(text, a)
    except (ValueError, RecursionError):
        return None, "not JSON"
    if dup:
        amb.add("duplicate-keys")  # spec silent on duplicate member names; last one counts
    if not isinstance(content, dict):
        return None, "content not an object"
    allow = content.get("allow")
    if not isinstance(allow, list):
        if "allow" in content and allow is not None:
            amb.add("allow-not-list")  # schema says array; "improper" conditions: invite-only
        return [], None
    out = []
    seen = set()
    for e in allow:
        if not isinstance(e, dict):
            continue
        t = e.get("type")
        if t != ROOM_MEMBERSHIP:
            continue
        r = e.get("room_id")
        if not isinstance(r, str) or not r.startswith("!"):
            continue
        if any(0xD800 <= ord(c) <= 0xDFFF for c in r):
            amb.add("lone-surrogate")  # not a Unicode scalar value: spec silent
        if not room_id_looks_full(r):
            amb.add("room_id-not-full-format")  # schema: format mx-room-id, pattern ^!
        if (t, r) in seen:
            amb.add("duplicate-condition")
        seen.add((t, r))
        out.append([t, r])
    if len(allow) > 1024:
        amb.add("long-allow-list")  # no bound in the spec
    return out, None


def membership_of(rooms, room, user):
    """RoomMemberships over the `rooms` map: (membership, known)."""
    if rooms is None or room not in rooms:
        return "", False
    ms = rooms[room]
    if ms is None:
        return "", True
    return ms.get(user, ""), True


def evaluate(conds, user, rooms, own, amb):
    """client-server "Restricted rooms" › "Conditions": m.room_membership is satisfied when
    the user is *joined* to room_id. The user needs to satisfy only one; checked in order and the
    first satisfied one is reported. A room the server does not know cannot be validated
    (server-server "Restricted rooms": M_UNABLE_TO_AUTHORISE_JOIN)."""
    unver = []
    for t, r in conds or []:
        if t != ROOM_MEMBERSHIP or not isinstance(r, str) or not r.startswith("!"):
            amb.add("invalid-condition-input")  # not a condition ParseAllowConditions returns
            if t != ROOM_MEMBERSHIP:
                continue
        m, known = membership_of(rooms, r, user)
        if not known:
            if own:
                # the server knows every room its own users have joined (spec silent)
                amb.add("own-user-unknown-room")
                continue
            if r not in unver:
                unver.append(r)
            continue
        if m == "join":
            return {"met": True, "sat": [t, r], "unver": []}
        if m in ("invite", "knock", "leave", "ban", ""):
            continue
        amb.add("odd-membership-value")
    return {"met": False, "sat": None, "unver": unver}


# ------------------------------------------------------------------ join rules

def join_rule_supported(n, rule):
    """Auth rules of m.room.member join: v1 rule 4.3.4/4.3.5 (invite, public), v7 adds knock to
    4.3.4, v8 adds restricted (4.3.5), v10 adds knock_restricted; anything else falls to
    "Otherwise, reject" (private is "reserved without implementation")."""
    if rule in ("public", "invite"):
        return True
    if rule == "knock":
        return n >= 7
    if rule == "restricted":
        return n >= 8
    if rule == "knock_restricted":
        return n >= 10
    return False


def knock_allowed(n, rule):
    """rooms/v7.md rule 4.6.1 (knock only), rooms/v10.md rule 4.7.1 (knock, knock_restricted);
    v1-v6 have no knock membership at all."""
    if n < 7:
        return False
    if rule == "knock":
        return True
    if rule == "knock_restricted":
        return n >= 10
    return False


# ------------------------------------------------------------------ retries

def should_retry(status, code, amb):
    """server-server "Restricted rooms": 400 M_UNABLE_TO_GRANT_JOIN "denote[s] that the joining
    server should try a different server"; 400 M_UNABLE_TO_AUTHORISE_JOIN: the resident "is
    unable to validate any of the conditions, usually because [it] does not have state
    information about rooms required by the conditions" — another resident may have it;
    403 M_FORBIDDEN: the joining server "fails all conditions"."""
    if code == "M_UNABLE_TO_GRANT_JOIN":
        if status != 400:
            amb.add("retry-code-with-other-status")
            return status == 400
        return True
    if code == "M_UNABLE_TO_AUTHORISE_JOIN":
        amb.add("retry-authorise-implied")  # spec: unable to validate; retry only implied
        if status != 400:
            amb.add("retry-code-with-other-status")
            return False
        return True
    if status == 404:
        amb.add("retry-404")  # "unknown to the receiving server": spec silent on retrying
        return False
    if status >= 500 or status == 429 or status < 100:
        amb.add("retry-transient")
        return False
    return False


# ------------------------------------------------------------------ DecisionJSON

def canon(obj):
    return vr.canonical_bytes(obj).decode("utf-8", "surrogatepass")


DECISION_UNDECIDED = {"decision-bad-basis", "decision-condition-no-authoriser"}


def decision_json(req, amb):
    ans = decision_json1(req, amb)
    if DECISIONS and amb & DECISION_UNDECIDED:
        ans["any"] = True
        ans["either"] = sorted(amb & DECISION_UNDECIDED)
    return ans


def decision_json1(req, amb):
    """DESIGN.md join-decision output, as canonical JSON (appendices "Canonical JSON")."""
    err = req.get("err")
    if err is None:
        basis = req["basis"]
        auth = req.get("auth", "")
        if basis not in (1, 2, 3, 4):
            amb.add("decision-bad-basis")
        if basis == 4:
            if auth == "":
                amb.add("decision-condition-no-authoriser")
                return {"json": canon({"decision": "allow"})}
            return {"json": canon({"decision": "allow", "authorising_user": auth})}
        if auth != "":
            amb.add("decision-authoriser-without-condition")
            if DECISIONS:
                # DecisionJSON doc (settled after finding U5): written when set.
                return {"json": canon({"decision": "allow", "authorising_user": auth})}
        return {"json": canon({"decision": "allow"})}
    kind = err["kind"]
    if kind == "other":
        return {"json": canon({"decision": "reject", "status": 500, "errcode": "M_UNKNOWN",
                               "error": "*"}), "any_error_text": True}
    if kind == "wrapped":
        amb.add("decision-wrapped-error")
    if kind == "nilptr":
        amb.add("decision-nil-error-pointer")
        if DECISIONS:
            # DecisionJSON doc (after finding F1): a nil *Error is a 500 M_UNKNOWN rejection.
            return {"json": canon({"decision": "reject", "status": 500, "errcode": "M_UNKNOWN",
                                   "error": "*"}), "any_error_text": True}
        return {"json": None, "any": True}
    o = {"decision": "reject", "status": err["status"], "errcode": err["errcode"],
         "error": err["message"]}
    if err["message"] == "":
        amb.add("decision-empty-message")  # error.yaml: `error` is optional
    if err["status"] not in (400, 403, 404, 500, 502):
        amb.add("decision-odd-status")
    if err["errcode"] == "":
        amb.add("decision-empty-errcode")
    if err.get("room_version"):
        # joins-v1.yaml: room_version "Required if the errcode is M_INCOMPATIBLE_ROOM_VERSION"
        amb.add("decision-room_version")
        o["room_version"] = err["room_version"]
    if "\ufffd" in err["message"] or err.get("bad_utf8"):
        amb.add("decision-invalid-utf8")
    return {"json": canon(o)}


# ------------------------------------------------------------------ CheckMakeRequest

def check_make(req, amb):
    """joins-v1.yaml / knocks.yaml: 400 "has a version that is not listed in the ver parameters"
    (M_INCOMPATIBLE_ROOM_VERSION with room_version); userId "MUST be a user ID on the origin
    server" (no errcode named: spec silent)."""
    v, user, origin, ver = req["v"], req["user"], req["origin"], req["ver"]
    fails = []
    if ver is not None and v not in ver:
        fails.append(("ver", [[400, "M_INCOMPATIBLE_ROOM_VERSION"]]))
    if origin != "":
        a = set()
        if not authref.user_id_valid(user, a):
            amb.add("make-invalid-user-code")
            fails.append(("user", [[400, "M_INVALID_PARAM"]] if DECISIONS else None))
        else:
            srv = user[1:].split(":", 1)[1]
            if srv != origin:
                if srv.lower() == origin.lower():
                    amb.add("make-origin-case")
                amb.add("make-not-origin-code")
                fails.append(("origin", [[403, "M_FORBIDDEN"]] if DECISIONS else None))
    if not fails:
        return {"ok": True}
    if len(fails) > 1:
        amb.add("make-order")
        if DECISIONS:
            fails = fails[:1]  # ver first (the doc of CheckMakeRequest; see decisions)
    codes = []
    for _, c in fails:
        if c is None:
            codes = None
            break
        codes += c
    rv = v if fails[0][0] == "ver" else ""
    return {"ok": False, "codes": codes, "room_version": rv, "rv_any": len(fails) > 1 and not DECISIONS}


# ------------------------------------------------------------------ ParseJoinRequest

BAD = [[400, "M_BAD_JSON"]]


class Bad(Exception):
    def __init__(self, codes, why):
        self.codes, self.why = codes, why


def event_id(n, ev):
    """v1-2: the event's event_id; v3 reference hash, standard base64; v4+ URL-safe."""
    if n <= 2:
        return ev.get("event_id")
    red = vr.redact(vr.V(str(n)), ev, set())
    body = {k: x for k, x in red.items() if k not in ("signatures", "unsigned", "age_ts")}
    h = hashlib.sha256(vr.canonical_bytes(body)).digest()
    s = base64.b64encode(h).decode().rstrip("=")
    if n >= 4:
        s = s.replace("+", "-").replace("/", "_")
    return "$" + s


def parse_join(raw, amb):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        amb.add("invalid-utf8")
        raise Bad([[400, "M_NOT_JSON"], [400, "M_BAD_JSON"]], "not UTF-8")
    try:
        top, dups = parse_tracking(text)
    except (ValueError, RecursionError):
        raise Bad([[400, "M_NOT_JSON"]], "not JSON")
    if dups:
        amb.add("duplicate-keys")
    if nesting(text) > MAX_DEPTH:
        # decisions (canonicaljson) 20: canonicaljson's default depth, 127
        amb.add("deep-nesting")
        if DECISIONS:
            raise Bad([[400, "M_BAD_JSON"], [400, "M_NOT_JSON"]], "nested deeper than 127")
    if not isinstance(top, dict):
        raise Bad(BAD, "not an object")
    vid = top.get("room_version")
    if not isinstance(vid, str):
        raise Bad(BAD, "room_version missing or not a string")
    if vid not in VERSIONS:
        amb.add("unknown-version-code")  # M_BAD_JSON? M_UNSUPPORTED_ROOM_VERSION? spec silent
        raise Bad(BAD if DECISIONS else None, "unknown room version")
    n = int(vid)
    for k in ("user_id", "resident_server"):
        if k not in top:
            amb.add("missing-" + k)
            raise Bad(BAD if DECISIONS else None, k + " missing")
        if not isinstance(top[k], str):
            raise Bad(BAD, k + " not a string")
    user, resident = top["user_id"], top["resident_server"]
    if resident == "":
        amb.add("resident-empty")
    if not authref.user_id_valid(user, set()):
        amb.add("user_id-not-validated-at-parse")  # DecideJoin refuses it (400)
        if DECISIONS:
            # ParseJoinRequest doc (settled after finding U4): as DecideJoin answers it.
            raise Bad([[400, "M_INVALID_PARAM"]], "user_id not a user ID")
    if DECISIONS and not authref.SERVER_NAME.match(resident):
        # ParseJoinRequest doc (settled after finding U2): a server name.
        raise Bad([[400, "M_INVALID_PARAM"]], "resident_server not a server name")
    if DECISIONS:
        # ParseJoinRequest doc (settled after finding U1): optional members are absent or of
        # their type; null is refused. Also (U3) the state must hold the create event,
        # checked below.
        for k in ("origin", "ver", "rooms"):
            if k in top and top[k] is None:
                raise Bad(BAD, k + " is null")
        if isinstance(top.get("rooms"), dict) and any(ms is None for ms in top["rooms"].values()):
            raise Bad(BAD, "a room of rooms is null")
    out = {"version": vid, "user": user, "resident": resident}
    for k in ("origin",):
        if k in top and top[k] is not None:
            if not isinstance(top[k], str):
                raise Bad(BAD, k + " not a string")
            if DECISIONS and top[k] == "":
                # docs/decisions.md (membership) 16 (settled after fixturecheck): a present
                # origin names the requesting server; "" is refused, absence is "not checked".
                raise Bad(BAD, k + " is empty")
            out[k] = top[k]
        else:
            if k in top:
                amb.add("null-" + k)
            out[k] = ""
    if "ver" in top and top["ver"] is not None:
        ver = top["ver"]
        if not isinstance(ver, list) or not all(isinstance(x, str) for x in ver):
            raise Bad(BAD, "ver not a list of strings")
        if not ver:
            amb.add("empty-ver")
        if len(ver) > 1000:
            amb.add("limit-ver")  # MaxVer (go doc); the spec sets no bound
            if DECISIONS:
                raise Bad(BAD, "ver longer than MaxVer")
        out["ver"] = ver
    else:
        if "ver" in top:
            amb.add("null-ver")
        out["ver"] = None
    rooms = top.get("rooms")
    if rooms is None:
        if "rooms" in top:
            amb.add("null-rooms")
        out["rooms"] = {}
    else:
        if not isinstance(rooms, dict):
            raise Bad(BAD, "rooms not an object")
        for r, ms in rooms.items():
            if ms is None:
                amb.add("null-room-members")
                continue
            if not isinstance(ms, dict):
                raise Bad(BAD, "rooms member not an object")
            for u, m in ms.items():
                if not isinstance(m, str):
                    raise Bad(BAD, "membership not a string")
                if m not in ("join", "invite", "leave", "ban", "knock"):
                    amb.add("odd-membership-value")
        out["rooms"] = {r: (ms or {}) for r, ms in rooms.items()}
        if len(rooms) > 10000:
            amb.add("limit-rooms")  # MaxKnownRooms (go doc); the spec sets no bound
            if DECISIONS:
                raise Bad(BAD, "rooms larger than MaxKnownRooms")
    if "state" not in top:
        amb.add("missing-state")
        raise Bad(BAD if DECISIONS else None, "state missing")
    state = top["state"]
    if not isinstance(state, list):
        raise Bad(BAD, "state not an array")
    V = vr.V(vid)
    ids = {}
    room_of = []
    create_id = None
    for ev in state:
        a = set()
        why = vr.check_numbers(ev, V.strict, a) if isinstance(ev, dict) else None
        why = why or vr.check_format(V, ev, a)
        if why:
            raise Bad(BAD, "state event: " + why)
        if V.strict and any(id(x) in dups for x in vr.walk(ev) if isinstance(x, dict)):
            # v6-canonical-json: strictness enforced; duplicate keys are not canonical JSON
            # (spec silent; decisions (redaction) 5: an error from v6)
            amb.add("event-duplicate-keys-strict")
            if DECISIONS:
                raise Bad(BAD, "state event with a duplicate key")
        if not isinstance(ev.get("state_key"), str):
            raise Bad(BAD, "not a state event")
        key = ev["type"] + "\x00" + ev["state_key"]
        if key in ids:
            raise Bad(BAD, "two state events for " + repr(key))
        eid = event_id(n, ev)
        ids[key] = eid
        if ev["type"] == "m.room.create" and ev["state_key"] == "":
            create_id = eid
        room_of.append(ev)
    # one room: every event's room_id the same (v12: the create event's ID with "!")
    rid = None
    if V.v12 and create_id is not None:
        rid = "!" + create_id[1:]
    for ev in room_of:
        r = ev.get("room_id")
        if V.v12 and ev["type"] == "m.room.create" and ev["state_key"] == "":
            if r is not None:
                amb.add("v12-create-room_id")
            continue
        if rid is None:
            rid = r
        elif r != rid:
            raise Bad(BAD, "state of mixed rooms")
    if create_id is None:
        amb.add("state-without-create")
        if DECISIONS:
            raise Bad(BAD, "state without m.room.create")
    out["state"] = {k: v for k, v in ids.items()}
    return out


# Spec-silent corners that docs/decisions.md does not settle either: with -decisions the
# reference accepts roomproto refusing them (400 M_BAD_JSON) as well as accepting.
UNDECIDED = {"null-origin", "null-ver", "null-rooms", "null-room-members", "resident-empty",
             "state-without-create", "user_id-not-validated-at-parse"}


# ------------------------------------------------------------------ main

def handle(req):
    amb = set()
    op = req["op"]
    if op == "parse_allow":
        conds, err = parse_allow(base64.b64decode(req["b64"]), amb)
        ans = {"err": err is not None, "why": err or "", "conds": conds}
    elif op == "evaluate":
        ans = evaluate(req["conds"], req["user"], req.get("rooms"), req["own"], amb)
    elif op == "joinrule":
        n = int(req["v"])
        r = req["rule"]
        ans = {"supported": join_rule_supported(n, r), "knock": knock_allowed(n, r)}
    elif op == "retry":
        ans = {"retry": should_retry(req["status"], req["errcode"], amb)}
    elif op == "decision":
        ans = decision_json(req, amb)
    elif op == "make":
        ans = check_make(req, amb)
    elif op == "parse_join":
        try:
            ans = {"ok": True, "req": parse_join(base64.b64decode(req["b64"]), amb)}
            if DECISIONS and amb & UNDECIDED:
                ans["either"] = sorted(amb & UNDECIDED)
        except Bad as b:
            ans = {"ok": False, "codes": b.codes, "why": b.why}
    else:
        return {"error": "unknown op " + op}
    ans["amb"] = sorted(amb)
    return ans


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            ans = handle(json.loads(line))
        except Exception as e:  # a bug of the reference: reported, the run goes on
            import traceback
            ans = {"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

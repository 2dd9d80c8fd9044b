#!/usr/bin/env python3
"""handshakeref: an independent reference of the checks each side of the membership handshakes
makes (make_join/send_join, make_knock/send_knock, make_leave/send_leave, invite v2) and of the
membership transitions.

Written from the spec text only: server-server-api "Joining Rooms", "Restricted rooms", "Knocking
upon a room", "Inviting to a room", "Leaving Rooms (Rejecting Invites)", "Checks performed on
receipt of a PDU" (check 4, the event's own auth events, on send_leave when the resident has
them), "Validating hashes and signatures on received events"; joins-v1.yaml,
joins-v2.yaml, knocks.yaml, invites-v2.yaml, leaving-v1.yaml, leaving-v2.yaml (the last two from
the matrix-spec repository: they are outside the spec extract);
client-server-api "Stripped state", "Room membership"; the m.room.member rules of each room
version (rooms/fragments/v1-auth-rules.md, v8-auth-rules.md, rooms/v7.md, v10.md, v12.md).

It builds on three earlier independent references of this repository, also written from the
spec text only (not from roomproto): tools/verifyref/verifyref.py (event format, canonical
JSON, redaction, "Checking for a Signature"), tools/authref/authref.py (the authorization rules)
and tools/memberref/memberref.py (the resident's join/knock decision). Everything specific to
the handshakes is here. Python 3 standard library plus `cryptography` (ed25519).

Protocol: one JSON object per line on stdin (field "op"), one answer per line on stdout:
  {"allow": bool, "codes": [[status, errcode], ...] | null, "why": str, "amb": [...],
   "problems": [...], ...}
`codes` lists the refusals the spec text permits for the case (null: any refusal); roomproto's
status and errcode must be one of them. {"invalid": why} for a case the reference cannot judge,
{"error": why} for a bug.

HANDSHAKEREF_DECISIONS=1 adopts the readings of roomproto's docs/decisions.md where the spec is
silent (also for the three references it builds on); every such corner adds an "amb" flag.
"""
import base64
import hashlib
import json
import os
import sys

DECISIONS = os.environ.get("HANDSHAKEREF_DECISIONS") == "1"
if DECISIONS:
    for k in ("AUTHREF_DECISIONS", "MEMBERREF_DECISIONS", "VERIFYREF_DECISIONS"):
        os.environ[k] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("authref", "memberref", "verifyref"):
    sys.path.insert(0, os.path.join(HERE, "..", d))
import authref  # noqa: E402
import memberref  # noqa: E402
import verifyref as vr  # noqa: E402

INVALID_PARAM = [400, "M_INVALID_PARAM"]
FORBIDDEN = [403, "M_FORBIDDEN"]
BAD_JSON = [400, "M_BAD_JSON"]
NOT_JSON = [400, "M_NOT_JSON"]
UPSTREAM = [502, "M_UNKNOWN"]  # decisions (membership) 9

STRIPPED_TYPES = ["m.room.create", "m.room.name", "m.room.avatar", "m.room.topic",
                  "m.room.join_rules", "m.room.canonical_alias", "m.room.encryption"]


class Refuse(Exception):
    def __init__(self, codes, why):
        self.codes, self.why = codes, why


def server_of(u):
    """appendices "User Identifiers": @localpart:domain."""
    if not isinstance(u, str) or not u.startswith("@") or ":" not in u:
        return None
    s = u.split(":", 1)[1]
    return s or None


def user_ok(u):
    return authref.user_id_valid(u, set())


def ref_hash_id(v, ev):
    """server-server-api "Calculating the reference hash for an event"; v3 standard base64,
    v4+ URL-safe (v4-event-ids)."""
    n = int(v)
    if n <= 2:
        return ev.get("event_id")
    red = vr.redact(vr.V(v), ev, set())
    body = {k: x for k, x in red.items() if k not in ("signatures", "unsigned", "age_ts")}
    h = hashlib.sha256(vr.canonical_bytes(body)).digest()
    s = base64.b64encode(h).decode().rstrip("=")
    if n >= 4:
        s = s.replace("+", "-").replace("/", "_")
    return "$" + s


def keyring(keys):
    return {s: {k: {"key": b, "vu": None} for k, b in ks.items()} for s, ks in (keys or {}).items()}


def parse_event(v, text, amb):
    """Step 1 of "Checks performed on receipt of a PDU": JSON, then the room version's format.
    Returns the event or raises Refuse (400 M_NOT_JSON / M_BAD_JSON: decisions membership 14;
    the spec names only "400" for an invalid request)."""
    a = set()
    try:
        ev, dup = vr.parse_json(text, a)
    except (ValueError, RecursionError):
        raise Refuse([NOT_JSON] if DECISIONS else None, "not JSON")
    why = vr.check_numbers(ev, vr.V(v).strict, a) if isinstance(ev, dict) else None
    why = why or vr.check_format(vr.V(v), ev, a)
    if why:
        raise Refuse([BAD_JSON] if DECISIONS else None, "format: " + why)
    amb |= a
    return ev


def sig_status(v, ev, servers, keys, amb):
    """The signatures of `servers` on ev ("Checking for a Signature"). Returns a list of
    problems (empty when all hold)."""
    V = vr.V(v)
    red = vr.redact(V, ev, amb)
    signed = vr.canonical_bytes({k: x for k, x in red.items() if k not in ("signatures", "unsigned")})
    probs = []
    for s in servers:
        st, _, why = vr.check_server(V, ev, signed, s, keyring(keys), amb)
        if st != "ok":
            probs.append("%s: %s" % (st, why or s))
    return probs


def hash_ok(ev, amb):
    body = {k: x for k, x in ev.items() if k not in ("unsigned", "signatures", "hashes")}
    want = hashlib.sha256(vr.canonical_bytes(body)).digest()
    return vr.b64decode(ev["hashes"]["sha256"], amb) == want


def required_signers(v, ev):
    """"Validating hashes and signatures": the sender's server, and in v1-2 the event ID's
    domain when it differs; join_authorised_via_users_server's server from v8 (rule 4.2)."""
    out = [server_of(ev.get("sender"))]
    if int(v) <= 2:
        d = vr.domain(ev.get("event_id"))
        if d not in out:
            out.append(d)
    return out


def answer(allow, codes=None, why="", amb=(), **kw):
    d = {"allow": allow, "codes": codes, "why": why, "amb": sorted(set(amb))}
    d.update(kw)
    return d


# ---------------------------------------------------------------- joining / knocking server

def check_template(req):
    """joins-v1.yaml / knocks.yaml / leaving-v1.yaml: "the sending server MUST verify that: the
    room_id is equal to the roomId path parameter; both the sender and state_key are equal to the
    userId path parameter; the type of the event is m.room.member; the membership field inside
    content is join [knock, leave]. In case any of the above checks fail, the response MUST be treated as malformed
    and discarded.\""""
    amb = set()
    codes = [UPSTREAM] if DECISIONS else None
    try:
        t = json.loads(req["template"])
    except ValueError:
        return answer(False, codes, "template not JSON", amb)
    probs = []
    if not isinstance(t, dict):
        return answer(False, codes, "template not an object", amb)
    if t.get("room_id") != req["room_id"]:
        probs.append("room_id")
    if t.get("sender") != req["user_id"]:
        probs.append("sender")
    if t.get("state_key") != req["user_id"]:
        probs.append("state_key")
    if t.get("type") != "m.room.member":
        probs.append("type")
    c = t.get("content")
    if not isinstance(c, dict) or c.get("membership") != req["kind"]:
        probs.append("membership")
    if probs:
        return answer(False, codes, ",".join(probs), amb)
    return answer(True, why="ok", amb=amb)


def sign_template(req):
    """server-server-api "Joining Rooms": "The joining server is expected to add or replace the
    origin, origin_server_ts, and event_id on the templated event ... This event is then signed by
    the joining server." Checks roomproto's output: the template's other fields unchanged,
    origin/origin_server_ts (and v1-2 event_id) set, a valid content hash and signature."""
    amb = set()
    v = req["v"]
    t = json.loads(req["template"])
    out = parse_event(v, req["out"], amb)
    probs = []
    for k, x in t.items():
        if k in ("origin", "origin_server_ts", "event_id", "hashes", "signatures", "unsigned"):
            continue
        if out.get(k) != x:
            probs.append("changed " + k)
    for k in out:
        if k not in t and k not in ("origin", "origin_server_ts", "event_id", "hashes", "signatures"):
            probs.append("added " + k)
    if out.get("origin") != req["origin"]:
        probs.append("origin")
    if out.get("origin_server_ts") != req["ts"]:
        probs.append("origin_server_ts")
    if int(v) <= 2 and out.get("event_id") != req["event_id"]:
        probs.append("event_id")
    if "unsigned" in out:
        amb.add("template-unsigned")
    if not hash_ok(out, amb):
        probs.append("content hash")
    p = sig_status(v, out, [req["origin"]], req["keys"], amb)
    probs += p
    return answer(True, why="ok", amb=amb, problems=probs)


def send_join_resp(req):
    """The joining server's check of the `event` of a /send_join response (joins-v2.yaml: "The
    membership event sent to other servers by the resident server including a signature from the
    resident server"). It must be the event sent with a signature added ("The resident homeserver
    then adds its signature to this event"), and pass "Validating hashes and signatures"."""
    amb = set()
    v = req["v"]
    codes = [UPSTREAM] if DECISIONS else None
    sent = json.loads(req["sent"])
    try:
        ret = parse_event(v, req["returned"], amb)
    except Refuse as e:
        return answer(False, codes, "returned: " + e.why, amb)
    strip = lambda e: {k: x for k, x in e.items() if k not in ("signatures", "unsigned")}  # noqa: E731
    if strip(sent) != strip(ret):
        return answer(False, codes, "returned event differs from the event sent", amb)
    for s, ks in sent.get("signatures", {}).items():
        for k, sig in ks.items():
            if ret["signatures"].get(s, {}).get(k) != sig:
                return answer(False, codes, "signature %s %s of the sent event dropped" % (s, k), amb)
    if sig_status(v, ret, [req["resident"]], req["keys"], amb):
        return answer(False, codes, "no valid signature of the resident", amb)
    r = vr.verify({"v": v, "ev": req["returned"], "keys": keyring(req["keys"])})
    if r["verdict"] != "valid":
        return answer(False, codes, "verify: %s %s" % (r["verdict"], r["why"]), amb)
    return answer(True, why="ok", amb=amb)


# ---------------------------------------------------------------- resident server

def event_checks(req, ev, membership, amb):
    """joins-v2.yaml / knocks.yaml / leaving-v2.yaml "servers SHOULD return M_INVALID_PARAM if":
    the event fails a signature check; the type is not m.room.member; the membership is not join
    [knock, leave]; the
    sender is not a user ID on the origin server; the state_key is not the sender. Plus the path
    parameters (room ID, event ID). Returns problems."""
    v = req["v"]
    probs = []
    if ev.get("type") != "m.room.member":
        probs.append("type")
    if ev["content"].get("membership") != membership:
        probs.append("membership")
    if ev.get("state_key") != ev.get("sender"):
        probs.append("state_key")
    if not user_ok(ev.get("sender")):
        probs.append("sender not a user ID")
    if req.get("origin") and server_of(ev.get("sender")) != req["origin"]:
        probs.append("sender not of origin")
    if req.get("room_id") and ev.get("room_id") != req["room_id"]:
        probs.append("room_id")
    if req.get("event_id") and ref_hash_id(v, ev) != req["event_id"]:
        probs.append("event_id")
    signers = required_signers(v, ev)
    if None in signers:
        probs.append("no server to check")
    else:
        p = sig_status(v, ev, signers, req["keys"], amb)
        if p:
            probs.append("signature: " + "; ".join(p))
        elif not hash_ok(ev, amb):
            # "Validating hashes": a mismatch means redact; the joining server sent its own
            # event, so decisions (membership) 8 refuses it (400).
            amb.add("hash-mismatch-400")
            probs.append("content hash")
    if int(v) <= 2 and req.get("resident") and vr.domain(ev.get("event_id")) == req["resident"] \
            and server_of(ev.get("sender")) != req["resident"]:
        amb.add("eventid-resident-domain")
        if DECISIONS:
            probs.append("event_id in the resident's domain")  # decisions (membership) 18
    return probs


def auth_check(req, ev, state):
    """The auth rules against the current state ("Checks performed on receipt of a PDU" 6)."""
    v = req["v"]
    create = next((e for e in state if e.get("type") == "m.room.create" and e.get("state_key") == ""), None)
    ids = req["state_ids"]
    cid = ids[state.index(create)] if create is not None else None
    r = authref.check({"v": v, "ev": ev, "ev_id": ref_hash_id(v, ev), "auth": state, "auth_ids": ids,
                       "create": create, "create_id": cid, "no_rule2": True})
    return r


def countersign_ok(v, sent, out_text, server, keys, amb):
    """decisions (membership) 17 / invites-v2.yaml: "All other fields of the events should
    remain untouched": out is sent with a valid signature of server added."""
    out = json.loads(out_text)
    probs = []
    a = {k: x for k, x in sent.items() if k != "signatures"}
    b = {k: x for k, x in out.items() if k != "signatures"}
    if a != b:
        probs.append("fields changed: " + ",".join(sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))))
    for s, ks in sent.get("signatures", {}).items():
        if s == server:
            continue
        for k, sig in ks.items():
            if out.get("signatures", {}).get(s, {}).get(k) != sig:
                probs.append("signature %s dropped" % s)
    probs += sig_status(v, out, [server], keys, amb)
    return probs


def send_join(req):
    amb = set()
    v = req["v"]
    state = req["state"]
    try:
        ev = parse_event(v, req["event"], amb)
    except Refuse as e:
        return answer(False, e.codes, e.why, amb)
    probs = event_checks(req, ev, "join", amb)
    c = ev["content"]
    authvia = c.get("join_authorised_via_users_server")
    codes = []
    whys = []
    if probs:
        codes.append(INVALID_PARAM)
        whys += probs
    # The decision again (joins-v2 400/403: the same errors as make_join).
    sender = ev.get("sender")
    if not probs or not DECISIONS:
        try:
            d = memberref.decide_join({"op": "join", "v": v, "state": state, "user_id": sender,
                                       "resident_server": req["resident"], "rooms": req["rooms"],
                                       "origin": None, "ver": None})
        except memberref.Invalid as e:
            return {"invalid": str(e)}
        amb |= set(d["amb"])
        if not d["allow"]:
            codes.append([d["status"], d["errcode"]])
            whys.append("decision: " + d["why"])
    if codes and DECISIONS:
        return answer(False, [codes[0]], "; ".join(whys), amb)
    # join_authorised_via_users_server: "The resident server which owns the provided user ID
    # must have a valid signature on the event": only the resident can add its own.
    if "join_authorised_via_users_server" in c and int(v) >= 8 and c.get("membership") == "join":
        if server_of(authvia) != req["resident"]:
            amb.add("authvia-other-server")
            # Spec-silent: refusing it (400, decisions 8) or letting the auth rules refuse it
            # (rule 4.2: not validly signed by that server: 403).
            cds = [INVALID_PARAM] if DECISIONS else [INVALID_PARAM, FORBIDDEN]
            if DECISIONS:
                return answer(False, cds, "authoriser not of the resident", amb)
            codes += cds
            whys.append("authoriser not of the resident")
    # Auth rules on the event as the resident signed it (rule 4.2 is then met for the resident's
    # user; authref takes a signature of that server as valid).
    if not codes or not DECISIONS:
        ev2 = json.loads(json.dumps(ev, default=str)) if False else dict(ev)
        sigs = dict(ev2.get("signatures", {}))
        sigs[req["resident"]] = {"ed25519:1": "x"}
        ev2["signatures"] = sigs
        r = auth_check(req, ev2, state)
        amb |= set(r.get("amb", []))
        if not r["allow"]:
            codes.append(FORBIDDEN)
            whys.append("auth rules %s: %s" % (r["rule"], r["why"]))
    if codes:
        return answer(False, codes if not DECISIONS else [codes[0]], "; ".join(whys), amb)
    res = answer(True, why="ok", amb=amb)
    if req.get("result"):
        p = countersign_ok(v, ev, req["result"], req["resident"], req["keys"], amb)
        res["problems"] = p
        res["amb"] = sorted(amb)
    return res


def stripped_selection(state):
    """client-server "Stripped state": create, name, avatar, topic, join rules, canonical alias,
    encryption (state key "")."""
    out = []
    for t in STRIPPED_TYPES:
        for i, e in enumerate(state):
            if e.get("type") == t and e.get("state_key") == "":
                out.append(i)
    return out


def knock_decision(v, state, user):
    """The resident's knock decision (tools/memberref): None, or the [status, errcode] and why;
    and the ambiguity flags."""
    d = memberref.decide_knock({"op": "knock", "v": v, "state": state, "user_id": user, "origin": None, "ver": None})
    if d["allow"]:
        return None, d["amb"]
    return ([d["status"], d["errcode"]], d["why"]), d["amb"]


def make_join(req):
    """/make_join's verdict (joins-v1.yaml): the resident's join decision (tools/memberref), with
    no `ver` and no origin (the harness passes neither). A room whose create event sets
    m.federate to false refuses a user of another server than the create event's first (auth
    rule 3, v12 rule 4): 403 M_FORBIDDEN, "The room that the joining server is attempting to join
    does not permit the user to join"."""
    try:
        d = memberref.decide_join({"op": "join", "v": req["v"], "state": req["state"], "user_id": req["user_id"],
                                   "resident_server": req["resident"], "rooms": req["rooms"],
                                   "origin": None, "ver": None})
    except memberref.Invalid as e:
        return {"invalid": str(e)}
    if not d["allow"]:
        return answer(False, [[d["status"], d["errcode"]]], d["why"], d["amb"])
    return answer(True, why=d["why"], amb=d["amb"])


def make_knock(req):
    """/make_knock's verdict (knocks.yaml 403: "The knocking server or user is not permitted to
    knock on the room"): the knock decision, m.federate (rule 3) first."""
    return decision_answer(knock_decision, req)


def decision_answer(decide, req):
    """The answer of a make_* endpoint from a decision decide(v, state, user): allowed, or its
    refusal."""
    try:
        refusal, amb = decide(req["v"], req["state"], req["user_id"])
    except memberref.Invalid as e:
        return {"invalid": str(e)}
    if refusal:
        return answer(False, [refusal[0]], refusal[1], amb)
    return answer(True, why="ok", amb=amb)


def leave_decision(v, state, user):
    """The resident's leave decision. leaving-v1.yaml's make_leave answers 403 M_FORBIDDEN when
    "The request is not authorized. This could mean that the user is not in the room." The event
    is a leave by the user themself, so the auth rules say who may: rule 3 (v12: 4, m.federate)
    first, then the m.room.member rule for leave: "If the sender matches state_key, allow if and
    only if that user's current membership state is invite or join" (v1-auth-rules.md, v6.md),
    "invite, join, or knock" (changed in v7: v7.md, v8-auth-rules.md, v10.md, v12.md). No
    membership at all is none of them."""
    room = memberref.Room(v, state)
    if not room.federates_with(user):
        return (FORBIDDEN, "m.federate is false and the user is of another server"), []
    ms = room.membership(user)
    may = ("invite", "join", "knock") if int(v) >= 7 else ("invite", "join")
    if ms not in may:
        return (FORBIDDEN, "membership %s: a user leaves only from %s" % (ms, "/".join(may))), []
    return None, []


def make_leave(req):
    """/make_leave's verdict (leaving-v1.yaml): allowed, or 403 M_FORBIDDEN; a userId that is no
    user ID (appendices "User Identifiers") is an invalid request, 400."""
    if not user_ok(req["user_id"]):
        return answer(False, [INVALID_PARAM] if DECISIONS else None, "user_id is not a user ID")
    return decision_answer(leave_decision, req)


def send_own_member(req, membership, decide):
    """/send_knock and /send_leave: the event checks (400), the decision again, the auth rules
    against the event's own auth events when the resident has them (req["leave_auth_events"],
    check 4 of "Checks performed on receipt of a PDU") and against the current state (check 6)
    (403). The resident does not sign these events (knocks.yaml and leaving-v2.yaml ask for no
    signature of its own). Returns (answer, the parsed event or None). The key is not
    "auth_events": tools/transitionref calls send_join and send_knock of this module with an
    "auth_events" of its own, which it checks itself (with_auth_events)."""
    amb = set()
    v = req["v"]
    state = req["state"]
    try:
        ev = parse_event(v, req["event"], amb)
    except Refuse as e:
        return answer(False, e.codes, e.why, amb), None
    probs = event_checks(req, ev, membership, amb)
    codes, whys = [], []
    if probs:
        codes.append(INVALID_PARAM)
        whys += probs
    if not probs or not DECISIONS:
        try:
            refusal, a = decide(v, state, ev.get("sender"))
        except memberref.Invalid as e:
            return {"invalid": str(e)}, None
        amb |= set(a)
        if refusal:
            codes.append(refusal[0])
            whys.append("decision: " + refusal[1])
    if req.get("leave_auth_events") is not None and (not codes or not DECISIONS):
        r = own_auth_events_check(req, ev, state)
        if "error" in r:
            return r, None
        amb |= set(r.get("amb", []))
        if not r["allow"]:
            codes.append(FORBIDDEN)
            whys.append("auth rules on the auth events %s: %s" % (r["rule"], r["why"]))
    if not codes or not DECISIONS:
        r = auth_check(req, ev, state)
        amb |= set(r.get("amb", []))
        if not r["allow"]:
            codes.append(FORBIDDEN)
            whys.append("auth rules %s: %s" % (r["rule"], r["why"]))
    if codes:
        if membership == "leave" and FORBIDDEN in codes:
            # send_leave (leaving-v1.yaml, leaving-v2.yaml) names only a 400, "The request is
            # invalid in some way": neither the decision's refusal (make_leave's 403) nor a
            # rejection by the auth rules has a code of its own. Any refusal; 403 M_FORBIDDEN with
            # decisions (membership 23).
            amb.add("send-leave-403")
            if not DECISIONS:
                return answer(False, None, "; ".join(whys), amb), None
        return answer(False, codes if not DECISIONS else [codes[0]], "; ".join(whys), amb), None
    return answer(True, why="ok", amb=amb), ev


def auth_event_ids(v, ev):
    """The IDs the event's `auth_events` lists (v1-2: [event_id, hashes] pairs)."""
    out = []
    for a in ev.get("auth_events") or []:
        out.append(a[0] if int(v) <= 2 and isinstance(a, list) and a else a)
    return out


def own_auth_events_check(req, ev, state):
    """"Checks performed on receipt of a PDU" 4: "Passes authorisation rules based on the event's
    auth events, otherwise it is rejected". req["leave_auth_events"] are the events the event's
    auth_events lists, as the resident fetched them; the rules read them as the state, with rule
    2 (v12: 3) "Considering the event's auth_events" (duplicates, entries the auth events
    selection would not pick, no m.room.create, another room's event). In v12 the create event is
    not among them: rule 2 names it by the event's room_id, so it is the room's (the state's)."""
    v = req["v"]
    auth = [json.loads(a) if isinstance(a, str) else a for a in req["leave_auth_events"]]
    ids = [ref_hash_id(v, a) for a in auth]
    if sorted(ids) != sorted(auth_event_ids(v, ev)):
        return {"error": "harness: the auth events given are not the ones the event lists (%s vs %s)"
                % (ids, auth_event_ids(v, ev))}
    create = next((e for e in state if e.get("type") == "m.room.create" and e.get("state_key") == ""), None)
    cid = ref_hash_id(v, create) if create is not None else None
    return authref.check({"v": v, "ev": ev, "ev_id": ref_hash_id(v, ev), "auth": auth, "auth_ids": ids,
                          "create": create, "create_id": cid})


def send_knock(req):
    res, ev = send_own_member(req, "knock", knock_decision)
    if ev is None:
        return res
    state = req["state"]
    got = req.get("knock_room_state") or []
    sel = [state[i] for i in stripped_selection(state)]
    res["problems"] = stripped_problems(sel, got, state)
    return res


def send_leave(req):
    """leaving-v2.yaml: an accepted leave answers {} (v1: [200, {}]); the event is the one sent,
    which the resident sends on to the room's servers as it is."""
    res, ev = send_own_member(req, "leave", leave_decision)
    if ev is None:
        return res
    probs = []
    if req.get("result") is not None:  # roomproto accepted it too
        if json.loads(req["result"]) != ev:
            probs.append("the accepted event is not the event sent")
        if req.get("body") != {}:
            probs.append("response body %r, not {}" % (req.get("body"),))
    res["problems"] = probs
    return res


def stripped_problems(sel, got, state):
    """knocks.yaml / invites-v2.yaml: "MUST contain the m.room.create event for the room"; the
    entries are state events of the room ("some or all of" the stripped types, "The server might
    include events not described here as well"). With decisions (membership 10): exactly the
    seven types present, in the spec's order."""
    probs = []
    got = [json.loads(g) for g in got]
    if not any(g.get("type") == "m.room.create" for g in got):
        probs.append("no m.room.create")
    for g in got:
        if g not in state:
            probs.append("not a current state event: %s" % g.get("type"))
    if DECISIONS and got != sel:
        probs.append("not the seven types in order")
    return probs


def strip_event(req):
    """client-server "Stripped state": content, sender, state_key, type."""
    ev = json.loads(req["event"])
    want = {k: ev[k] for k in ("content", "sender", "state_key", "type") if k in ev}
    got = json.loads(req["out"])
    return answer(True, why="ok", problems=[] if got == want else ["stripped form differs"])


def stripped_state(req):
    state = req["state"]
    sel = [state[i] for i in stripped_selection(state)]
    return answer(True, why="ok", problems=stripped_problems(sel, req["out"], state))


# ---------------------------------------------------------------- invites

def check_irs(req, amb):
    """invites-v2.yaml invite_room_state validation. Returns (problems, number of entries that
    pass)."""
    v = req["v"]
    n = int(v)
    probs = []
    valid = 0
    have_create = False
    for text in req["irs"]:
        try:
            e = parse_event(v, text, amb)
        except Refuse as x:
            probs.append("format: " + x.why)
            continue
        bad = []
        if "state_key" not in e:
            # "A list of state events" (invites-v2.yaml): a non-state event is not one.
            bad.append("not a state event")
        is_create = e.get("type") == "m.room.create" and e.get("state_key") == ""
        # "does not reside in the same room ... Some room versions may require calculating the
        # room ID for an event rather than relying on the presence of room_id" (v12 create).
        if n >= 12 and e.get("type") == "m.room.create":
            rid = "!" + ref_hash_id(v, e)[1:]
            if "room_id" in e:
                amb.add("v12-create-with-room_id")
                bad.append("v12 create has room_id")
        else:
            rid = e.get("room_id")
        if rid != req["room_id"]:
            bad.append("other room")
        signers = required_signers(v, e)
        if None in signers:
            bad.append("no server")
        else:
            p = sig_status(v, e, signers, req["keys"], amb)
            if p:
                bad.append("signature")
            elif not hash_ok(e, amb):
                # "Validating hashes and signatures": a hash mismatch is a redacted copy, not a
                # failed signature check (decisions membership 11 reads it the same way).
                amb.add("irs-hash-mismatch")
        if bad:
            probs.append(",".join(bad))
        else:
            valid += 1
            if is_create:
                have_create = True
    if not have_create:
        probs.append("no valid m.room.create")
    return probs, valid


def sign_invite(req):
    amb = set()
    v = req["v"]
    try:
        ev = parse_event(v, req["event"], amb)
    except Refuse as e:
        return answer(False, e.codes, e.why, amb)
    probs = []
    if ev.get("type") != "m.room.member":
        probs.append("type")
    if ev["content"].get("membership") != "invite":
        probs.append("membership")
    if req.get("origin") and server_of(ev.get("sender")) != req["origin"]:
        probs.append("sender not of origin")
    if not isinstance(ev.get("state_key"), str) or not user_ok(ev.get("state_key")) or \
            server_of(ev.get("state_key")) != req["local"]:
        probs.append("state_key not a local user")
    if req.get("room_id") and ev.get("room_id") != req["room_id"]:
        probs.append("room_id")
    if req.get("event_id") and ref_hash_id(v, ev) != req["event_id"]:
        probs.append("event_id")
    signers = required_signers(v, ev)
    if None in signers:
        probs.append("no server")
    else:
        p = sig_status(v, ev, signers, req["keys"], amb)
        if p:
            probs.append("signature: " + "; ".join(p))
        elif not hash_ok(ev, amb):
            amb.add("hash-mismatch-400")
            probs.append("content hash")
    if probs:
        return answer(False, [INVALID_PARAM], "; ".join(probs), amb)
    ip, valid = check_irs(req, amb)
    # An invite in a room whose create event (as invite_room_state shows it) sets m.federate to
    # false, from a user of another server than the create event's: auth rule 3 (v12: 4) rejects
    # it in the room, and the invited user (of another server too) could never join. invites-v2
    # makes no such check of the invited server, which holds neither the invite's auth events nor
    # the room's state ("Checks performed on receipt of a PDU" 4-6 need them); refusing would be
    # its own policy (403 "The homeserver refuses to participate in the room"). Signed here.
    for text in req["irs"]:
        try:
            e = json.loads(text)
        except ValueError:
            continue
        if isinstance(e, dict) and e.get("type") == "m.room.create" and e.get("state_key") == "" and \
                isinstance(e.get("content"), dict) and e["content"].get("m.federate") is False and \
                server_of(ev.get("sender")) != server_of(e.get("sender")):
            amb.add("invite-not-federated")
    # "servers MAY apply [the invite_room_state validation] to room versions 1 through 11 and
    # SHOULD apply to all other room versions"; the v1.16 note: warn in 1-11, error otherwise.
    if ip and int(v) >= 12:
        return answer(False, [INVALID_PARAM], "invite_room_state: " + "; ".join(ip), amb)
    res = answer(True, why="ok", amb=amb, warnings=len(ip) > 0, valid=valid, irs_problems=ip)
    if req.get("result"):
        res["problems"] = countersign_ok(v, ev, req["result"], req["local"], req["keys"], amb)
        res["amb"] = sorted(amb)
    return res


# ---------------------------------------------------------------- transitions

def transition(v, frm, to, by_self, jr):
    """The m.room.member rules (v1-auth-rules, v8-auth-rules, v7.md, v10.md) read as a table:
    whether some room state lets a sender move the target from `frm` to `to`, and what the sender
    needs. "" and leave are one state. Returns None (no such change) or a dict."""
    n = int(v)
    frm = frm or "leave"
    knock = n >= 7
    if (frm == "knock" or to == "knock") and not knock:
        return None
    other = dict(sender_joined=True)
    if to == "join":
        if not by_self or frm == "ban":  # 4.3.2, 4.3.3
            return None
        rules = {"public"}
        if frm in ("join", "invite"):
            rules |= {"invite"}
            if knock:
                rules.add("knock")
            if n >= 8:
                rules.add("restricted")
            if n >= 10:
                rules.add("knock_restricted")
        auth = False
        if frm in ("leave", "knock") and jr in ("restricted", "knock_restricted") and \
                (jr == "restricted" and n >= 8 or jr == "knock_restricted" and n >= 10):
            rules.add(jr)
            auth = True
        if jr not in rules:
            return None
        return dict(levels=[], outranks=False, sender_joined=False, authoriser=auth)
    if to == "invite":
        if by_self or frm in ("join", "ban"):  # sender joined and the target is the sender
            return None
        return dict(levels=["invite"], outranks=False, authoriser=False, **other)
    if to == "leave":
        if by_self:
            if frm in ("invite", "join", "knock"):
                return dict(levels=[], outranks=False, sender_joined=False, authoriser=False)
            return None
        if frm == "ban":
            return dict(levels=["ban", "kick"], outranks=True, authoriser=False, **other)
        return dict(levels=["kick"], outranks=True, authoriser=False, **other)
    if to == "ban":
        if by_self:  # "the target user's power level is less than the sender's": never itself
            return None
        return dict(levels=["ban"], outranks=True, authoriser=False, **other)
    if to == "knock":
        ok_rules = {"knock"} | ({"knock_restricted"} if n >= 10 else set())
        if jr not in ok_rules or not by_self or frm in ("ban", "invite", "join"):
            return None
        return dict(levels=[], outranks=False, sender_joined=False, authoriser=False)
    return None


def transitions(req):
    v = req["v"]
    out = {}
    for frm in ("", "join", "invite", "leave", "ban", "knock"):
        for to in ("join", "invite", "leave", "ban", "knock"):
            for by_self in (True, False):
                for jr in ("public", "invite", "knock", "restricted", "knock_restricted", "private"):
                    t = transition(v, frm, to, by_self, jr)
                    out["%s>%s self=%s jr=%s" % (frm or "-", to, by_self, jr)] = t
    return {"table": out}


OPS = {"check_template": check_template, "sign_template": sign_template,
       "send_join_resp": send_join_resp, "send_join": send_join, "send_knock": send_knock,
       "make_join": make_join, "make_knock": make_knock, "make_leave": make_leave, "send_leave": send_leave,
       "sign_invite": sign_invite, "stripped_state": stripped_state, "strip_event": strip_event,
       "transitions": transitions}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            out = OPS[req["op"]](req)
        except Exception as e:  # noqa: BLE001 - reported to the harness
            import traceback
            out = {"error": "%s: %s %s" % (type(e).__name__, e, traceback.format_exc().replace("\n", " | "))}
        sys.stdout.write(json.dumps(out, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

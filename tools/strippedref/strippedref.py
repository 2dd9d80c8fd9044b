#!/usr/bin/env python3
"""strippedref: an independent reference of stripped state (invite_room_state /
knock_room_state: which events a server sends, how a client form is stripped, how a received
list is validated) and of the invited server's checks on PUT /invite v2, third-party invites
included.

Written from the spec text only (/work/shared/spec), before roomproto's membership/*.go was read:
  client-server-api "Stripped state" (the four client keys, the seven listed types, the create
    event required since v1.16, "The server might include events not described here");
  server-server-api "Inviting to a room" (the v1.16 note: SHOULD warn in room versions 1-11,
    SHOULD error in the others), "Knocking upon a room", "Third-party invites" ›
    "Verifying the invite", "Validating hashes and signatures on received events"
    ("If the event is a 3rd party invite ... the server which actually sends the event may be a
    different server"; a hash mismatch means a redacted copy);
  data/api/server-server/invites-v2.yaml (the five MUST-validate bullets, SHOULD M_INVALID_PARAM;
    the four invite_room_state bullets; "The event with the invited server's signature added.
    All other fields of the events should remain untouched"), knocks.yaml (knock_room_state).
Event format, canonical JSON, redaction and "Checking for a Signature" come from
tools/verifyref/verifyref.py and user-ID grammar from tools/authref/authref.py (both earlier
spec-only references of this repository).

Protocol: one JSON object per line on stdin (field "op"), one per line on stdout:
  {"allow": bool, "codes": [[status, errcode], ...] | null, "why": str, "amb": [...],
   "problems": [...],   # where roomproto's output departs from what the spec permits
   "warnings": bool, "valid": int, "irs_problems": [...]}
`codes` lists the refusals the spec text permits for the case (null: any refusal).
{"error": why} for a bug of the reference.

STRIPPEDREF_DECISIONS=1 adopts the readings of roomproto's docs/decisions.md where the spec is
silent (and those of verifyref/authref); every spec-silent corner met adds an "amb" flag.
"""
import base64
import copy
import hashlib
import json
import os
import sys

DECISIONS = os.environ.get("STRIPPEDREF_DECISIONS") == "1"
if DECISIONS:
    for k in ("AUTHREF_DECISIONS", "VERIFYREF_DECISIONS"):
        os.environ[k] = "1"
HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("authref", "verifyref"):
    sys.path.insert(0, os.path.join(HERE, "..", d))
import authref  # noqa: E402
import verifyref as vr  # noqa: E402

INVALID_PARAM = [400, "M_INVALID_PARAM"]
BAD_JSON = [400, "M_BAD_JSON"]
NOT_JSON = [400, "M_NOT_JSON"]

# client-server-api "Stripped state": "some or all of the following state events"
STRIPPED_TYPES = ["m.room.create", "m.room.name", "m.room.avatar", "m.room.topic",
                  "m.room.join_rules", "m.room.canonical_alias", "m.room.encryption"]
# Own bound: none (the spec sets none). roomproto's is MaxStrippedState (go doc).
MAX_STRIPPED = 256
# docs/decisions.md (membership) 18: CountersignEvent replaces signatures already under the server.
DECISIONS_PRIOR_LOCAL_SIG_REPLACED = DECISIONS  # membership 18, signing CountersignEvent


def server_of(u):
    """appendices "User Identifiers": @localpart:domain; None if not a valid user ID."""
    if not authref.user_id_valid(u, set()):
        return None
    return u.split(":", 1)[1]


def ref_hash_id(v, ev):
    """server-server-api "Calculating the reference hash for an event": the redacted event
    without signatures, unsigned (and age_ts), sha256, unpadded base64: standard in v3
    (rooms/v3.md), URL-safe from v4 (v4-event-ids)."""
    if v.n <= 2:
        return ev.get("event_id")
    red = vr.redact(v, ev, set())
    body = {k: x for k, x in red.items() if k not in ("signatures", "unsigned", "age_ts")}
    h = hashlib.sha256(vr.canonical_bytes(body)).digest()
    s = base64.b64encode(h).decode().rstrip("=")
    if v.n >= 4:
        s = s.replace("+", "-").replace("/", "_")
    return "$" + s


def parse(text, amb):
    """JSON text -> value, or raise ValueError."""
    ev, _dup = vr.parse_json(text, amb)
    return ev


def canon(x):
    return vr.canonical_bytes(x).decode("utf-8")


def check_entry(v, room_id, text, keys, amb):
    """One invite_room_state / knock_room_state entry (invites-v2.yaml bullets 2-4).
    Returns (problem or None, the form to keep)."""
    try:
        ev = parse(text, amb)
    except (ValueError, RecursionError):
        return "not JSON", None
    if not isinstance(ev, dict):
        return "not an object (not formatted according to the room version)", None
    res = vr.verify({"v": str(v.n), "ev": text, "keys": keys})
    for f in res["amb"]:
        amb.add("verifyref:" + f)
    if res["verdict"] == "reject":
        if "malformed" in res["kinds"]:
            return "not formatted according to the room version: " + res["why"], None
        return "fails a signature check: " + res["why"], None
    if res["verdict"] == "need-key":
        # "If a signature is from an unknown or expired key, it is skipped": nothing
        # verifies the entry; own reading: a problem (fetch the key and check again).
        amb.add("irs-unknown-key")
        return "signature from an unknown key: " + res["why"], None
    keep = ev
    if res["verdict"] == "redact":
        # "Validating hashes and signatures": a hash mismatch means a redacted copy; "use the
        # redacted copy it calculated rather than the full copy it received".
        amb.add("irs-hash-mismatch")
        keep = vr.redact(v, ev, set())
    if not isinstance(ev.get("state_key"), str):
        # invite_room_state: "A list of state events"; not one of the four bullets.
        amb.add("irs-non-state")
        return "not a state event", None
    if v.v12 and ev.get("type") == "m.room.create":
        if "room_id" in ev:
            # pdu_v12.yaml (room_id_v12): the create event has no room_id.
            amb.add("irs-v12-create-room_id")
            return "v12 create event with room_id (not formatted for v12)", None
        if "!" + ref_hash_id(v, ev)[1:] != room_id:
            return "create event of another room (v12 room ID)", None
    elif ev.get("room_id") != room_id:
        return "does not reside in the same room", None
    if DECISIONS and ev.get("type") == "m.room.create" and ev.get("state_key") == "":
        # membership decision 11 (this audit's finding B): a create event auth rule 1 rejects on
        # its own (prev events, another server's sender in v1-11, no creator) is no room's.
        r = authref.check({"v": str(v.n), "ev": ev, "auth": [], "auth_ids": []})
        if not r["allow"]:
            amb.add("irs-create-rule1")
            return "cannot be the room's create event: " + r["why"], None
    return None, keep


def check_stripped(v, room_id, entries, keys, amb):
    """invites-v2.yaml invite_room_state validation. Returns (valid forms, problems)."""
    if len(entries) > MAX_STRIPPED:
        amb.add("irs-over-limit")
    valid, problems = [], []
    have_create = False
    for i, text in enumerate(entries):
        p, keep = check_entry(v, room_id, text, keys, amb)
        if p:
            problems.append("entry %d: %s" % (i, p))
            continue
        valid.append(keep)
        if keep.get("type") == "m.room.create":
            if keep.get("state_key") == "":
                have_create = True
            else:
                amb.add("irs-create-state-key")
    if not have_create:
        problems.append("the m.room.create event is missing")
    seen = set()
    for e in valid:
        c = canon(e)
        if c in seen:
            amb.add("irs-duplicate")
        seen.add(c)
    return valid, problems


def compare_valid(ref_valid, rp_texts, amb):
    """roomproto's returned entries against the reference's (same events, same order)."""
    out = []
    try:
        got = [canon(parse(t, set())) for t in rp_texts]
    except (ValueError, RecursionError) as e:
        return ["roomproto returned an entry that is not JSON: %s" % e]
    want = [canon(e) for e in ref_valid]
    if got != want:
        gs, ws = set(got), set(want)
        extra = [g for g in got if g not in ws]
        missing = [w for w in want if w not in gs]
        out.append("valid entries differ: roomproto %d, reference %d; extra %s; missing %s" % (
            len(got), len(want), [x[:160] for x in extra[:2]], [x[:160] for x in missing[:2]]))
    return out


def checked(v, room_id, entries, keys, amb):
    """check_stripped as the reference reads it: every entry (the spec sets no bound); with
    STRIPPEDREF_DECISIONS, roomproto's documented bound (go doc MaxStrippedState, decisions.md
    membership 11): entries past the first MAX_STRIPPED are ignored, except that create events
    past it are checked, up to MAX_STRIPPED of them, until a valid one is found."""
    valid, problems = check_stripped(v, room_id, entries, keys, amb)
    if DECISIONS and len(entries) > MAX_STRIPPED:
        valid, problems = check_stripped(v, room_id, entries[:MAX_STRIPPED], keys, set())
        if not any(e.get("type") == "m.room.create" and e.get("state_key") == "" for e in valid):
            ncreate = 0
            for text in entries[MAX_STRIPPED:]:
                try:
                    ev = parse(text, set())
                except (ValueError, RecursionError):
                    continue
                if not isinstance(ev, dict) or ev.get("type") != "m.room.create":
                    continue
                ncreate += 1
                if ncreate > MAX_STRIPPED:
                    break
                p, keep = check_entry(v, room_id, text, keys, set())
                if p is None and keep.get("state_key") == "":
                    valid.append(keep)
                    problems = [x for x in problems if "missing" not in x]
                    break
    return valid, problems


def op_check_stripped(req):
    amb = set()
    v = vr.V(req["v"])
    valid, problems = checked(v, req["room_id"], req["entries"], req["keys"], amb)
    out = []
    out += compare_valid(valid, req["rp_valid"], amb)
    rp_n = req["rp_problems"]
    if (rp_n > 0) != (len(problems) > 0):
        out.append("problems: roomproto %d, reference %d (%s)" % (rp_n, len(problems), "; ".join(problems)[:400]))
    return {"allow": True, "problems": out, "irs_problems": problems, "valid": len(valid),
            "warnings": bool(problems), "amb": sorted(amb)}


# ------------------------------------------------------------------ PUT /invite (v2)

def countersign_problems(v, sent, out_text, local, keys, amb_out):
    """invites-v2.yaml 200: "The event with the invited server's signature added. All other
    fields of the events should remain untouched." """
    try:
        out = json.loads(out_text)
    except ValueError as e:
        return ["signed invite is not JSON: %s" % e]
    if not isinstance(out, dict) or not isinstance(out.get("signatures"), dict):
        return ["signed invite has no signatures"]
    mine = out["signatures"].get(local)
    if not isinstance(mine, dict) or not mine:
        return ["signed invite has no signature of " + local]
    probs = []
    exp = copy.deepcopy(sent)
    exp.setdefault("signatures", {})
    exp["signatures"] = dict(exp["signatures"])
    e_local = dict(exp["signatures"].get(local) or {})
    if e_local and set(e_local) - set(mine):
        # The received event already carries signatures of the invited server by other key IDs:
        # "signature added" and "All other fields ... untouched": own reading, they are kept.
        amb_out.add("invite-prior-local-sig")
        if DECISIONS_PRIOR_LOCAL_SIG_REPLACED:
            e_local = {}
    for kid, s in mine.items():
        e_local[kid] = s
    exp["signatures"][local] = e_local
    if canon(exp) != canon(out):
        probs.append("signed invite differs from the event received plus a signature: got %s" % out_text[:600])
    red = vr.redact(v, out, set())
    body = {k: x for k, x in red.items() if k not in ("signatures", "unsigned")}
    ok = False
    for kid, pk in (keys.get(local) or {}).items():
        s = mine.get(kid)
        if isinstance(s, str):
            sig = vr.b64decode(s, set())
            if sig is not None and vr.ed_verify(vr.b64decode(pk["key"], set()), vr.canonical_bytes(body), sig):
                ok = True
    if not ok:
        probs.append("signature of %s does not verify" % local)
    return probs


def op_sign_invite(req):
    amb = set()
    v = vr.V(req["v"])
    local, origin = req["local"], req.get("origin") or ""
    keys = req["keys"]
    text = req["event"]
    faults = []  # (codes, why)
    try:
        ev = parse(text, amb)
    except (ValueError, RecursionError):
        amb.add("invite-not-json-code")
        return {"allow": False, "codes": [NOT_JSON, BAD_JSON, INVALID_PARAM] if not DECISIONS else [NOT_JSON],
                "why": "not JSON", "amb": sorted(amb)}
    res = vr.verify({"v": str(v.n), "ev": text, "keys": keys})
    for f in res["amb"]:
        amb.add("verifyref:" + f)
    if res["verdict"] == "reject" and "malformed" in res["kinds"] and "has no server name" not in res["why"] \
            and "has no domain" not in res["why"]:
        # Not an event of the room version: no errcode is named; any 400 of the three.
        amb.add("invite-malformed-code")
        return {"allow": False, "codes": [BAD_JSON, INVALID_PARAM] if not DECISIONS else [BAD_JSON],
                "why": "malformed: " + res["why"], "amb": sorted(amb)}
    if res["verdict"] == "reject" and "malformed" in res["kinds"]:
        # a sender (v1-2: event ID) without a server name: "The event sender is not a user ID
        # on the origin server" (invites-v2.yaml), M_INVALID_PARAM.
        faults.append("sender or event ID without a server name: " + res["why"])
    elif res["verdict"] == "reject":
        faults.append("fails a signature check: " + res["why"])
    elif res["verdict"] == "need-key":
        amb.add("invite-unknown-key")
        faults.append("no known key verifies it: " + res["why"])
    elif res["verdict"] == "redact":
        # The signature check passes; the event is then to be treated as its redacted copy.
        # Own reading: countersigning an event whose content hash fails is refused.
        amb.add("invite-hash-mismatch")
        faults.append("content hash mismatch")
    if ev.get("type") != "m.room.member":
        faults.append("type is not m.room.member")
    c = ev.get("content")
    if not isinstance(c, dict) or c.get("membership") != "invite":
        faults.append("membership is not invite")
    snd = server_of(ev.get("sender"))
    if snd is None:
        # not a user ID at all, so on no server (whether or not the caller names the origin)
        faults.append("sender is not a user ID")
    elif origin and snd != origin:
        faults.append("sender is not a user ID on the origin server")
    if origin and origin == local:
        amb.add("invite-origin-is-local")
    tgt = server_of(ev.get("state_key"))
    if tgt != local:
        faults.append("state_key is not a user ID on the receiving server")
    if req.get("room_id"):
        if ev.get("room_id") != req["room_id"]:
            faults.append("room_id differs from the path")
    if req.get("event_id"):
        eid = ref_hash_id(v, ev)
        if eid != req["event_id"]:
            faults.append("event ID differs from the path")
    if isinstance(c, dict) and "third_party_invite" in c:
        # /invite names no check of `signed`; "Verifying the invite" is for a server in the
        # room (it needs the m.room.third_party_invite state). Own reading: not checked here.
        amb.add("invite-3pid")
        tpi = c["third_party_invite"]
        sg = tpi.get("signed") if isinstance(tpi, dict) else None
        if not (isinstance(sg, dict) and sg.get("mxid") == ev.get("state_key")
                and isinstance(sg.get("token"), str) and isinstance(sg.get("signatures"), dict)):
            amb.add("invite-3pid-bad-signed")
    policy = req.get("policy", "default")
    warnings, irs_problems, valid = False, [], []
    out = []
    if policy != "skip":
        irs_amb = set()
        valid, irs_problems = checked(v, req.get("room_id") or ev.get("room_id"), req["irs"], keys, irs_amb)
        amb |= irs_amb
        error = policy == "error" or (policy == "default" and v.n >= 12)
        if policy == "default" and v.n < 12 and irs_problems:
            amb.add("irs-warn-v1-11")  # "SHOULD warn ... rather than error in room versions 1 through 11"
        if irs_problems and error:
            faults.append("invite_room_state: " + "; ".join(irs_problems))
        elif irs_problems:
            warnings = True
    if faults:
        return {"allow": False, "codes": [INVALID_PARAM], "why": "; ".join(faults), "amb": sorted(amb),
                "irs_problems": irs_problems}
    if "result" in req:
        out += countersign_problems(v, ev, req["result"], local, keys, amb)
        if policy != "skip":
            out += compare_valid(valid, req.get("rp_valid") or [], amb)
            if bool(req.get("rp_warnings")) != warnings:
                out.append("warnings: roomproto %d, reference %s (%s)" % (
                    req.get("rp_warnings"), warnings, "; ".join(irs_problems)[:400]))
        elif req.get("rp_warnings"):
            out.append("warnings under the skip policy")
    return {"allow": True, "problems": out, "warnings": warnings, "valid": len(valid),
            "irs_problems": irs_problems, "amb": sorted(amb)}


# ------------------------------------------------------------------ sending stripped state

def op_stripped_state(req):
    """client-server-api "Stripped state": "some or all of the following state events"; the
    create event is required (v1.16); "The server might include events not described here";
    invites-v2.yaml: entries formatted according to the room version (full events)."""
    amb = set()
    v = vr.V(req["v"])
    state = {}
    for t in req["state"]:
        e = parse(t, set())
        state[(e["type"], e.get("state_key"))] = canon(e)
    out = []
    got = []
    for t in req["out"]:
        try:
            got.append(canon(parse(t, set())))
        except ValueError:
            out.append("not JSON: " + t[:200])
    cur = set(state.values())
    for g in got:
        if g not in cur:
            out.append("not a current state event: " + g[:200])
    if len(set(got)) != len(got):
        out.append("an event twice")
    create = state.get(("m.room.create", ""))
    if create and create not in got:
        out.append("the create event is missing")
    want = [state[(t, "")] for t in STRIPPED_TYPES if (t, "") in state]
    if got != want:
        amb.add("stripped-selection")
        if DECISIONS:
            out.append("not exactly the seven types with empty state key, in order")
    _ = v
    return {"allow": True, "problems": out, "amb": sorted(amb)}


def op_strip_event(req):
    """client-server-api "Stripped state": "can only have the sender, type, state_key and
    content properties present"."""
    amb = set()
    ev = parse(req["event"], set())
    want = {k: ev[k] for k in ("content", "sender", "state_key", "type") if k in ev}
    out = []
    if "state_key" not in ev:
        # "Stripped state events" are state events; the spec says nothing of stripping another
        # event: either a refusal or the three keys is acceptable.
        amb.add("strip-non-state")
        if req.get("err") is not None:
            return {"allow": True, "problems": [], "amb": sorted(amb)}
    if req.get("err"):
        out.append("StripEvent refused: " + req["err"])
    elif req["out"] != canon(want):
        out.append("want %s" % canon(want)[:400])
    return {"allow": True, "problems": out, "amb": sorted(amb)}


OPS = {"check_stripped": op_check_stripped, "sign_invite": op_sign_invite,
       "stripped_state": op_stripped_state, "strip_event": op_strip_event}


def main():
    for line in sys.stdin:
        try:
            req = json.loads(line)
            ans = OPS[req["op"]](req)
        except Exception as e:  # report, keep serving
            import traceback
            ans = {"error": "%s: %s" % (type(e).__name__, traceback.format_exc()[-1500:])}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

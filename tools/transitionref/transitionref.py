#!/usr/bin/env python3
"""transitionref: an independent reference of the membership transitions of a room and of the
auth-event side of the join/knock handshakes.

Written from the spec text only (/work/shared/spec), before reading membership/*.go:
client-server-api "Room membership" (the five states, the exceptions for non-members, the join
rule values), "Knocking on rooms" ("Users who are currently in the room, already invited, or
banned cannot knock"; "To accept another user's knock, the user must have permission to invite
...; To reject another user's knock, the user must have permission to either kick or ban";
"setting another user's membership to leave is kicking them"; "The knocking homeserver should
assume that an invite to the room means that the knock was accepted"), "Leaving rooms",
"Banning users in a room"; the m.room.member rules of every room version's authorization rules
(rooms/fragments/v1-auth-rules.md, v3-auth-rules.md, rooms/v6.md, v7.md,
fragments/v8-auth-rules.md, v10.md, v11.md, v12.md) and their note "To unban somebody, you must
have power level greater than or equal to both the kick *and* ban levels, *and* greater than
the target user's power level"; server-server-api "Definitions", "Auth events selection",
"Checks performed on receipt of a PDU" (checks 4 and 6), "Third-party invites" › "Verifying the
invite"; m.room.power_levels.yaml defaults. The membership diagram itself
(static/diagrams/membership.drawio) is not in the spec copy, so `InDiagram` is not checked.

It builds on references of this repository also written from the spec text only:
tools/authref/authref.py (the authorization rules, power level values, the auth events
selection) and tools/handshakeref/handshakeref.py (send_join / send_knock, which itself uses
tools/memberref and tools/verifyref). New here: the transition table and what each transition
needs, CheckTransition's verdict over a state (cross-checked inside the reference against
authref's verdict on the same membership event), ClassifyMemberEvent, KnockAccepted,
RequiredLevel, the auth events of a make_join/make_knock template, and send_join/send_knock
checked against the auth events the caller passes (check 4).

Protocol: one JSON object per line on stdin (field "op"), one answer per line on stdout.
{"invalid": why} for a case the reference cannot judge, {"error": why} for a bug (including
a disagreement between the table and authref, which is a reference bug).

TRANSITIONREF_DECISIONS=1 adopts roomproto's docs/decisions.md readings where the spec is
silent (and sets those of the references it builds on); each such corner adds an "amb" flag.
"""
import json
import os
import sys

DECISIONS = os.environ.get("TRANSITIONREF_DECISIONS") == "1"
if DECISIONS:
    for k in ("HANDSHAKEREF_DECISIONS", "AUTHREF_DECISIONS", "MEMBERREF_DECISIONS", "VERIFYREF_DECISIONS"):
        os.environ[k] = "1"
# TRANSITIONREF_PENDING=1 also adopts roomproto's reading of the corners this audit found that
# docs/decisions.md does not record yet (listed in README.md); each keeps its "amb" flag.
PENDING = os.environ.get("TRANSITIONREF_PENDING") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("authref", "memberref", "verifyref", "handshakeref"):
    sys.path.insert(0, os.path.join(HERE, "..", d))
import authref  # noqa: E402
import handshakeref as hs  # noqa: E402

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
FORBIDDEN = [403, "M_FORBIDDEN"]


def vinfo(vid):
    return authref.V(str(vid))


def memberships(v):
    """The memberships of the version: knock from v7 (rooms/v7.md)."""
    return ["join", "invite", "leave", "ban"] + (["knock"] if v.knock else [])


def join_rules(v):
    """client-server "Room membership" values, limited by the feature matrix."""
    out = ["public", "invite"]
    if v.knock:
        out.append("knock")
    if v.restricted:
        out.append("restricted")
    if v.knock_restricted:
        out.append("knock_restricted")
    return out


def rule_of(v, to):
    """The number of the m.room.member sub-rule for membership `to` in the version's text."""
    return v.rm(to)


def transition(v, frm, to, by_self, jr):
    """One edge of the state machine, read off the m.room.member rules (v8 numbering in the
    comments). frm "" or None is "no membership", which the rules treat like leave. jr matters
    only for join and knock. None when the rules permit the change for no sender."""
    ms = memberships(v)
    if frm in ("", None):
        frm = "leave"
    if frm not in ms or to not in ms:
        return None
    t = {"from": frm, "to": to, "by_self": by_self, "sender_joined": False, "levels": [],
         "outranks": False, "authoriser": False, "rule": rule_of(v, to)}
    if to == "join":
        # 4.3.2 sender must be the target; 4.3.3 banned: reject
        if not by_self or frm == "ban" or jr not in join_rules(v):
            return None
        if jr == "public":  # 4.3.6
            pass
        elif jr in ("invite", "knock"):  # 4.3.4 allow if invite or join
            if frm not in ("invite", "join"):
                return None
        else:  # restricted / knock_restricted, 4.3.5
            if frm not in ("invite", "join"):
                t["authoriser"] = True  # 4.3.5.2: join_authorised_via_users_server able to invite
        t["action"] = "join"
        return t
    if to == "invite":
        # 4.4.2 sender joined, 4.4.3 target not join/ban, 4.4.4 sender >= invite level. A
        # sender inviting itself is joined, so the target is joined: never.
        if by_self or frm in ("join", "ban"):
            return None
        t.update(action="invite", sender_joined=True, levels=["invite"])
        return t
    if to == "leave":
        if by_self:  # 4.5.1 allow iff invite, join (or knock from v7)
            if frm not in (("invite", "join", "knock") if v.knock else ("invite", "join")):
                return None
            t["action"] = "leave"
            return t
        # 4.5.2 sender joined; 4.5.3 a banned target needs the ban level; 4.5.4 kick level and
        # target below sender
        t.update(sender_joined=True, outranks=True)
        if frm == "ban":
            t.update(action="unban", levels=["ban", "kick"])
        else:
            t.update(action="kick", levels=["kick"])
        return t
    if to == "ban":
        # 4.6.2: the target's level below the sender's: never the sender itself
        if by_self:
            return None
        t.update(action="ban", sender_joined=True, levels=["ban"], outranks=True)
        return t
    if to == "knock":
        ok = ("knock", "knock_restricted") if v.knock_restricted else ("knock",)
        if jr not in ok or not by_self or frm in ("ban", "invite", "join"):  # 4.7.1-4.7.4
            return None
        t["action"] = "knock"
        return t
    return None


def meaning_words(t):
    """Words the spec uses for an edge (client-server "Room membership", "Knocking on rooms",
    "Leaving rooms"): the Meaning of roomproto's transition should use one of them. None when the
    spec gives no particular word."""
    f, to, s = t["from"], t["to"], t["by_self"]
    if f == "knock" and to == "invite":
        return ["accept"]
    if f == "knock" and to == "leave" and not s:
        return ["reject", "deny"]
    if f == "knock" and to == "leave" and s:
        return ["retract"]
    if f == "invite" and to == "leave" and s:
        return ["reject"]
    if f == "ban" and to == "leave":
        return ["unban", "lift"]
    return None


def tr_out(t):
    if t is None:
        return None
    o = dict(t)
    o["levels"] = sorted(t["levels"])
    o["meaning_words"] = meaning_words(t)
    return o


def table(req):
    """Every (from, to, by_self, join_rule) → transition, for FindTransition and Transitions."""
    v = vinfo(req["v"])
    out = {}
    for frm in memberships(v):
        for to in memberships(v):
            for s in (True, False):
                for jr in join_rules(v):
                    t = transition(v, frm, to, s, jr)
                    if t is not None:
                        out["%s|%s|%s|%s" % (frm, to, "self" if s else "other", jr)] = tr_out(t)
    return {"table": out, "join_rules": join_rules(v), "memberships": memberships(v)}


def find(req):
    """FindTransition on any input, including values outside the table."""
    v = vinfo(req["v"])
    amb = set()
    jr = req.get("join_rule")
    to = req["to"]
    if to in ("join", "knock") and jr == "":
        # the caller's "no join rule": own reading as a room without one (nothing matches);
        # decisions (authrules): JoinRules.Rule is "invite" for a room without one and "" for a
        # join_rule that is not a string, which matches no rule -- the same answer.
        amb.add("empty-join-rule")
    return {"tr": tr_out(transition(v, req.get("from"), to, req["by_self"], jr)), "amb": sorted(amb)}


# ---------------------------------------------------------------- state

class Room:
    def __init__(self, v, state, amb):
        self.v = v
        self.state = state
        self.by_key = {(e.get("type"), e.get("state_key")): e for e in state}
        create = self.by_key.get(("m.room.create", ""))
        cc = create.get("content") if isinstance(create.get("content"), dict) else {}
        # Auth rule 3 (v12: 4): m.federate false limits the room to the create event's server.
        self.federate_false = cc.get("m.federate") is False
        self.create_sender = create.get("sender")
        if v.creator_field:
            self.creators = {cc.get("creator")} if isinstance(cc.get("creator"), str) else set()
        else:
            self.creators = {create.get("sender")}
            if v.v12 and isinstance(cc.get("additional_creators"), list):
                self.creators |= {x for x in cc["additional_creators"] if isinstance(x, str)}
        self.pls = authref.PowerLevels(v, self.by_key.get(("m.room.power_levels", "")), self.creators, amb)
        jr = self.by_key.get(("m.room.join_rules", ""))
        self.jr = None
        if jr is not None and isinstance(jr.get("content"), dict):
            self.jr = jr["content"].get("join_rule")
        if self.jr is None:
            amb.add("no-join-rules")
            if DECISIONS:
                self.jr = "invite"  # decisions (authrules / membership 5)

    def membership(self, u):
        e = self.by_key.get(("m.room.member", u))
        if e is None or not isinstance(e.get("content"), dict):
            return None
        return e["content"].get("membership")


def sat(x):
    return max(INT64_MIN, min(INT64_MAX, x))


def check_transition(req):
    """CheckTransition(s, sender, target, to)."""
    v = vinfo(req["v"])
    amb = set()
    rm = Room(v, req["state"], amb)
    sender, target, to = req["sender"], req["target"], req["to"]
    frm = rm.membership(target) or "leave"
    by_self = sender == target
    jr = rm.jr
    t = transition(v, frm, to, by_self, jr)
    out = {"amb": amb}
    if rm.federate_false and authref.domain_of(sender) != authref.domain_of(rm.create_sender):
        # "If the content of the m.room.create event in the room state has the property
        # m.federate set to false, and the sender domain of the event does not match the sender
        # domain of the create event, reject": rule 3, before every m.room.member rule.
        out.update(allow=False, reasons=["not_federated"], tr=None, why="m.federate is false")
    elif t is None:
        reasons = ["not_possible"]
        if to == "join" and by_self and frm == "ban":
            reasons = ["banned"]  # 4.3.3 "If the sender is banned, reject"
        elif frm == "ban":
            # 4.7.3 / 4.4.3 / a banned user joined by another: the rules reject, the spec has
            # no word for which reason; either reading is faithful
            amb.add("reason-banned-target")
            reasons = ["banned", "not_possible"]
        out.update(allow=False, reasons=reasons, tr=None, why="no transition %s->%s" % (frm, to))
    else:
        pls = rm.pls
        sp = pls.user(sender)
        fails = []
        if t["sender_joined"] and rm.membership(sender) != "join":
            fails.append("sender not joined")
        for lv in t["levels"]:
            if sp < pls.named(lv):
                fails.append("below %s level" % lv)
        if t["outranks"] and not (pls.user(target) < sp):
            fails.append("does not outrank the target")
        if fails:
            out.update(allow=False, reasons=["insufficient"], why="; ".join(fails))
        else:
            out.update(allow=True, reasons=None, why="ok")
        out["tr"] = tr_out(t)
        levels = [sat(pls.named(lv)) for lv in t["levels"]]
        out["required_level"] = max(levels) if levels else 0
    # cross-check with authref on the same membership event against the state (check 6)
    if not (t is not None and t["authoriser"]):
        a = auth_verdict(req, v, sender, target, to, amb)
        if a is not None and a["allow"] != out["allow"]:
            return {"error": "table and authref disagree: table %s, authref %s rule %s %s" % (
                out["allow"], a["allow"], a["rule"], a["why"])}
    out["amb"] = sorted(amb)
    return out


def auth_verdict(req, v, sender, target, to, amb):
    state = req["state"]
    ids = req["state_ids"]
    create = next(e for e in state if e.get("type") == "m.room.create")
    cid = ids[state.index(create)]
    ev = {"type": "m.room.member", "sender": sender, "state_key": target, "content": {"membership": to},
          "room_id": req["room_id"], "prev_events": ["$notcreate"], "event_id": "$x:a.example"}
    r = authref.check({"v": req["v"], "ev": ev, "ev_id": "$x", "auth": state, "auth_ids": ids,
                       "create": create, "create_id": cid, "no_rule2": True})
    amb |= set(x for x in r.get("amb", []) if x != "join-rules-absent")
    return r


def classify(req):
    """ClassifyMemberEvent(v, from, ev, joinRule)."""
    v = vinfo(req["v"])
    amb = set()
    ev = req["ev"]
    c = ev.get("content")
    if ev.get("type") != "m.room.member" or not isinstance(ev.get("state_key"), str) \
            or not isinstance(c, dict) or not isinstance(c.get("membership"), str):
        return {"tr": None, "amb": [], "why": "not a membership event"}
    to = c["membership"]
    jr = req.get("join_rule")
    if to in ("join", "knock") and jr == "":
        # the caller's "no join rule": own reading as a room without one (nothing matches);
        # decisions (authrules): JoinRules.Rule is "invite" for a room without one and "" for a
        # join_rule that is not a string, which matches no rule -- the same answer.
        amb.add("empty-join-rule")
    by_self = ev.get("sender") == ev.get("state_key")
    if to == "invite" and "third_party_invite" in c:
        # rule 4.4.1: authorised by the signature, whoever sends it; still an invite.
        amb.add("classify-3pid")
    t = transition(v, req.get("from"), to, by_self, jr)
    if t is not None and t["authoriser"] and not isinstance(c.get("join_authorised_via_users_server"), str):
        # 4.3.5.2: without the key (or with one that is no user ID string) the rules reject
        # whatever the power levels; roomproto settled it the same way (README, finding 3.1).
        amb.add("classify-authvia-absent")
        t = None
    return {"tr": tr_out(t), "amb": sorted(amb)}


def knock_accepted(req):
    """"The knocking homeserver should assume that an invite to the room means that the knock
    was accepted": previous membership knock, an invite of that user by another user."""
    ev = req["ev"]
    c = ev.get("content") if isinstance(ev.get("content"), dict) else {}
    ok = (req.get("previous") == "knock" and ev.get("type") == "m.room.member"
          and isinstance(ev.get("state_key"), str) and c.get("membership") == "invite"
          and ev.get("sender") != ev.get("state_key"))
    return {"accepted": ok, "amb": []}


# ---------------------------------------------------------------- auth events

def selection(req):
    """server-server-api "Auth events selection" over the current state: the IDs a template
    for ev must list."""
    v = vinfo(req["v"])
    amb = set()
    keys = authref.selected_keys(v, req["ev"], amb)
    ids = []
    for e, i in zip(req["state"], req["state_ids"]):
        if (e.get("type"), e.get("state_key")) in keys:
            ids.append(i)
    return {"ids": sorted(ids), "amb": sorted(amb)}


def auth_ids_of(v, ev):
    out = []
    for a in ev.get("auth_events") or []:
        out.append(a[0] if int(v) <= 2 and isinstance(a, list) else a)
    return out


def with_auth_events(req, base, resident_signs):
    """Check 4 ("Passes authorisation rules based on the event's auth events") added to
    handshakeref's send_join / send_knock answer."""
    if req.get("auth_events") is None:
        return base
    amb = set(base.get("amb", []))
    v = req["v"]
    try:
        ev = json.loads(req["event"])
    except ValueError:
        return base
    if not isinstance(ev, dict):
        return base
    listed = [str(x) for x in auth_ids_of(v, ev)]
    # Check 4 is "based on the event's auth events": the events the event lists, each as often
    # as it lists it (rule 2.1 sees a duplicate listing). The supplied events are matched by ID;
    # the same event supplied twice is still one event.
    sup = {}
    for e, i in zip(req["auth_events"], req["auth_ids"]):
        sup.setdefault(i, e)
    missing = [i for i in listed if i not in sup]
    unlisted = [i for i in sup if i not in listed]
    bad_ids = False
    if missing or unlisted:
        # Own reading: events other than those the event lists are not its auth events: refuse.
        # decisions (authrules, "Missing auth events"): a listed event not supplied rejects;
        # supplied events not listed are ignored.
        amb.add("authevents-not-the-listed")
        bad_ids = bool(missing) or (bool(unlisted) and not DECISIONS)
    auth_ids = [i for i in listed if i in sup]
    auth = [sup[i] for i in auth_ids]
    if resident_signs:
        sigs = dict(ev.get("signatures") or {})
        sigs[req["resident"]] = {"ed25519:1": "x"}
        ev["signatures"] = sigs
    state = req["state"]
    create = next((e for e in state if e.get("type") == "m.room.create"), None)
    cid = req["state_ids"][state.index(create)] if create is not None else None
    try:
        r = authref.check({"v": v, "ev": ev, "ev_id": hs.ref_hash_id(v, ev), "auth": auth,
                           "auth_ids": auth_ids, "create": create, "create_id": cid})
    except Exception:  # noqa: BLE001 - a malformed event the format checks refuse first
        if base["allow"]:
            raise
        return base
    amb |= set(r.get("amb", []))
    out = dict(base)
    out["auth4"] = {"allow": r["allow"], "rule": r["rule"], "why": r["why"]}
    if base["allow"]:
        if not r["allow"] or bad_ids:
            out.update(allow=False, codes=[FORBIDDEN], why="check 4: %s %s%s" % (
                r["rule"], r["why"], " (auth events are not those the event lists)" if bad_ids else ""))
            out.pop("problems", None)
    elif not r["allow"] and base.get("codes") is not None and not DECISIONS:
        if FORBIDDEN not in base["codes"]:
            out["codes"] = base["codes"] + [FORBIDDEN]
    out["amb"] = sorted(amb)
    return out


def send_join(req):
    return with_auth_events(req, hs.send_join(req), True)


def send_knock(req):
    return with_auth_events(req, hs.send_knock(req), False)


def state_check(req):
    """Check 6 for one event against the current state (used for third-party invites)."""
    state = req["state"]
    create = next(e for e in state if e.get("type") == "m.room.create")
    cid = req["state_ids"][state.index(create)]
    r = authref.check({"v": req["v"], "ev": json.loads(req["event"]), "ev_id": "$x", "auth": state,
                       "auth_ids": req["state_ids"], "create": create, "create_id": cid, "no_rule2": True})
    return r


OPS = {"table": table, "find": find, "check_transition": check_transition, "classify": classify,
       "knock_accepted": knock_accepted, "selection": selection, "send_join": send_join,
       "send_knock": send_knock, "state_check": state_check}


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

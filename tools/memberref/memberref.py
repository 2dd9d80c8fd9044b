#!/usr/bin/env python3
"""memberref: an independent reference of what a resident server decides for a join or a knock.

Written from the Matrix spec text only (server-server-api "Joining Rooms", "Restricted rooms",
"Knocking upon a room"; client-server-api "Room membership", "Restricted rooms", "Knocking on
rooms"; joins-v1.yaml, joins-v2.yaml, knocks.yaml; the m.room.member rules of the authorization
rules of each room version; m.room.power_levels.yaml and m.room.join_rules.yaml) and the
original restricted-rooms proposal (MSC3083, seeds 000/002/004). Standard library only.

Protocol: one JSON object per line on stdin, one answer per line on stdout.

Request:
  {"op": "join" | "knock", "v": "9", "state": [state events],
   "user_id": "@u:s", "resident_server": "r.example",      (resident_server: join only)
   "origin": "s" | null, "ver": ["9", ...] | null,           (null: not checked)
   "rooms": {"!room:x": {"@u:s": "join", ...}, ...}}        (rooms the resident knows)
Answer:
  {"allow": bool, "needs_authoriser": bool, "authorisers": [users able to authorise],
   "preferred": user | null, "status": int, "errcode": str, "why": str, "amb": [flags]}
  or {"invalid": why} for a state that cannot be current, {"error": why} for a bug.

`amb` names the spec-silent corners a decision went through (see README.md). With the
environment variable MEMBERREF_DECISIONS=1 the reference adopts roomproto's readings of those
corners (docs/decisions.md, "## membership" and "## authrules"), each noted where it applies.
"""
import json
import os
import re
import sys
from decimal import Decimal

DECISIONS = os.environ.get("MEMBERREF_DECISIONS") == "1"

INF = float("inf")


class Invalid(Exception):
    """A state the spec says cannot be current (an event the auth rules would have rejected)."""


def vnum(v):
    return int(v)


# Feature matrix (rooms/_index.md): knocking v7+, restricted v8+, knock_restricted v10+.
def knock_supported(v):
    return vnum(v) >= 7


def restricted_supported(v):
    return vnum(v) >= 8


def knock_restricted_supported(v):
    return vnum(v) >= 10


def server_of(user_id):
    # appendices "User Identifiers": @localpart:domain; the domain is everything after the
    # first colon (it may carry a port).
    if not isinstance(user_id, str) or not user_id.startswith("@") or ":" not in user_id:
        return None
    return user_id.split(":", 1)[1]


# --- power levels -------------------------------------------------------------------------

_STRINGY = re.compile(r"^[ \t\n\r\f\v]*[+-]?[0-9]+[ \t\n\r\f\v]*$")


def level_value(v, x):
    """The integer a power level value stands for in room version v (v1-stringy-power-levels,
    v1-floaty-power-levels, v10 "must be integers"). Raises Invalid for a value the room version
    does not accept: such a power levels event is rejected by rule 9/10 and never current."""
    n = vnum(v)
    if isinstance(x, bool):
        raise Invalid("boolean power level")
    if isinstance(x, int):
        return x
    if isinstance(x, Decimal):  # a JSON number with a fraction or an exponent
        if n > 5:
            raise Invalid("float power level after v5")
        if not x.is_finite() or abs(x) > Decimal("1.7976931348623157e308"):
            raise Invalid("power level outside the binary64 range")
        return int(x)  # exponent applied, then truncated at the decimal point (towards zero)
    if isinstance(x, str):
        if n > 9:
            raise Invalid("string power level from v10")
        if not _STRINGY.match(x):
            raise Invalid("string power level not an integer")
        return int(x.strip(" \t\n\r\f\v"))
    raise Invalid("power level of type %s" % type(x).__name__)


class Room:
    def __init__(self, v, state):
        self.v = v
        self.create = None
        self.pl = None
        self.jr = None
        self.members = {}
        for ev in state:
            t, sk = ev.get("type"), ev.get("state_key")
            if t == "m.room.create" and sk == "":
                self.create = ev
            elif t == "m.room.power_levels" and sk == "":
                self.pl = ev
            elif t == "m.room.join_rules" and sk == "":
                self.jr = ev
            elif t == "m.room.member" and isinstance(sk, str):
                ms = (ev.get("content") or {}).get("membership")
                self.members[sk] = ms if isinstance(ms, str) else None
        if self.create is None:
            raise Invalid("no m.room.create in the state")

    def membership(self, user):
        return self.members.get(user)  # None: no membership at all

    def federates_with(self, user):
        """Auth rule 3 (v12: 4): "If the content of the m.room.create event in the room state
        has the property m.federate set to false, and the sender domain of the event does not
        match the sender domain of the create event, reject." The rule comes before every
        membership rule, so a join or knock by such a user is refused whatever the join rule."""
        c = self.create.get("content") or {}
        return c.get("m.federate") is not False or server_of(user) == server_of(self.create.get("sender"))

    # Room creators: v12 sender + additional_creators (infinite level); the "room's creator"
    # of m.room.power_levels.yaml (100 without a power levels event) is content.creator up to
    # v10 (rule 1.4 requires it) and the create event's sender from v11 (v11.md).
    def creators(self):
        n = vnum(self.v)
        c = self.create.get("content") or {}
        if n >= 12:
            out = [self.create.get("sender")]
            ac = c.get("additional_creators")
            if isinstance(ac, list):
                out += [u for u in ac if isinstance(u, str)]
            return out
        if n >= 11:
            return [self.create.get("sender")]
        cr = c.get("creator")
        if not isinstance(cr, str):
            raise Invalid("create event without creator before v11")
        return [cr]

    def user_level(self, user):
        n = vnum(self.v)
        if n >= 12 and user in self.creators():
            return INF
        if self.pl is None:
            return 100 if user in self.creators() else 0
        c = self.pl.get("content") or {}
        users = c.get("users", {})
        if not isinstance(users, dict):
            raise Invalid("users not an object")
        if user in users:
            return level_value(self.v, users[user])
        if "users_default" in c:
            return level_value(self.v, c["users_default"])
        return 0

    def invite_level(self):
        # server-server-api "Definitions": the invite level defaults to 0 if unspecified, and
        # m.room.power_levels.yaml: "invite defaults to 0 in either case" (no event too).
        if self.pl is None:
            return 0
        c = self.pl.get("content") or {}
        if "invite" in c:
            return level_value(self.v, c["invite"])
        return 0

    def join_rule(self, amb):
        if self.jr is None:
            amb.append("no-join-rules")
            # The auth rules name no join rule when there is no m.room.join_rules event: none
            # of their join-rule branches applies, so "Otherwise, reject". docs/decisions.md
            # (authrules) reads such a room as `invite`.
            return "invite" if DECISIONS else None
        c = self.jr.get("content") or {}
        if "join_rule" not in c:
            amb.append("join-rule-missing")
            # Likewise for an m.room.join_rules whose content has no `join_rule`: no branch of
            # the rules applies. docs/decisions.md (authrules, "No m.room.join_rules event, or
            # no join_rule, means invite").
            return "invite" if DECISIONS else None
        jr = c["join_rule"]
        # A join_rule that is not a string is no join rule the rules name: "Otherwise, reject"
        # (docs/decisions.md reads it the same way: authrules, membership 5).
        return jr if isinstance(jr, str) else None


# --- decisions ----------------------------------------------------------------------------

def reject(status, errcode, why, amb):
    return {"allow": False, "needs_authoriser": False, "authorisers": [], "preferred": None,
            "status": status, "errcode": errcode, "why": why, "amb": amb}


def allow(why, amb, authorisers=None, preferred=None):
    return {"allow": True, "needs_authoriser": authorisers is not None,
            "authorisers": authorisers or [], "preferred": preferred,
            "status": 200, "errcode": "", "why": why, "amb": amb}


def request_checks(req, amb):
    """The checks of the /make_join or /make_knock request itself (joins-v1.yaml,
    knocks.yaml): the `ver` list and "This MUST be a user ID on the origin server"."""
    v, user = req["v"], req["user_id"]
    ver = req.get("ver")
    origin = req.get("origin")
    bad_ver = ver is not None and v not in ver
    bad_origin = origin not in (None, "") and server_of(user) != origin
    if bad_origin:
        # The spec names no status for a user who is not of the origin server; the 403 is
        # "does not permit the user to join" (joins-v1.yaml 403, knocks.yaml 403: "The knocking
        # server or user is not permitted").
        amb.append("origin-status")
    if bad_ver and bad_origin:
        # Which check comes first is not said.
        amb.append("order-ver-origin")
        if DECISIONS:
            # docs/decisions.md (membership) 16: `ver` first, then the origin.
            return reject(400, "M_INCOMPATIBLE_ROOM_VERSION", "room version not in ver", amb)
        return reject(403, "M_FORBIDDEN", "user not of the origin server", amb)
    if bad_ver:
        return reject(400, "M_INCOMPATIBLE_ROOM_VERSION", "room version not in ver", amb)
    if bad_origin:
        return reject(403, "M_FORBIDDEN", "user not of the origin server", amb)
    return None


def valid_conditions(jr_content):
    """The allow conditions that match the schema (m.room.join_rules.yaml): an object whose
    `type` is m.room_membership and whose `room_id` is a string matching "^!". "If no
    conditions are available, or none match the required schema, then the joining server is
    considered to have failed all conditions" (server-server-api "Restricted rooms")."""
    allow_ = jr_content.get("allow")
    if not isinstance(allow_, list):
        return []  # MSC3083: "empty list (or not a list at all)": nobody joins without invite
    out = []
    for c in allow_:
        if not isinstance(c, dict):
            continue
        if c.get("type") != "m.room_membership":
            continue  # unknown condition types cannot be satisfied
        rid = c.get("room_id")
        if not isinstance(rid, str) or not rid.startswith("!"):
            continue
        out.append(rid)
    return out


def decide_join(req):
    amb = []
    v, user, resident = req["v"], req["user_id"], req["resident_server"]
    r = request_checks(req, amb)
    if r:
        return r
    room = Room(v, req["state"])
    if not room.federates_with(user):
        return reject(403, "M_FORBIDDEN", "m.federate is false (rule 3)", amb)
    ms = room.membership(user)
    # Rule 4.3.3 (4.2.3 in v1-v7 numbering): "If the sender is banned, reject", before any
    # join rule.
    if ms == "ban":
        return reject(403, "M_FORBIDDEN", "banned", amb)
    jr = room.join_rule(amb)
    n = vnum(v)
    # Rule 4.3.4: invite (and knock from v7): allow if membership is invite or join.
    if jr == "invite" or (jr == "knock" and knock_supported(v)):
        if ms in ("invite", "join"):
            return allow("invited or joined", amb)
        return reject(403, "M_FORBIDDEN", "join rule %s needs an invite" % jr, amb)
    # Rule 4.3.5: restricted (v8+), knock_restricted (v10+).
    if (jr == "restricted" and restricted_supported(v)) or (
            jr == "knock_restricted" and knock_restricted_supported(v)):
        if ms in ("invite", "join"):
            # client-server "Restricted rooms": "If the user has an invite to the room then the
            # restrictions will not affect them"; joins-v1: "If the user is responding to an
            # invite, this [join_authorised_via_users_server] is not required".
            return allow("invited or joined", amb)
        return restricted(room, req, user, resident, amb)
    # Rule 4.3.6: public.
    if jr == "public":
        return allow("public", amb)
    # Rule 4.3.7: "Otherwise, reject" (private, unknown rules, rules the version lacks).
    return reject(403, "M_FORBIDDEN", "join rule %r does not allow joining in v%d" % (jr, n), amb)


def restricted(room, req, user, resident, amb):
    conds = valid_conditions(room.jr.get("content") or {})
    rooms = req.get("rooms") or {}
    satisfied = False
    unverifiable = []
    failed = []
    for rid in conds:
        if rid not in rooms:
            unverifiable.append(rid)
            continue
        m = rooms[rid].get(user)
        if m == "join":  # "a *joined* member of another room"
            satisfied = True
            break
        failed.append(rid)
    if satisfied:
        # An authorising user: "An arbitrary user ID belonging to the resident server in the
        # room being joined that is able to issue invites to other users" (joins-v1.yaml), which
        # rule 4.3.5.2 checks as "a user with sufficient permission to invite other users" and
        # "a joined member of the room": joined, of the resident server, level >= invite level.
        inv = room.invite_level()
        able = []
        for u, m in room.members.items():
            if m != "join" or server_of(u) != resident:
                continue
            if room.user_level(u) >= inv:
                able.append(u)
        if not able:
            # M_UNABLE_TO_GRANT_JOIN: "the resident server can see that the joining user
            # satisfies one of the conditions, though the resident server would be unable to
            # meet the auth rules governing join_authorised_via_users_server".
            return reject(400, "M_UNABLE_TO_GRANT_JOIN", "no user of the resident can invite", amb)
        # The spec lets the resident pick any of them ("arbitrary"); with -decisions the
        # reference also names the one docs/decisions.md (membership) 7 says roomproto picks.
        pref = preferred(room, able) if DECISIONS else None
        return allow("condition", amb, sorted(able), pref)
    if unverifiable:
        if server_of(user) == resident:
            # The joining user is the resident's own user: the spec does not say whether a room
            # the resident does not know can still be "unable to validate" for its own users.
            amb.append("own-user-unknown-room")
        if failed:
            # Some conditions were checked and failed, others could not be checked. The spec's
            # 400 is for "none of the conditions can be validated" and its 403 for "fails all
            # conditions"; the mixed case is the MSC3083 text (seed 000): "If the user is not in
            # any of the allowed rooms that are known to the homeserver it should return ... 400
            # M_UNABLE_TO_AUTHORISE_JOIN".
            amb.append("mixed-unverifiable")
        if DECISIONS and server_of(user) == resident:
            # docs/decisions.md (membership) 2: for the resident's own user an unknown room is
            # a failed condition (the server knows every room its users are in).
            return reject(403, "M_FORBIDDEN", "own user satisfies no condition", amb)
        return reject(400, "M_UNABLE_TO_AUTHORISE_JOIN", "conditions cannot be verified", amb)
    # "If the joining server fails all conditions then a 403 M_FORBIDDEN error is used", also
    # when there are no (valid) conditions.
    return reject(403, "M_FORBIDDEN", "no condition satisfied", amb)


def preferred(room, able):
    """docs/decisions.md (membership) 7: the first by power level descending (v12 creators,
    infinite, first), then by user ID in byte order."""
    return min(able, key=lambda u: (-room.user_level(u), u.encode("utf-8")))


def decide_knock(req):
    amb = []
    v, user = req["v"], req["user_id"]
    r = request_checks(req, amb)
    if r:
        return r
    room = Room(v, req["state"])
    if not room.federates_with(user):
        return reject(403, "M_FORBIDDEN", "m.federate is false (rule 3)", amb)
    if not knock_supported(v):
        # Before v7 a knock membership is "unknown. Reject." (rule 4.x.8); knocks.yaml 403: "the
        # room is not set up for receiving knocks".
        return reject(403, "M_FORBIDDEN", "room version has no knocking", amb)
    jr = room.join_rule(amb)
    # v7 rule 4.6.1 / v10 rule 4.7.1: the join rule must be knock (or knock_restricted from v10).
    if not (jr == "knock" or (jr == "knock_restricted" and knock_restricted_supported(v))):
        return reject(403, "M_FORBIDDEN", "join rule %r does not allow knocking" % (jr,), amb)
    ms = room.membership(user)
    # "Users who are currently in the room, already invited, or banned cannot knock"; rule
    # 4.x.3: allow if the membership is not ban, invite or join.
    if ms in ("ban", "invite", "join"):
        return reject(403, "M_FORBIDDEN", "membership %s cannot knock" % ms, amb)
    return allow("knock", amb)


def main():
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line, parse_float=Decimal)
            if req["op"] == "join":
                res = decide_join(req)
            elif req["op"] == "knock":
                res = decide_knock(req)
            else:
                raise ValueError("unknown op %r" % req["op"])
        except Invalid as e:
            res = {"invalid": str(e)}
        except Exception as e:  # noqa: BLE001 - reported to the harness
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(res, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

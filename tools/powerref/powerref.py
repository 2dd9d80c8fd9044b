#!/usr/bin/env python3
"""powerref: an independent reference of power levels and room state as an API.

Written from the spec text only (not from roomproto's Go source):
  - data/event-schemas/schema/m.room.power_levels.yaml (defaults, creators, the range note);
  - rooms/fragments/v1-stringy-power-levels.md (v1-9: integer strings),
    rooms/fragments/v1-floaty-power-levels.md (v1-5: floats truncated),
    rooms/v10.md "Values in m.room.power_levels events must be integers";
  - the m.room.power_levels rules of each room version (v1-auth-rules.md 10.1, v3 10.1, v6/v7
    9.1, v8-auth-rules.md 9.1, v10/v11 9.1-9.3, v12 10.1-10.4) for what a valid content is;
  - rooms/v12.md "room creators" (sender + additional_creators, infinite level);
  - server-server-api.md "Definitions" (required/invite/kick/ban/redact levels) and
    "Auth events selection";
  - server-server-api.md "Restricted rooms" and rule 4.3.5.2 of v8-auth-rules.md (who may
    authorise a restricted join: a joined member with sufficient permission to invite).
User ID validity comes from tools/authref/authref.py (also written from the spec only).

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
  {"op":"pl", "v":"9", "content":"<raw JSON>", "probe":{...}}          ParsePowerLevels
  {"op":"default", "v":"9", "creators":[...], "probe":{...}}           DefaultPowerLevels
  {"op":"state", "v":"9", "init":[raw...], "apply":[raw...], "rp_init":bool, "rp_apply":[bool],
   "probe":{...}, "cands":[raw...], "servers":[...]}                    NewState/Apply/...
Answer: {"ok":bool|null, "values":{key: value}, "amb":{key:[tags]}, "tags":[...]}
`ok` null means the spec does not say whether the input is valid. A tag in amb[key] marks the
value of key as a spec-silent corner (a divergence there needs a decision, not a fix).

POWERREF_DECISIONS=1 adopts the readings of roomproto's docs/decisions.md (see README.md).
"""
import json
import os
import re
import sys
from decimal import Decimal, InvalidOperation

DECISIONS = os.environ.get("POWERREF_DECISIONS") == "1"
# POWERREF_MUTATE names a deliberate error of the reference, to check that the harness sees it
# (README "Checks of the harness itself"); empty in every real run.
MUTATE = os.environ.get("POWERREF_MUTATE", "")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "authref"))
import authref  # noqa: E402

INT64_MAX = 2 ** 63 - 1
INT64_MIN = -(2 ** 63)
INF = float("inf")
MAX_DOUBLE = Decimal("1.7976931348623157e308")
CANON_MAX = 2 ** 53 - 1

NAMED = ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]
# m.room.power_levels.yaml, server-server-api "Definitions"
DEFAULTS = {"users_default": 0, "events_default": 0, "state_default": 50, "ban": 50, "kick": 50,
            "redact": 50, "invite": 0}
NOTIF_DEFAULT = {"room": 50}

ASCII_WS = " \t\n\r\f\v"
MISSING = object()


class Bad(Exception):
    """An invalid power level value or content."""


def vnum(v):
    return int(v)


def sat(x):
    """The int64 getters saturate (the API's documented contract)."""
    if x == INF:
        return INT64_MAX
    if x > INT64_MAX:
        return INT64_MAX
    if x < INT64_MIN:
        return INT64_MIN
    return int(x)


def parse_level(v, x, tags):
    """The exact integer a power level value stands for in room version v, or raise Bad."""
    n = vnum(v)
    if isinstance(x, bool) or x is None or isinstance(x, (list, dict)):
        raise Bad("not a number")
    if isinstance(x, int):
        if n >= 6 and abs(x) > CANON_MAX:
            # content that no valid v6+ event can carry (canonical JSON range)
            tags.add("noncanonical-int")
        return x
    if isinstance(x, Decimal):
        if n <= 5:
            # v1-floaty-power-levels.md: exponent applied, truncated at the decimal point;
            # outside the binary64 range rejected.
            if not x.is_finite() or abs(x) > MAX_DOUBLE:
                raise Bad("float outside the binary64 range")
            t = int(x)  # truncation toward zero, exact decimal arithmetic
            d = int(float(x))  # the value read as a binary64, then truncated
            if d != t:
                tags.add("float-decimal-vs-double")
                if DECISIONS:
                    # decisions.md "Power level values before v10" reads the values as binary64
                    # numbers ("outside binary64 ... invalid"; the truncated value "is an exact
                    # integer"): the double's value
                    return d
            return t
        if x == x.to_integral_value():
            tags.add("integral-float")
        raise Bad("float not allowed from v6")
    if isinstance(x, str):
        if n >= 10:
            raise Bad("string not allowed from v10")
        return parse_int_string(x, tags)
    raise Bad("unknown type")


def parse_int_string(s, tags):
    """v1-stringy-power-levels.md: leading/trailing whitespace, one optional sign, base-10
    digits (any number of leading zeroes)."""
    i, j = 0, len(s)
    while i < j and s[i].isspace():
        if s[i] not in ASCII_WS:
            tags.add("ws-nonascii")
        i += 1
    while j > i and s[j - 1].isspace():
        if s[j - 1] not in ASCII_WS:
            tags.add("ws-nonascii")
        j -= 1
    core = s[i:j]
    if MUTATE == "no-plus" and core.startswith("+"):
        raise Bad("plus sign")
    sign = 1
    if core[:1] in ("+", "-"):
        sign = -1 if core[0] == "-" else 1
        core = core[1:]
    if not core:
        raise Bad("no digits")
    if not all("0" <= c <= "9" for c in core):
        if all(c.isdigit() or ("0" <= c <= "9") for c in core):
            tags.add("digits-nonascii")
        raise Bad("not a base-10 integer")
    return sign * int(core)


class PL:
    """A power levels content read for room version v: exact integer values."""

    def __init__(self, v, exists):
        self.v = v
        self.exists = exists
        self.named = dict(DEFAULTS)
        self.users = {}
        self.events = {}
        self.notifs = {}
        self.creators = []
        self.no_pl_creator = None  # v1-11 without PL event: the creator at 100
        self.namedtags = {}  # name -> tags
        self.usertags = {}
        self.eventtags = {}
        self.notiftags = {}
        self.globaltags = set()


def parse_pl(v, content, lenient):
    """Parse PL content as the rules of v validate it (lenient=False: raise Bad on invalid) or as
    a state holds it (lenient=True: invalid values take their defaults, tagged).

    Before v10 the rules validate only `users` (v1 10.1, v3 10.1, v6/v7/v8 9.1); what a named
    level, an `events` or a `notifications` value that is not a level means is not said: the
    reference's own reading ignores it (its default applies) and tags it; with DECISIONS such a
    value rejects the content (decisions.md "Power level values before v10"), except
    `notifications` before v6, which the rules ignore."""
    n = vnum(v)
    pl = PL(v, True)
    if not isinstance(content, dict):
        if not lenient:
            raise Bad("content not an object")
        pl.globaltags.add("state-lenient")
        return pl

    def rejects(kind):
        """Whether an unusable value of this kind rejects the content (strict reading)."""
        if lenient:
            return False
        if n >= 10:
            return True
        if kind == "users":
            return True
        if DECISIONS:
            return not (kind == "notifications" and n <= 5)
        return False

    def soft_tag(kind):
        if lenient:
            return "state-lenient"
        if kind == "notifications" and n <= 5:
            return "pre6-notifications"
        return "pre10-bad-" + kind

    def level(x, where, tagsink):
        tags = set()
        try:
            val = parse_level(v, x, tags)
            tagsink |= tags
            return val
        except Bad as e:
            tagsink |= tags
            raise Bad("%s: %s" % (where, e))

    for name in NAMED:
        if name not in content:
            continue
        tags = set()
        try:
            pl.named[name] = level(content[name], name, tags)
        except Bad:
            if rejects("named"):
                raise
            tags.add(soft_tag("named"))
            pl.globaltags.add(soft_tag("named"))
        pl.globaltags |= tags
        if tags:
            pl.namedtags[name] = tags
    for prop, store, tagstore in (("events", pl.events, pl.eventtags), ("notifications", pl.notifs, pl.notiftags)):
        if prop not in content:
            continue
        m = content[prop]
        if not isinstance(m, dict):
            if rejects(prop):
                raise Bad(prop + " not an object")
            pl.globaltags.add(soft_tag(prop))
            tagstore["*"] = {soft_tag(prop)}
            continue
        for k, x in m.items():
            tags = set()
            try:
                store[k] = level(x, prop + "." + k, tags)
            except Bad:
                if rejects(prop):
                    raise
                tags.add(soft_tag(prop))
                pl.globaltags.add(soft_tag(prop))
            pl.globaltags |= tags
            if tags:
                tagstore[k] = tags
    if "users" not in content and n >= 10:
        # v10 9.3 / v12 10.3 "If the users property in content is not an object ..." does not say
        # "present" as 9.1/9.2 do
        pl.globaltags.add("users-absent")
    if "users" in content:
        m = content["users"]
        if not isinstance(m, dict):
            if rejects("users"):
                raise Bad("users not an object")
            pl.globaltags.add("state-lenient")
            pl.usertags["*"] = {"state-lenient"}
        else:
            for k, x in m.items():
                tags = set()
                ok_key = authref.user_id_valid(k, tags)
                try:
                    if not ok_key and not (lenient and DECISIONS):
                        # with DECISIONS a state keeps the entry: decisions.md "A power levels
                        # event in a room state is read leniently: an invalid value takes its
                        # default" defaults values, not keys
                        raise Bad("users key %r not a user ID" % k)
                    if not ok_key:
                        tags.add("state-lenient-key")
                    pl.users[k] = level(x, "users." + k, tags)
                except Bad:
                    if rejects("users"):
                        raise
                    tags.add("state-lenient")
                    pl.usertags["*"] = {"state-lenient"}
                pl.globaltags |= tags
                if tags:
                    pl.usertags[k] = tags
    return pl


def default_pl(v, creators):
    """The levels of a room without m.room.power_levels. The spec gives the creator a level of 100
    (v1-11) but no `users` content; whether the API reports the creator as an entry of `users`
    is spec-silent ("default-creator-entry"). With DECISIONS the reference adopts roomproto's
    documented reading (PowerLevels.Users: "room creators of v12 are not in it", so those of
    v1-11 are; decisions.md does not record it)."""
    pl = PL(v, False)
    pl.creators = list(creators or [])
    if vnum(v) <= 11 and pl.creators:
        for c in pl.creators:
            pl.usertags[c] = {"default-creator-entry"}
            if DECISIONS:
                pl.users[c] = 100
    return pl


class View:
    """The getters of a PowerLevels, as the spec defines the levels, plus the tags of each."""

    def __init__(self, pl):
        self.pl = pl

    def is_creator(self, u):
        if MUTATE == "v11-creators-infinite":
            return vnum(self.pl.v) >= 11 and u in self.pl.creators
        return vnum(self.pl.v) >= 12 and u in self.pl.creators

    def user_level(self, u, tags):
        pl = self.pl
        if self.is_creator(u):
            if u in pl.users:
                tags.add("v12-creator-in-users")
            return INF
        if not pl.exists:
            # m.room.power_levels.yaml: no PL event: the creator 100 (v1-11), others 0
            if vnum(pl.v) <= 11 and u in pl.creators:
                return 100
            return 0
        if "*" in pl.usertags:
            tags |= pl.usertags["*"]
        if u in pl.users:
            tags |= pl.usertags.get(u, set())
            return pl.users[u]
        tags |= pl.usertags.get(u, set())
        tags |= pl.namedtags.get("users_default", set())
        return pl.named["users_default"]

    def named(self, name, tags):
        tags |= self.pl.namedtags.get(name, set())
        return self.pl.named[name]

    def event_level(self, t, is_state, tags):
        pl = self.pl
        if "*" in pl.eventtags:
            tags |= pl.eventtags["*"]
        if t in pl.events:
            tags |= pl.eventtags.get(t, set())
            return pl.events[t]
        tags |= pl.eventtags.get(t, set())
        return self.named("state_default" if is_state else "events_default", tags)

    def notif_level(self, k, tags):
        pl = self.pl
        if "*" in pl.notiftags:
            tags |= pl.notiftags["*"]
        if k in pl.notifs:
            tags |= pl.notiftags.get(k, set())
            return pl.notifs[k]
        tags |= pl.notiftags.get(k, set())
        if k in NOTIF_DEFAULT:
            return NOTIF_DEFAULT[k]
        # the spec gives a default for `room` only
        tags.add("notif-other-default")
        return 50


def cmp(a, b):
    return (a > b) - (a < b)


def probe_pl(view, probe, values, amb, prefix=""):
    def put(key, val, tags):
        values[prefix + key] = val
        if tags:
            amb[prefix + key] = sorted(tags)

    pl = view.pl
    put("Exists", pl.exists, set())
    for name, getter in (("users_default", "UsersDefault"), ("events_default", "EventsDefault"),
                         ("state_default", "StateDefault"), ("ban", "BanLevel"), ("kick", "KickLevel"),
                         ("invite", "InviteLevel"), ("redact", "RedactLevel")):
        tags = set()
        put(getter, sat(view.named(name, tags)), tags)
    for u in probe.get("users", []):
        tags = set()
        put("UserLevel(%s)" % u, sat(view.user_level(u, tags)), tags)
        tags = set()
        if "*" in pl.usertags:
            tags |= pl.usertags["*"]
        tags |= pl.usertags.get(u, set())
        if view.is_creator(u) and u in pl.users:
            tags.add("v12-creator-in-users")
        put("UserLevelSet(%s)" % u, [sat(pl.users[u]), True] if u in pl.users else [0, False], tags)
        put("IsCreator(%s)" % u, view.is_creator(u), set())
    tags = set()
    if "*" in pl.usertags:
        tags |= pl.usertags["*"]
    for u in set(pl.users) | set(k for k in pl.usertags if k != "*"):
        tags |= pl.usertags.get(u, set())
        if view.is_creator(u) and u in pl.users:
            tags.add("v12-creator-in-users")
    put("Users", {u: sat(x) for u, x in pl.users.items()}, tags)
    for t, st in probe.get("events", []):
        tags = set()
        put("EventLevel(%s,%s)" % (t, "state" if st else "msg"), sat(view.event_level(t, st, tags)), tags)
    for k in probe.get("notifs", []):
        tags = set()
        put("NotificationLevel(%s)" % k, sat(view.notif_level(k, tags)), tags)
    for a, b in probe.get("pairs", []):
        tags = set()
        put("CompareUsers(%s,%s)" % (a, b), cmp(view.user_level(a, tags), view.user_level(b, tags)), tags)
    for u in probe.get("users", [])[:3]:
        for name in NAMED + ["bogus"]:
            tags = set()
            if name in NAMED:
                r = [cmp(view.user_level(u, tags), view.named(name, tags)), True]
            else:
                r = [0, False]
            put("CompareUserTo(%s,%s)" % (u, name), r, tags)


def loads(raw):
    return json.loads(raw, parse_float=Decimal)


def op_pl(req):
    v = req["v"]
    try:
        content = loads(req["content"])
    except (ValueError, InvalidOperation):
        return {"ok": False, "values": {}, "amb": {}, "tags": ["not-json"]}
    try:
        pl = parse_pl(v, content, lenient=False)
    except Bad as e:
        return {"ok": False, "values": {}, "amb": {}, "tags": [], "why": str(e)}
    values, amb = {}, {}
    probe_pl(View(pl), req["probe"], values, amb)
    return {"ok": True, "values": values, "amb": amb, "tags": sorted(pl.globaltags)}


def op_default(req):
    pl = default_pl(req["v"], req.get("creators"))
    values, amb = {}, {}
    probe_pl(View(pl), req["probe"], values, amb)
    return {"ok": True, "values": values, "amb": amb, "tags": []}


# ---------------------------------------------------------------- state

def room_of_create(v, ev, raw):
    if vnum(v) >= 12:
        return None  # the room ID is derived from the create event's ID: the harness passes it
    return ev.get("room_id")


class St:
    def __init__(self, v):
        self.v = v
        self.ev = {}  # (type, sk) -> (event dict, id)

    def creators(self, tags):
        c = self.ev.get(("m.room.create", ""))
        if c is None:
            return None
        e = c[0]
        n = vnum(self.v)
        content = e.get("content") if isinstance(e.get("content"), dict) else {}
        if n <= 10:
            cr = content.get("creator")
            if not isinstance(cr, str):
                tags.add("create-no-creator")
                return []
            return [cr]
        out = [e.get("sender")]
        if n >= 12 and "additional_creators" in content:
            ac = content["additional_creators"]
            if not isinstance(ac, list):
                tags.add("v12-bad-additional")
            else:
                for u in ac:
                    t = set()
                    if authref.user_id_valid(u, t):
                        if u in out:
                            tags.add("creators-dup")
                        else:
                            out.append(u)
                    else:
                        tags.add("v12-bad-additional")
        return out

    def membership(self, u, tags):
        m = self.ev.get(("m.room.member", u))
        if m is None:
            return ""
        c = m[0].get("content")
        mem = c.get("membership") if isinstance(c, dict) else None
        if not isinstance(mem, str):
            tags.add("malformed-membership")
            return ""
        return mem

    def pl(self, tags):
        p = self.ev.get(("m.room.power_levels", ""))
        ctags = set()
        creators = self.creators(ctags) or []
        if p is None:
            pl = default_pl(self.v, creators)
            if ctags:
                pl.globaltags |= ctags
            return pl
        content = p[0].get("content")
        try:
            pl = parse_pl(self.v, content, lenient=False)
        except Bad:
            pl = parse_pl(self.v, content, lenient=True)
            # the whole event is one that rule 9/10 would have rejected
            for d in (pl.namedtags,):
                for k in NAMED:
                    d.setdefault(k, set()).add("state-lenient")
            pl.usertags.setdefault("*", set()).add("state-lenient")
            pl.eventtags.setdefault("*", set()).add("state-lenient")
            pl.notiftags.setdefault("*", set()).add("state-lenient")
        pl.creators = creators
        return pl

    def join_rules(self, tags):
        j = self.ev.get(("m.room.join_rules", ""))
        if j is None:
            tags.add("no-join-rules")
            return parse_join_rules_obj(None, tags)
        return parse_join_rules_obj(j[0].get("content"), tags)


def parse_join_rules_obj(content, tags):
    """m.room.join_rules.yaml: join_rule (required string), allow (array of objects with a
    `type` and, for m.room_membership, a `room_id`)."""
    if content is None:
        return {"rule": "invite" if DECISIONS else "(no join rules)", "allow": []}
    if not isinstance(content, dict):
        tags.add("join-rules-not-object")
        return {"rule": "", "allow": []}
    r = content.get("join_rule", MISSING)
    if r is MISSING:
        tags.add("join-rule-missing")
        r = "invite" if DECISIONS else "(missing)"
    elif not isinstance(r, str):
        tags.add("join-rule-not-string")
        r = ""
    allow = []
    a = content.get("allow")
    if a is not None and not isinstance(a, list):
        tags.add("allow-not-array")
    elif isinstance(a, list):
        for c in a:
            if not isinstance(c, dict):
                tags.add("allow-improper")
                continue
            t = c.get("type")
            rid = c.get("room_id")
            if not isinstance(t, str) or ("room_id" in c and not isinstance(rid, str)):
                tags.add("allow-improper")
            allow.append([t if isinstance(t, str) else "", rid if isinstance(rid, str) else ""])
    return {"rule": r, "allow": allow}


def selection(v, ev):
    """server-server-api "Auth events selection": the (type, state_key) pairs, in its order."""
    n = vnum(v)
    if ev.get("type") == "m.room.create":
        return []
    keys = []
    if n <= 11:
        keys.append(("m.room.create", ""))
    keys.append(("m.room.power_levels", ""))
    keys.append(("m.room.member", ev.get("sender")))
    if ev.get("type") == "m.room.member":
        sk = ev.get("state_key")
        content = ev.get("content") if isinstance(ev.get("content"), dict) else {}
        mem = content.get("membership")
        if isinstance(sk, str):
            keys.append(("m.room.member", sk))
        if mem in (("join", "invite") if MUTATE == "knock-no-join-rules" else ("join", "invite", "knock")):
            keys.append(("m.room.join_rules", ""))
        if mem == "invite" and "third_party_invite" in content:
            tpi = content["third_party_invite"]
            signed = tpi.get("signed") if isinstance(tpi, dict) else None
            tok = signed.get("token") if isinstance(signed, dict) else None
            if isinstance(tok, str):
                keys.append(("m.room.third_party_invite", tok))
        if mem == "join" and n >= 8 and "join_authorised_via_users_server" in content:
            a = content["join_authorised_via_users_server"]
            if isinstance(a, str):
                keys.append(("m.room.member", a))
    out = []
    for k in keys:
        if k not in out:
            out.append(k)
    return out


def foreign(v, e, i, room):
    """Whether e belongs to another room than room (its room_id; from v12 a create event's room
    is its own ID with the ! sigil)."""
    if vnum(v) >= 12 and e.get("type") == "m.room.create" and e.get("state_key") == "":
        return ("!" + i[1:]) != room
    return e.get("room_id", room) != room


def op_state_one_room(req, v, st, init, ids):
    """op_state under the decision that a State is of one room."""
    n = vnum(v)
    state_room = None
    ok = True
    seen = set()
    for e, i in zip(init, ids):
        sk = e.get("state_key")
        if not isinstance(sk, str):
            ok = False
            continue
        r = room_of(v, e, i)
        if state_room is None:
            state_room = r
        elif r != state_room:
            ok = False
        k = (e.get("type"), sk)
        if k in seen:
            ok = False
        seen.add(k)
        st.ev[k] = (e, i)
    values, amb = {"NewState": ok}, {}
    if not ok or not req["rp_init"]:
        return {"ok": ok, "values": values, "amb": amb, "tags": []}
    for idx, (raw, i) in enumerate(zip(req["apply"], req["apply_ids"])):
        e = loads(raw)
        key = "Apply#%d" % idx
        if not isinstance(e.get("state_key"), str):
            values[key] = False
            continue
        r = room_of(v, e, i)
        if state_room is None:
            state_room = r
        elif r != state_room:
            values[key] = False
            continue
        values[key] = True
        st.ev[(e.get("type"), e.get("state_key"))] = (e, i)
    return probe_state(req, v, n, st, values, amb, set(), ok, state_room)


def room_of(v, e, i):
    """The room of a state event: its room_id, or from v12 a create event's own ID with the !
    sigil."""
    if vnum(v) >= 12 and e.get("type") == "m.room.create" and e.get("state_key") == "":
        return "!" + i[1:]
    return e.get("room_id")


def op_state(req):
    v = req["v"]
    n = vnum(v)
    tags_global = set()
    st = St(v)
    room = req.get("room")  # the room ID of the generated room
    init = [loads(r) for r in req["init"]]
    ids = req["init_ids"]
    if DECISIONS:
        # docs/decisions.md authrules "A State is of one room": the first state event sets the
        # room; NewState and Apply refuse an event of another.
        return op_state_one_room(req, v, st, init, ids)
    ok = True
    amb_ok = False
    seen = set()
    for e, i in zip(init, ids):
        sk = e.get("state_key")
        if not isinstance(sk, str):
            ok = False  # not a state event
            continue
        k = (e.get("type"), sk)
        if k in seen:
            ok = False  # NewState: at most one per (type, state_key)
        seen.add(k)
        if foreign(v, e, i, room):
            amb_ok = True
        st.ev[k] = (e, i)
    init_ok = ok
    if ok and amb_ok:
        init_ok = None
        tags_global.add("other-room")
        if not req["rp_init"]:
            ok = False
    values, amb = {}, {}
    values["NewState"] = init_ok if init_ok is not None else req["rp_init"]
    if init_ok is None:
        amb["NewState"] = ["other-room"]
    if not ok or not req["rp_init"]:
        return {"ok": init_ok, "values": values, "amb": amb, "tags": sorted(tags_global)}
    for idx, (raw, i, rp) in enumerate(zip(req["apply"], req["apply_ids"], req["rp_apply"])):
        e = loads(raw)
        sk = e.get("state_key")
        key = "Apply#%d" % idx
        if not isinstance(sk, str):
            values[key] = False
            continue
        if foreign(v, e, i, room):
            amb[key] = ["other-room"]
            values[key] = rp
            if not rp:
                continue
        else:
            values[key] = True
        st.ev[(e.get("type"), sk)] = (e, i)
    return probe_state(req, v, n, st, values, amb, tags_global, init_ok)


def go_quote(s):
    """Go's strconv.Quote of s, for the strings the harness draws (printable text): quotes, with
    the quote and the backslash escaped, and control characters in Go's forms."""
    short = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    out = []
    for c in s:
        if c in ('"', "\\"):
            out.append("\\" + c)
        elif c in short:
            out.append(short[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append("\\x%02x" % ord(c))
        elif not c.isprintable() and ord(c) > 0x7F:
            out.append("\\u%04x" % ord(c) if ord(c) <= 0xFFFF else "\\U%08x" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def probe_state(req, v, n, st, values, amb, tags_global, init_ok, state_room=None):
    """The accessors of a state st built by NewState and Apply. state_room is the room of the
    state's events when the decision "a State is of one room" applies (None otherwise)."""
    probe = req["probe"]
    t = set()
    values["Len"] = len(st.ev)
    values["Events"] = [[k[0], k[1], st.ev[k][1]] for k in sorted(st.ev, key=lambda k: (k[0].encode(), k[1].encode()))]
    for typ, sk in probe.get("get", []):
        g = st.ev.get((typ, sk))
        values["Get(%s,%s)" % (typ, sk)] = g[1] if g else None
    for u in probe.get("users", []):
        t = set()
        values["Membership(%s)" % u] = st.membership(u, t)
        if t:
            amb["Membership(%s)" % u] = sorted(t)
    mems = {}
    mt = set()
    for (typ, sk) in st.ev:
        if typ == "m.room.member":
            m = st.membership(sk, mt)
            if m:
                mems.setdefault(m, []).append(sk)
    for m in ["join", "invite", "leave", "ban", "knock", "bogus"]:
        lst = sorted(mems.get(m, []), key=lambda s: s.encode("utf-8", "surrogatepass"))
        values["Members(%s)" % m] = lst
        values["AllMembers(%s)" % m] = lst  # the harness sorts the iterator's output
        if mt:
            amb["Members(%s)" % m] = sorted(mt)
            amb["AllMembers(%s)" % m] = sorted(mt)
    ct = set()
    values["Creators"] = st.creators(ct)
    if ct:
        amb["Creators"] = sorted(ct)
    jt = set()
    values["JoinRules"] = st.join_rules(jt)
    if jt:
        amb["JoinRules"] = sorted(jt)
    pt = set()
    pl = st.pl(pt)
    view = View(pl)
    pv, pa = {}, {}
    probe_pl(view, probe, pv, pa, prefix="PL.")
    for k in pv:
        values[k] = pv[k]
        tags = set(pa.get(k, [])) | pl.globaltags | ct
        if tags:
            amb[k] = sorted(tags)
    # auth events selection
    for ci, craw in enumerate(req.get("cands", [])):
        ce = loads(craw)
        cr = ce.get("room_id")
        if state_room is not None and isinstance(cr, str) and cr != "" and ce.get("type") != "m.room.create" and cr != state_room:
            # docs/decisions.md authrules "A State is of one room": State.AuthEvents refuses an
            # event of another room than the state's events (a fatal ErrMalformed), as
            # State.Check does; an event being built may leave room_id empty.
            values["AuthEvents#%d" % ci] = "error: authrules: the event is of room %s, not of the state's room %s" % (go_quote(cr), go_quote(state_room))
            continue
        sel = selection(v, ce)
        got = [st.ev[k][1] for k in sel if k in st.ev]
        values["AuthEvents#%d" % ci] = got
    # restricted-join authorisers: joined members able to invite (rule 4.3.5.2)
    able = {}
    at = set(ct) | pl.globaltags
    for (typ, sk) in st.ev:
        if typ != "m.room.member" or st.membership(sk, at) != "join":
            continue
        tl = set()
        lvl = view.user_level(sk, tl)
        inv = view.named("invite", tl)
        at |= tl
        if MUTATE == "authoriser-saturated":
            lvl, inv = sat(lvl), sat(inv)
        if lvl >= inv:
            if not authref.user_id_valid(sk, set()):
                # not a user: rule 4.2.1 rejects a join naming it (decisions membership 7)
                at.add("member-not-user-id")
                continue
            dom = authref.domain_of(sk)
            able.setdefault(dom, []).append((lvl, sk))
    for srv in req.get("servers", []):
        order_key = (lambda p: (-sat(p[0]), p[1].encode("utf-8", "surrogatepass"))) if MUTATE == "order-saturated" else \
            (lambda p: (-p[0], p[1].encode("utf-8", "surrogatepass")))
        lst = sorted(able.get(srv, []), key=order_key)
        values["Authorisers(%s)" % srv] = [u for _, u in lst]
        if at:
            amb["Authorisers(%s)" % srv] = sorted(at)
    order = sorted(able, key=lambda s: (-max(l for l, _ in able[s]), s.encode()))
    values["AuthorisedServers"] = order
    if at:
        amb["AuthorisedServers"] = sorted(at)
    return {"ok": init_ok, "values": values, "amb": amb, "tags": sorted(tags_global)}


def op_parse_join_rules(req):
    try:
        c = loads(req["content"])
    except ValueError:
        return {"ok": True, "values": {"ParseJoinRules": {"rule": "", "allow": []}}, "amb": {"ParseJoinRules": ["not-json"]}, "tags": []}
    t = set()
    if not isinstance(c, dict):
        t.add("join-rules-not-object")
        r = {"rule": "", "allow": []}
    else:
        r = parse_join_rules_obj(c, t)
    return {"ok": True, "values": {"ParseJoinRules": r}, "amb": {"ParseJoinRules": sorted(t)} if t else {}, "tags": []}


OPS = {"pl": op_pl, "default": op_default, "state": op_state, "joinrules": op_parse_join_rules}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            out = OPS[req["op"]](req)
        except Exception as e:  # a harness problem, reported as such
            import traceback
            out = {"error": "%s: %s %s" % (type(e).__name__, e, traceback.format_exc()[-600:])}
        sys.stdout.write(json.dumps(out, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

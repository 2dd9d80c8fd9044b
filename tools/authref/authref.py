#!/usr/bin/env python3
"""Independent reference of the Matrix authorization rules (room versions 1-12).

Written from the spec text only (/work/shared/spec: rooms/fragments/v1-auth-rules.md,
v3-auth-rules.md, rooms/v6.md, v7.md, fragments/v8-auth-rules.md, v10.md, v11.md, v12.md,
server-server-api.md "#### Definitions" and "##### Auth events selection",
fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md), stdlib only.

Protocol: one JSON object per line on stdin:
  {"v": "10", "ev": {...}, "ev_id": "$...", "auth": [{...}], "auth_ids": [...],
   "create": {...} | null, "create_id": "$..." | null}
one JSON object per line on stdout:
  {"allow": bool, "rule": "4.3.7" | null, "why": "...", "amb": ["flag", ...]}

"amb" lists the spec-silent corners the verdict went through (readings of this
reference that another faithful implementation could make differently); a divergence
whose case carries such a flag is checked against docs/decisions.md before reporting.

Signatures are not checked, except the third-party invite's signed block (rule
4.4.1.7, ed25519 by the `cryptography` package, i.e. OpenSSL): rule 4.2.1 ("validly signed by the homeserver of
the user ID denoted by the key") is taken as satisfied when a signature of that server
is present.
"""
import base64
import json
import math
import re
import sys
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def ed25519_verify(public, msg, signature):
    """Whether signature is a valid ed25519 signature of msg by the 32-byte key public."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, msg)
    except (InvalidSignature, ValueError):
        return False
    return True

KNOWN_VERSIONS = {str(i) for i in range(1, 13)}

# AUTHREF_DECISIONS=1 adopts the readings of roomproto's docs/decisions.md (authrules) where the
# spec is silent; the default is this reference's own reading.  Every place that differs
# also adds an "amb" flag, so a divergence found without it can be traced to the entry.
DECISIONS = os.environ.get("AUTHREF_DECISIONS") == "1"


class Verdict(Exception):
    def __init__(self, allow, rule, why):
        self.allow, self.rule, self.why = allow, rule, why


def allow(rule, why=""):
    raise Verdict(True, rule, why)


def reject(rule, why=""):
    raise Verdict(False, rule, why)


class Invalid(Exception):
    pass


# ---------------------------------------------------------------- identifiers

SERVER_NAME = re.compile(
    r"^(?:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.\-]{1,255})(?::[0-9]{1,5})?$")
STRICT_LOCAL = re.compile(r"^[0-9a-z\-.=_/+]+$")


def domain_of(ident):
    """The domain of a user, room or v1-2 event ID: everything after the first colon."""
    if not isinstance(ident, str) or ":" not in ident:
        return None
    return ident.split(":", 1)[1]


def user_id_valid(s, amb):
    """appendices.md User Identifiers; historical localparts must be accepted.

    Flags "userid-historical" when only the historical grammar accepts s."""
    if not isinstance(s, str) or not s.startswith("@") or ":" not in s:
        return False
    if len(s.encode("utf-8", "surrogatepass")) > 255:
        return False
    local, server = s[1:].split(":", 1)
    if not SERVER_NAME.match(server):
        return False
    if "\x00" in local:
        return False
    if not STRICT_LOCAL.match(local):
        amb.add("userid-historical")
    return True


# ---------------------------------------------------------------- room versions

class V:
    def __init__(self, vid):
        self.id = vid
        self.n = int(vid)
        n = self.n
        self.aliases_rule = n <= 5
        self.redaction_rule = n <= 2
        self.notifications = n >= 6
        self.knock = n >= 7
        self.restricted = n >= 8
        self.knock_restricted = n >= 10
        self.int_only = n >= 10
        self.floats = n <= 5
        self.strings = n <= 9
        self.creator_field = n <= 10
        self.v12 = n >= 12
        # top-level rule numbers
        if n <= 5:
            t = dict(create=1, auth=2, fed=3, aliases=4, member=5, joined=6, tpi=7, req=8, at=9, pl=10,
                     redact=11, allow=12 if n <= 2 else 11)
        elif n <= 11:
            t = dict(create=1, auth=2, fed=3, member=4, joined=5, tpi=6, req=7, at=8, pl=9, allow=10)
        else:
            t = dict(create=1, roomid=2, auth=3, fed=4, member=5, joined=6, tpi=7, req=8, at=9, pl=10, allow=11)
        self.t = t
        # member sub-rules
        if n <= 6:
            m = dict(nokey=1, join=2, invite=3, leave=4, ban=5, unknown=6)
        elif n == 7:
            m = dict(nokey=1, join=2, invite=3, leave=4, ban=5, knock=6, unknown=7)
        else:
            m = dict(nokey=1, authvia=2, join=3, invite=4, leave=5, ban=6, knock=7, unknown=8)
        self.m = m
        # power levels sub-rules
        if n <= 9:
            pl = dict(users=1, noprev=2, named=3, ev_cur=4, ev_new=5, u_cur=6, u_new=7, allow=8)
        elif n <= 11:
            pl = dict(named_int=1, ev_int=2, users=3, noprev=4, named=5, ev_cur=6, ev_new=7, u_cur=8, u_new=9,
                      allow=10)
        else:
            # The source numbers "Otherwise, allow" 10 again; CommonMark renders it 11 (as 3.4 above).
            pl = dict(named_int=1, ev_int=2, users=3, creators=4, noprev=5, named=6, ev_cur=7, ev_new=8, u_cur=9,
                      u_new=10, allow=11)
        self.pl = pl

    def r(self, top, *sub):
        return ".".join([str(self.t[top])] + [str(s) for s in sub])

    def rm(self, msub, *sub):
        return self.r("member", self.m[msub], *sub)

    def rp(self, psub, *sub):
        return self.r("pl", self.pl[psub], *sub)


# ---------------------------------------------------------------- power level values

STRINGY = re.compile(r"^[ \t\n\r\f\v]*[+-]?[0-9]+[ \t\n\r\f\v]*$")


def parse_level(v, x, amb):
    """A power level value as an integer, or Invalid.

    v1-9 accept strings (fragments/v1-stringy-power-levels.md), v1-5 floats (truncated,
    v1-floaty-power-levels.md); v10+ integers only."""
    if isinstance(x, bool) or x is None:
        raise Invalid(repr(x))
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        if not v.floats:
            raise Invalid("float")
        if math.isinf(x) or math.isnan(x):
            raise Invalid("beyond double")
        return int(x)  # truncation towards zero
    if isinstance(x, str):
        if not v.strings:
            raise Invalid("string")
        if STRINGY.match(x):
            return int(x.strip(" \t\n\r\f\v"))
        if re.match(r"^\s*[+-]?[0-9]+\s*$", x) or (DECISIONS and re.match(r"^[+-]?[0-9]+$", x.strip())):
            amb.add("stringy-unicode-whitespace")
            if DECISIONS or True:
                return int(x.strip())
        raise Invalid("bad string " + repr(x))
    raise Invalid(type(x).__name__)


class PowerLevels:
    """The current power levels of the room state (server-server-api Definitions,
    m.room.power_levels schema defaults)."""

    DEFAULTS = dict(ban=50, kick=50, redact=50, invite=0, events_default=0, state_default=50, users_default=0)

    def __init__(self, v, pl_event, creators, amb):
        self.v, self.amb = v, amb
        self.content = pl_event["content"] if pl_event is not None else None
        if self.content is not None and not isinstance(self.content, dict):
            amb.add("state-pl-content-not-object")
            self.content = {}
        self.creators = creators  # v12: infinite; v1-11: power 100 without power levels

    def level_of(self, key, raw, default):
        try:
            return parse_level(self.v, raw, self.amb)
        except Invalid:
            self.amb.add("state-pl-invalid-value")
            return default

    def named(self, name):
        d = self.DEFAULTS[name]
        if self.content is None or name not in self.content:
            return d
        return self.level_of(name, self.content[name], d)

    def user(self, uid):
        if self.v.v12 and uid in self.creators:
            return math.inf
        if self.content is None:
            if uid in self.creators:
                return 100
            return 0
        users = self.content.get("users")
        if users is not None and not isinstance(users, dict):
            self.amb.add("state-pl-users-not-object")
            users = None
        if users and uid in users:
            return self.level_of("users", users[uid], self.named("users_default"))
        return self.named("users_default")

    def required(self, etype, is_state):
        d = self.named("state_default") if is_state else self.named("events_default")
        if self.content is None:
            return d
        events = self.content.get("events")
        if events is not None and not isinstance(events, dict):
            self.amb.add("state-pl-events-not-object")
            events = None
        if events and etype in events:
            return self.level_of("events", events[etype], d)
        return d


# ---------------------------------------------------------------- helpers

def b64decode_unpadded(s, amb):
    """Unpadded base64 (appendices "Unpadded Base64"); correctly padded input is tolerated
    (flagged), the URL-safe alphabet too (flagged)."""
    if not isinstance(s, str):
        return None
    body = s.rstrip("=")
    npad = len(s) - len(body)
    if npad:
        amb.add("b64-padded")
        if len(s) % 4 != 0 or npad > 2:
            return None
    if len(body) % 4 == 1:
        return None
    pad = "=" * (-len(body) % 4)
    try:
        return base64.b64decode(body + pad, validate=True)
    except Exception:
        pass
    try:
        out = base64.b64decode(body.replace("-", "+").replace("_", "/") + pad, validate=True)
        amb.add("b64-urlsafe")
        return out
    except Exception:
        return None


def canonical(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def tpi_signature_matches(signed, tpi_content, amb):
    """Rule 4.4.1.7: any signature in signed matches any public key of the
    m.room.third_party_invite (public_key, public_keys[].public_key)."""
    keys = []
    if isinstance(tpi_content, dict):
        if "public_key" in tpi_content:
            keys.append(tpi_content["public_key"])
        pks = tpi_content.get("public_keys")
        if isinstance(pks, list):
            for k in pks:
                if isinstance(k, dict) and "public_key" in k:
                    keys.append(k["public_key"])
    keys = [b64decode_unpadded(k, amb) for k in keys]
    keys = [k for k in keys if k is not None and len(k) == 32]
    sigs = signed.get("signatures")
    if not isinstance(sigs, dict):
        return False
    if not all(isinstance(x, dict) and all(isinstance(y, str) for y in x.values()) for x in sigs.values()):
        amb.add("tpi-signatures-shape")
        if DECISIONS:
            return False
    body = {k: x for k, x in signed.items() if k not in ("signatures", "unsigned")}
    msg = canonical(body)
    for server, byid in sigs.items():
        if not isinstance(byid, dict):
            continue
        for kid, sig in byid.items():
            if not isinstance(kid, str) or not kid.startswith("ed25519:"):
                continue
            raw = b64decode_unpadded(sig, amb)
            if raw is None or len(raw) != 64:
                continue
            for k in keys:
                if ed25519_verify(k, msg, raw):
                    return True
    return False


def prev_ids(v, ev):
    prev = ev.get("prev_events")
    if prev is None:
        return []
    out = []
    for p in prev:
        if v.n <= 2 and isinstance(p, list):
            out.append(p[0] if p else None)
        else:
            out.append(p)
    return out


def has_signature_from(ev, server):
    sigs = ev.get("signatures")
    return isinstance(sigs, dict) and isinstance(sigs.get(server), dict) and len(sigs[server]) > 0


# ---------------------------------------------------------------- auth events selection

def selected_keys(v, ev, amb):
    """server-server-api "Auth events selection"."""
    keys = set()
    if not v.v12:
        keys.add(("m.room.create", ""))
    keys.add(("m.room.power_levels", ""))
    keys.add(("m.room.member", ev.get("sender")))
    if ev.get("type") == "m.room.member":
        content = ev.get("content") if isinstance(ev.get("content"), dict) else {}
        if "state_key" in ev:
            keys.add(("m.room.member", ev.get("state_key")))
        ms = content.get("membership")
        if ms in ("join", "invite", "knock"):
            keys.add(("m.room.join_rules", ""))
        if ms == "invite" and "third_party_invite" in content:
            tpi = content["third_party_invite"]
            signed = tpi.get("signed") if isinstance(tpi, dict) else None
            tok = signed.get("token") if isinstance(signed, dict) else None
            if isinstance(tok, str):
                keys.add(("m.room.third_party_invite", tok))
            elif tok is not None:
                amb.add("selection-token-not-string")
        if ms == "join" and v.restricted and "join_authorised_via_users_server" in content:
            a = content["join_authorised_via_users_server"]
            if isinstance(a, str):
                keys.add(("m.room.member", a))
            else:
                amb.add("selection-authvia-not-string")
    return keys


# ---------------------------------------------------------------- the rules

def check(req):
    v = V(req["v"])
    if req.get("op") == "select":
        return {"keys": sorted([list(k) for k in selected_keys(v, req["ev"], set())], key=lambda k: (str(k[0]), str(k[1])))}
    ev = req["ev"]
    amb = set()
    try:
        _check(v, ev, req, amb)
        raise Verdict(True, None, "fell through")  # not reached
    except Verdict as vd:
        return {"allow": vd.allow, "rule": vd.rule, "why": vd.why, "amb": sorted(amb)}


def _check(v, ev, req, amb):
    etype = ev.get("type")
    sender = ev.get("sender")
    content = ev.get("content")
    if not isinstance(content, dict):
        amb.add("content-not-object")
        content = {}
    is_state = "state_key" in ev
    state_key = ev.get("state_key")

    # Rule 1: m.room.create
    if etype == "m.room.create":
        if prev_ids(v, ev):
            reject(v.r("create", 1), "create has prev_events")
        if v.v12:
            if "room_id" in ev:
                reject(v.r("create", 2), "v12 create has room_id")
        else:
            if domain_of(ev.get("room_id")) != domain_of(sender):
                reject(v.r("create", 2), "room_id domain != sender domain")
        if "room_version" in content:
            rv = content["room_version"]
            if not isinstance(rv, str):
                amb.add("create-room_version-not-string")
            if rv not in KNOWN_VERSIONS:
                reject(v.r("create", 3), "unknown room_version")
        if v.v12:
            if "additional_creators" in content:
                ac = content["additional_creators"]
                if not isinstance(ac, list) or not all(user_id_valid(x, amb) for x in ac):
                    reject(v.r("create", 4), "bad additional_creators")
            allow(v.r("create", 5))
        if v.creator_field:
            if "creator" not in content:
                reject(v.r("create", 4), "no creator")
            allow(v.r("create", 5))
        allow(v.r("create", 4))

    auth = req["auth"]
    auth_ids = req["auth_ids"]

    # v12 rule 2: room_id names an accepted create event
    create = None
    create_id = None
    if v.v12:
        create = req.get("create")
        create_id = req.get("create_id")
        if create is None or create_id is None or ev.get("room_id") != "!" + create_id[1:]:
            reject(v.r("roomid"), "room_id is not the create event's")
        if create_id in req.get("rejected_ids", []):
            reject(v.r("roomid"), "the create event was rejected")

    # Rule 2 (v12: 3): auth events
    seen = set()
    want = selected_keys(v, ev, amb)
    no_rule2 = bool(req.get("no_rule2"))  # checks 5/6 (state before / current state) skip rule 2
    for a in ([] if no_rule2 else auth):
        if "state_key" not in a:
            reject(v.r("auth", 2), "non-state auth event")
        k = (a.get("type"), a.get("state_key"))
        if k in seen:
            reject(v.r("auth", 1), "duplicate auth event %r" % (k,))
        seen.add(k)
    for a in ([] if no_rule2 else auth):
        k = (a.get("type"), a.get("state_key"))
        if k not in want:
            reject(v.r("auth", 2), "auth event not selected %r" % (k,))
    # 2.3: auth events that were themselves rejected
    if not no_rule2:
        for aid in auth_ids:
            if aid in req.get("rejected_ids", []):
                reject(v.r("auth", 3), "rejected auth event")
    state = {}
    for a, aid in zip(auth, auth_ids):
        state[(a.get("type"), a.get("state_key"))] = (a, aid)
    if not v.v12:
        if ("m.room.create", "") not in state:
            reject(v.r("auth", 4), "no create")
        create, create_id = state[("m.room.create", "")]
    for a in ([] if no_rule2 else auth):
        if a.get("room_id") != ev.get("room_id"):
            # v12's source numbers this 3.5 but the rendered list (CommonMark) shows 3.4
            reject(v.r("auth", 4 if v.v12 else 5), "auth event of another room")

    cc = create.get("content") if isinstance(create.get("content"), dict) else {}

    # creators
    if v.creator_field:
        creators = {cc.get("creator")} if isinstance(cc.get("creator"), str) else set()
    else:
        creators = {create.get("sender")}
        if v.v12 and isinstance(cc.get("additional_creators"), list):
            creators |= {x for x in cc["additional_creators"] if isinstance(x, str)}

    # Rule 3: m.federate
    fed = cc.get("m.federate", True)
    if not isinstance(fed, bool):
        amb.add("federate-not-bool")
    if fed is False and domain_of(sender) != domain_of(create.get("sender")):
        reject(v.r("fed"), "m.federate false")

    def membership(uid):
        e = state.get(("m.room.member", uid))
        if e is None:
            return None
        c = e[0].get("content")
        if not isinstance(c, dict):
            return None
        return c.get("membership")

    pl_pair = state.get(("m.room.power_levels", ""))
    pls = PowerLevels(v, pl_pair[0] if pl_pair else None, creators, amb)
    jr_pair = state.get(("m.room.join_rules", ""))
    join_rule = None
    if jr_pair is not None:
        jc = jr_pair[0].get("content")
        join_rule = jc.get("join_rule") if isinstance(jc, dict) else None
        if isinstance(jc, dict) and "join_rule" not in jc:
            jr_pair = None
    if jr_pair is None:
        # spec gives no default join rule; decisions.md: "invite"
        if etype == "m.room.member" and content.get("membership") in ("join", "knock"):
            amb.add("join-rules-absent")
        if DECISIONS:
            join_rule = "invite"

    # v1-5 rule 4: aliases
    if v.aliases_rule and etype == "m.room.aliases":
        if not is_state:
            reject(v.r("aliases", 1), "aliases without state_key")
        if domain_of(sender) != state_key:
            reject(v.r("aliases", 2), "aliases state_key != sender domain")
        allow(v.r("aliases", 3))

    # member
    if etype == "m.room.member":
        member_rules(v, ev, content, sender, state_key, is_state, membership, pls, join_rule, state, create_id,
                     creators, create, amb)

    # joined
    if membership(sender) != "join":
        reject(v.r("joined"), "sender not joined")

    # third party invite
    if etype == "m.room.third_party_invite":
        if pls.user(sender) >= pls.named("invite"):
            allow(v.r("tpi", 1))
        reject(v.r("tpi", 1), "below invite level")

    # required power level
    if pls.required(etype, is_state) > pls.user(sender):
        reject(v.r("req"), "below required level")

    # @ state key
    if is_state and isinstance(state_key, str) and state_key.startswith("@") and state_key != sender:
        reject(v.r("at"), "@ state_key not the sender")

    if etype == "m.room.power_levels":
        power_levels_rules(v, content, sender, pl_pair, pls, creators, amb)

    if v.redaction_rule and etype == "m.room.redaction":
        if pls.user(sender) >= pls.named("redact"):
            allow(v.r("redact", 1))
        redacts = ev.get("redacts")
        if not isinstance(redacts, str):
            amb.add("redaction-no-redacts")
        if domain_of(redacts) is not None and domain_of(redacts) == domain_of(ev.get("event_id")):
            allow(v.r("redact", 2))
        reject(v.r("redact", 3), "redaction: below redact level, other domain")

    allow(v.r("allow"))


def member_rules(v, ev, content, sender, state_key, is_state, membership, pls, join_rule, state, create_id, creators,
                 create, amb):
    if not is_state or "membership" not in content:
        reject(v.rm("nokey"), "no state_key or membership")
    ms = content["membership"]
    target = state_key

    if v.restricted and "join_authorised_via_users_server" in content:
        a = content["join_authorised_via_users_server"]
        dom = domain_of(a) if isinstance(a, str) else None
        if not isinstance(a, str) or not user_id_valid(a, amb):
            amb.add("authvia-not-user-id")
            if DECISIONS:
                reject(v.rm("authvia", 1), "authoriser not a user ID")
        if dom is None or not has_signature_from(ev, dom):
            reject(v.rm("authvia", 1), "no signature from the authoriser's server")

    if ms == "join":
        R = lambda i, *s: v.rm("join", i, *s)  # noqa: E731
        prevs = prev_ids(v, ev)
        if v.creator_field:
            creator = create.get("content", {}).get("creator") if isinstance(create.get("content"), dict) else None
        else:
            creator = create.get("sender")
        if len(prevs) == 1 and prevs[0] == create_id and state_key == creator:
            allow(R(1))
        if sender != state_key:
            reject(R(2), "join for someone else")
        cur = membership(sender)
        if cur == "ban":
            reject(R(3), "banned")
        if join_rule == "invite" or (v.knock and join_rule == "knock"):
            if cur in ("invite", "join"):
                allow(R(4))
            # "then allow if ..." -- otherwise continue to the next rules (which all
            # reject for this join rule)
        if v.restricted and (join_rule == "restricted" or (v.knock_restricted and join_rule == "knock_restricted")):
            if cur in ("join", "invite"):
                allow(R(5, 1))
            a = content.get("join_authorised_via_users_server")
            if not isinstance(a, str) or membership(a) != "join" or pls.user(a) < pls.named("invite"):
                reject(R(5, 2), "authoriser cannot invite or is not joined")
            allow(R(5, 3))
        pub = 6 if v.restricted else 5
        if join_rule == "public":
            allow(R(pub))
        reject(R(pub + 1), "join rule %r" % (join_rule,))

    if ms == "invite":
        R = lambda i, *s: v.rm("invite", i, *s)  # noqa: E731
        if "third_party_invite" in content:
            tpi = content["third_party_invite"]
            if not isinstance(tpi, dict):
                amb.add("tpi-not-object")
            if membership(target) == "ban":
                reject(R(1, 1), "3pid: target banned")
            if not isinstance(tpi, dict) or "signed" not in tpi:
                reject(R(1, 2), "3pid: no signed")
            signed = tpi["signed"]
            if not isinstance(signed, dict) or "mxid" not in signed or "token" not in signed:
                reject(R(1, 3), "3pid: no mxid/token")
            if signed["mxid"] != state_key:
                reject(R(1, 4), "3pid: mxid != state_key")
            tok = signed["token"]
            tev = state.get(("m.room.third_party_invite", tok)) if isinstance(tok, str) else None
            if tev is None:
                reject(R(1, 5), "3pid: no m.room.third_party_invite")
            if sender != tev[0].get("sender"):
                reject(R(1, 6), "3pid: sender != tpi sender")
            if tpi_signature_matches(signed, tev[0].get("content"), amb):
                allow(R(1, 7))
            reject(R(1, 8), "3pid: no signature matches")
        if membership(sender) != "join":
            reject(R(2), "inviter not joined")
        if membership(target) in ("join", "ban"):
            reject(R(3), "target joined or banned")
        if pls.user(sender) >= pls.named("invite"):
            allow(R(4))
        reject(R(5), "below invite level")

    if ms == "leave":
        R = lambda i: v.rm("leave", i)  # noqa: E731
        if sender == state_key:
            ok = ("invite", "join", "knock") if v.knock else ("invite", "join")
            if membership(sender) in ok:
                allow(R(1))
            reject(R(1), "leave from %r" % (membership(sender),))
        if membership(sender) != "join":
            reject(R(2), "kicker not joined")
        sp = pls.user(sender)
        if membership(target) == "ban" and sp < pls.named("ban"):
            reject(R(3), "unban below ban level")
        if sp >= pls.named("kick") and pls.user(target) < sp:
            allow(R(4))
        reject(R(5), "kick not allowed")

    if ms == "ban":
        R = lambda i: v.rm("ban", i)  # noqa: E731
        if membership(sender) != "join":
            reject(R(1), "banner not joined")
        sp = pls.user(sender)
        if sp >= pls.named("ban") and pls.user(target) < sp:
            allow(R(2))
        reject(R(3), "ban not allowed")

    if v.knock and ms == "knock":
        R = lambda i: v.rm("knock", i)  # noqa: E731
        ok = ("knock", "knock_restricted") if v.knock_restricted else ("knock",)
        if join_rule not in ok:
            reject(R(1), "knock: join rule %r" % (join_rule,))
        if sender != state_key:
            reject(R(2), "knock for someone else")
        if membership(sender) not in ("ban", "invite", "join"):
            allow(R(3))
        reject(R(4), "knock from %r" % (membership(sender),))

    reject(v.rm("unknown"), "unknown membership %r" % (ms,))


NAMED = ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]


def power_levels_rules(v, content, sender, pl_pair, pls, creators, amb):
    # v10+: 9.1 / 9.2 structural checks
    if v.int_only:
        for k in NAMED:
            if k in content:
                x = content[k]
                if isinstance(x, bool) or not isinstance(x, int):
                    reject(v.rp("named_int"), "%s not an integer" % k)
        for k in ("events", "notifications"):
            if k in content:
                x = content[k]
                if not isinstance(x, dict) or any(isinstance(y, bool) or not isinstance(y, int) for y in x.values()):
                    reject(v.rp("ev_int"), "%s not an object of integers" % k)
    # users
    users = content.get("users")
    if "users" not in content:
        amb.add("pl-users-absent")
    else:
        if not isinstance(users, dict):
            reject(v.rp("users"), "users not an object")
        for k, x in users.items():
            if not user_id_valid(k, amb):
                reject(v.rp("users"), "users key %r not a user ID" % k)
            try:
                parse_level(v, x, amb)
            except Invalid:
                reject(v.rp("users"), "users value %r not an integer" % (x,))
    def lv(x, where):
        try:
            return parse_level(v, x, amb)
        except Invalid:
            amb.add("pl-invalid-value-" + where)
            if DECISIONS and where == "new":
                reject(v.r("pl"), "invalid new value %r" % (x,))
            return None

    if not v.int_only:
        # decisions.md: an invalid named level or events/notifications value (notifications
        # from v6) rejects the new event under the power levels rule itself
        for k in NAMED:
            if k in content:
                lv(content[k], "new")
        for m in ["events"] + (["notifications"] if v.notifications else []):
            if m in content:
                if not isinstance(content[m], dict):
                    amb.add("pl-new-%s-not-object" % m)
                    if DECISIONS:
                        reject(v.r("pl"), "%s not an object" % m)
                    continue
                for x in content[m].values():
                    lv(x, "new")

    if v.v12:
        if isinstance(users, dict) and any(c in users for c in creators):
            reject(v.rp("creators"), "users names a creator")
    if pl_pair is None:
        allow(v.rp("noprev"))

    old = pl_pair[0].get("content")
    if not isinstance(old, dict):
        amb.add("state-pl-content-not-object")
        old = {}
    sp = pls.user(sender)

    # named levels
    for k in NAMED:
        o_in, n_in = k in old, k in content
        if not o_in and not n_in:
            continue
        ov = lv(old[k], "old") if o_in else None
        nv = lv(content[k], "new") if n_in else None
        if o_in and n_in:
            if ov == nv:
                if old[k] != content[k] or type(old[k]) is not type(content[k]):
                    amb.add("pl-named-same-value-other-form")
                continue
        else:
            amb.add("pl-named-added-or-removed")
        if ov is not None and ov > sp:
            reject(v.rp("named", 1), "%s current value above sender" % k)
        if nv is not None and nv > sp:
            reject(v.rp("named", 2), "%s new value above sender" % k)

    maps = ["events"] + (["notifications"] if v.notifications else [])
    pairs = []
    for m in maps:
        om, nm = old.get(m, {}), content.get(m, {})
        if not isinstance(om, dict):
            amb.add("pl-old-%s-not-object" % m)
            om = {}
        if not isinstance(nm, dict):
            amb.add("pl-new-%s-not-object" % m)
            nm = {}
        pairs.append((m, om, nm))
    # rule 9.4 (v8 numbering) for both maps, then 9.5
    for m, om, nm in pairs:
        for k in om:
            if k not in nm or changed(v, om[k], nm[k], amb):
                ov = lv(om[k], "old")
                if ov is not None and ov > sp:
                    reject(v.rp("ev_cur", 1), "%s[%s] current value above sender" % (m, k))
    for m, om, nm in pairs:
        for k in nm:
            if k not in om or changed(v, om[k], nm[k], amb):
                nv = lv(nm[k], "new")
                if nv is not None and nv > sp:
                    reject(v.rp("ev_new", 1), "%s[%s] new value above sender" % (m, k))

    ou = old.get("users", {})
    nu = content.get("users", {})
    if not isinstance(ou, dict):
        amb.add("pl-old-users-not-object")
        ou = {}
    for k in ou:
        if k == sender:
            continue
        if k not in nu or changed(v, ou[k], nu[k], amb):
            ov = lv(ou[k], "old")
            if ov is not None and ov >= sp:
                reject(v.rp("u_cur", 1), "users[%s] current value >= sender" % k)
    for k in nu:
        if k not in ou or changed(v, ou[k], nu[k], amb):
            nv = lv(nu[k], "new")
            if nv is not None and nv > sp:
                reject(v.rp("u_new", 1), "users[%s] new value above sender" % k)
    allow(v.rp("allow"))


def changed(v, a, b, amb):
    try:
        pa, pb = parse_level(v, a, amb), parse_level(v, b, amb)
    except Invalid:
        amb.add("pl-invalid-value-compare")
        return a != b or type(a) is not type(b)
    if pa == pb and (a != b or type(a) is not type(b)):
        amb.add("pl-same-value-other-form")
    return pa != pb


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = check(json.loads(line))
        except Exception as e:  # a harness problem, reported as such
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

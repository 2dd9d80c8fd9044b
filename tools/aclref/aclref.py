#!/usr/bin/env python3
"""aclref: an independent reference of room server access control lists (server ACLs).

Written from the spec text only:
  server-server-api.md   "Server Access Control Lists (ACLs)" (which requests are checked);
  client-server-api      module "Server Access Control Lists (ACLs) for rooms"
                         (content/client-server-api/modules/server_acls.md: no ports, no CIDR,
                         "when an m.room.server_acl event is present in the room state");
  m.room.server_acl.yaml the order of the checks, the defaults, `state_key` "A zero-length
                         string";
  appendices.md          "Server Name" (grammar, IPv4 range, IPv6 literals per RFC 3513 2.2,
                         case-sensitive), "Glob-style matching" (`*`, `?`).
The module and the schema are not in /work/shared/spec (the extract left them out); they were
read from matrix-org/matrix-spec (see README.md). Python 3 standard library only.

Protocol: one JSON object per line on stdin, field "op"; one JSON answer per line on stdout:
Strings P, N, H and contents travel as the hex of their bytes (in answers too).
  {"op":"match","pattern":P,"name":N}       -> {"match": bool, "amb": [...]}
  {"op":"host","name":N}                    -> {"host": str, "valid": bool, "amb": [...]}
  {"op":"ipl","host":H}                     -> {"ip": bool, "amb": [...]}
  {"op":"valid","name":N}                   -> {"valid": bool, "amb": [...]}
  {"op":"parse","content":JSONTEXT}         -> {"not_object": bool, "allow_ip_literals": bool,
                                                "allow": [...], "deny": [...], "amb": [...]}
  {"op":"allowed","content":JSONTEXT,"name":N}        -> {"allowed": bool, "amb": [...]}
  {"op":"state","events":[{"type","state_key","content"}],"name":N}
                                            -> {"allowed": bool, "has_acl": bool, "amb": [...]}
{"error": why} for a bug of the reference.

"amb" names the spec-silent corners a verdict went through. ACLREF_DECISIONS=1 adopts the
readings of roomproto's docs/decisions.md ("Server ACLs") there; without it the reference keeps
its own readings (listed at each tag below).
"""
import json
import os
import sys

DECISIONS = os.environ.get("ACLREF_DECISIONS") == "1"

DIGIT = set("0123456789")
ALPHA = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
HEX = set("0123456789abcdefABCDEF")
IPV6CHAR = DIGIT | set("ABCDEFabcdef:.")
DNSCHAR = DIGIT | ALPHA | set("-.")


# ---------------------------------------------------------------- glob (appendices)

def glob_match(pattern, name):
    """appendices "Glob-style matching": `*` matches zero or more characters, `?` exactly one;
    nothing else is special (no classes, no escapes), so every other character matches only
    itself. Server names "must be treated case-sensitively" (appendices "Server Name"), so the
    comparison is exact. Characters are Python str characters (code points).

    Greedy matching with a return to the last `*`: O(len(pattern) * len(name)) at worst."""
    p = n = 0
    star = -1
    mark = 0
    while n < len(name):
        if p < len(pattern) and (pattern[p] == "?" or (pattern[p] != "*" and pattern[p] == name[n])):
            p += 1
            n += 1
        elif p < len(pattern) and pattern[p] == "*":
            star = p
            mark = n
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            n = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


# ---------------------------------------------------------------- server names (appendices)

def ipv4_shape(h):
    """IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT"""
    parts = h.split(".")
    return len(parts) == 4 and all(1 <= len(x) <= 3 and set(x) <= DIGIT for x in parts)


def ipv4_literal(h, amb):
    """"IPv4 literals must be a sequence of four decimal numbers in the range 0 to 255,
    separated by `.`" with the grammar's 1*3DIGIT. "256.1.1.1" has the grammar's shape but
    is out of range: it is then no IPv4 literal (it is a valid dns-name: digits and dots)."""
    if not ipv4_shape(h):
        return False
    nums = [int(x) for x in h.split(".")]
    if any(len(x) > 1 and x[0] == "0" for x in h.split(".")):
        amb.add("ipv4-leading-zero")  # decimal by the text; some parsers read octal
    if any(v > 255 for v in nums):
        amb.add("ipv4-out-of-range")  # own reading: not an IP literal
        return False
    return True


def _h16(x):
    return 1 <= len(x) <= 4 and set(x) <= HEX


def ipv6_rfc3513(s):
    """RFC 3513 section 2.2: x:x:x:x:x:x:x:x (1-4 hex digits each), one "::" for a run of
    zero groups, the last 32 bits may be d.d.d.d (an IPv4 address)."""
    if not s:
        return False
    if s.count("::") > 1 or ":::" in s:
        return False
    groups_needed = 8
    tail = s
    # IPv4 tail
    last = s.rsplit(":", 1)[-1] if ":" in s else s
    v4 = False
    if "." in last:
        if not ipv4_shape(last) or any(int(x) > 255 for x in last.split(".")):
            return False
        v4 = True
        tail = s[: len(s) - len(last)]
        groups_needed = 6
        if tail == "" or not tail.endswith(":"):
            return False
        if tail.endswith("::"):
            tail = tail  # "::" directly before the IPv4 part
        else:
            tail = tail[:-1]
    if "." in tail:
        return False
    if "::" in tail:
        left, right = tail.split("::")
        lg = left.split(":") if left else []
        rg = right.split(":") if right else []
        if not all(_h16(g) for g in lg + rg):
            return False
        return len(lg) + len(rg) <= groups_needed - 1
    if v4 and tail == "":
        return False
    gs = tail.split(":")
    return len(gs) == groups_needed and all(_h16(g) for g in gs)


def parse_server_name(name, amb=None):
    """appendices "Server Name": server_name = hostname [ ":" port ]; port = 1*5DIGIT;
    hostname = IPv4address / "[" IPv6address "]" / dns-name. Returns (hostname, port) or None
    when the string is not a server name by the grammar (IPv4 range and RFC 3513 included:
    "IPv4 literals must be ...", "IPv6 literals must be as specified by RFC3513")."""
    if name.startswith("["):
        end = name.find("]")
        if end < 0:
            return None
        host, rest = name[: end + 1], name[end + 1:]
        inner = host[1:-1]
        if not (2 <= len(inner) <= 45 and set(inner) <= IPV6CHAR):
            return None
        if not ipv6_rfc3513(inner):
            # The grammar (IPv6address = 2*45IPv6char) admits it, the prose ("must be as
            # specified by RFC3513") does not. Own reading: the prose restricts the grammar
            # ("All valid server names are included by the following grammar"): no server name.
            # decisions (server ACLs) 6: the grammar alone.
            if amb is not None:
                amb.add("ipv6-not-rfc3513")
            if not DECISIONS:
                return None
    else:
        i = name.find(":")
        host, rest = (name, "") if i < 0 else (name[:i], name[i:])
        if not (1 <= len(host) <= 255 and set(host) <= DNSCHAR):
            return None
        if ipv4_shape(host) and any(int(x) > 255 for x in host.split(".")):
            pass  # a dns-name by the grammar (digits and dots), not an IPv4 literal
    if rest == "":
        return host, None
    port = rest[1:]
    if not (rest[0] == ":" and 1 <= len(port) <= 5 and set(port) <= DIGIT):
        return None
    return host, port


def valid_server_name(name, amb=None):
    return parse_server_name(name, amb) is not None


def host_of(name, amb):
    """The server name without its port ("the suspect server's port number must not be
    considered"). For a string that is not a server name the spec has no hostname; own
    reading: strip a final ":" + 1-5 digits, or, for "[", keep up to the first "]"."""
    p = parse_server_name(name, amb)
    if p is not None:
        return p[0]
    amb.add("invalid-server-name")
    if name.startswith("[") and "]" in name:
        return name[: name.find("]") + 1]
    i = name.rfind(":")
    if i >= 0 and 1 <= len(name) - i - 1 <= 5 and set(name[i + 1:]) <= DIGIT:
        return name[:i]
    return name


def is_ip_literal(host, amb):
    """Rule 2: "If the server name is an IP address (v4 or v6) literal". An IPv6 literal is
    bracketed ("an IPv6 address literal surrounded with square brackets"); the inside must be
    RFC 3513. Own reading for a bracketed string that is not RFC 3513: not an IP literal
    (tagged), and no unbracketed IPv6 is a literal (it is no hostname: ':' is no dns-char)."""
    if DECISIONS and host.startswith("["):
        # decisions (server ACLs) 1 and 6: a bracketed IPv6 literal is "[", the grammar's
        # IPv6address (2*45IPv6char) and "]"; RFC 3513 is not checked.
        grammar = host.endswith("]") and len(host) >= 4 and set(host[1:-1]) <= IPV6CHAR and len(host) <= 47
        if grammar and not ipv6_rfc3513(host[1:-1]):
            amb.add("ipv6-invalid-in-brackets")
        return grammar
    if host.startswith("[") and host.endswith("]") and len(host) >= 2:
        inner = host[1:-1]
        if 2 <= len(inner) <= 45 and set(inner) <= IPV6CHAR and ipv6_rfc3513(inner):
            return True
        amb.add("ipv6-invalid-in-brackets")
        return False
    if host.startswith("["):
        amb.add("ipv6-invalid-in-brackets")  # "[" without a closing "]": no IP literal
        return False
    if ":" in host and set(host) <= IPV6CHAR and ipv6_rfc3513(host):
        amb.add("ipv6-unbracketed")
        return False
    return ipv4_literal(host, amb)


# ---------------------------------------------------------------- the event (schema)

def parse_json(text, amb):
    """RFC 8259 JSON in UTF-8 (text arrives as bytes). A key given twice: spec-silent (RFC 8259
    leaves it undefined); own reading and decisions (pdu; canonicaljson 11): the last wins."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is a ValueError

    def hook(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                amb.add("duplicate-keys")
            d[k] = v
        return d

    def const(name):
        raise ValueError("not JSON: " + name)

    return json.loads(text, object_pairs_hook=hook, parse_constant=const)


def parse_content(text, amb):
    """m.room.server_acl.yaml: allow_ip_literals "Defaults to `true` if missing or otherwise not
    a boolean"; allow "defaults to an empty list when not provided"; deny "defaults to an empty
    list when not provided"; items: type string."""
    try:
        c = parse_json(text, amb)
    except ValueError:
        # The content of an event is always a JSON object; a text that is no JSON at all is
        # no object either (own reading, tagged).
        amb.add("not-json")
        amb.add("content-not-object")
        return None
    if not isinstance(c, dict):
        amb.add("content-not-object")
        return None
    ail = c.get("allow_ip_literals", True)
    if not isinstance(ail, bool):
        ail = True  # stated by the schema; not spec-silent
    out = {"allow_ip_literals": ail}
    for k in ("allow", "deny"):
        v = c.get(k)
        if v is None and k not in c:
            out[k] = []
            continue
        if not isinstance(v, list):
            # own reading: a value that is not a list provides no list: the default, []
            amb.add(k + "-not-list")
            out[k] = []
            continue
        items = []
        for x in v:
            if isinstance(x, str):
                items.append(x)
            else:
                # own reading: an entry that is not a string is no pattern and matches nothing
                amb.add(k + "-non-string-entry")
        out[k] = items
    return out


def acl_allowed(acl, name, amb):
    """The schema's order, rules 2-5 (rule 1, no ACL event, is the caller's)."""
    valid = valid_server_name(name, amb)
    if not valid and DECISIONS:
        return False  # decisions (server ACLs) 3: a string that is not a server name is denied
    host = host_of(name, amb)
    ipl = is_ip_literal(host, amb)
    # 2. "If the server name is an IP address (v4 or v6) literal, and allow_ip_literals is
    #    present and false, deny."
    if ipl and acl["allow_ip_literals"] is False:
        return False
    verdict = match_lists(acl, host)
    if host.startswith("[") and host.endswith("]") and match_lists(acl, host[1:-1]) != verdict:
        # The patterns are matched against the hostname, which for IPv6 is "[" IPv6address
        # "]" by the grammar: brackets included (own reading; the schema says only "server
        # name ... excluding any port information").
        amb.add("ipv6-brackets-in-match")
    return verdict


def match_lists(acl, host):
    # 3. "If the server name matches an entry in the deny list, deny."
    if any(glob_match(p, host) for p in acl["deny"]):
        return False
    # 4. "If the server name matches an entry in the allow list, allow."
    if any(glob_match(p, host) for p in acl["allow"]):
        return True
    # 5. "Otherwise, deny."
    return False


def allowed_content(text, name, amb):
    acl = parse_content(text, amb)
    if acl is None:
        # own reading: content that is not an object is no ACL content at all; the schema
        # gives no defaults for it. Read as an empty object: every key at its default, so
        # allow is empty and every server is denied (the same as an ACL without `allow`).
        acl = {"allow_ip_literals": True, "allow": [], "deny": []}
    return acl_allowed(acl, name, amb)


def state_allowed(events, name, amb):
    """Rule 1: "If there is no m.room.server_acl event in the room state, allow." The event is
    the state event of type m.room.server_acl with state_key "" (schema: "A zero-length
    string"); one with another state key is not the room's ACL."""
    acl_ev = None
    for e in events:
        if e["type"] == "m.room.server_acl" and e.get("state_key") == "":
            e["content"] = bytes.fromhex(e["content"])
            acl_ev = e
    if acl_ev is None:
        return True, False
    return allowed_content(acl_ev["content"], name, amb), True


# ---------------------------------------------------------------- loop

def unhex(req, k):
    if k == "content":
        return bytes.fromhex(req[k])
    """Strings travel as hex of their bytes; a byte that is not UTF-8 becomes one character of
    its own (surrogateescape), as the harness's Go strings hold arbitrary bytes."""
    return bytes.fromhex(req[k]).decode("utf-8", "surrogateescape")


def tohex(s):
    return s.encode("utf-8", "surrogateescape").hex()


def handle(req):
    amb = set()
    for k in ("pattern", "name", "host", "content"):
        if k in req:
            req[k] = unhex(req, k)
    op = req["op"]
    if op == "match":
        res = {"match": glob_match(req["pattern"], req["name"])}
    elif op == "host":
        p = parse_server_name(req["name"], amb)
        res = {"host": tohex(host_of(req["name"], amb)), "valid": p is not None}
    elif op == "valid":
        res = {"valid": valid_server_name(req["name"], amb)}
    elif op == "ipl":
        res = {"ip": is_ip_literal(req["host"], amb)}
    elif op == "parse":
        acl = parse_content(req["content"], amb)
        if acl is None:
            res = {"not_object": True}
        else:
            res = dict(acl, not_object=False)
    elif op == "allowed":
        res = {"allowed": allowed_content(req["content"], req["name"], amb)}
    elif op == "state":
        a, has = state_allowed(req.get("events") or [], req["name"], amb)
        res = {"allowed": a, "has_acl": has}
    else:
        raise ValueError("unknown op %r" % op)
    res["amb"] = sorted(amb)
    return res


def main():
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            res = handle(json.loads(line))
        except Exception as e:  # noqa: BLE001 - reported to the harness
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(res, ensure_ascii=False) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""canonref: an independent reference of canonical JSON, written from the spec text only.

Sources: content/appendices.md "Canonical JSON" (the definition, its grammar and its examples),
content/rooms/fragments/v1-canonical-json.md (room versions 1-5 "MUST NOT strictly enforce"),
v6-canonical-json.md (room versions 6+ "MUST strictly enforce"), and RFC 8259 for the JSON
grammar the appendix builds on (whitespace, numbers, strings, escapes). For what lenient mode
tolerates, the names of the error kinds and the API shape it follows `go doc ./canonicaljson`
only; canonicaljson/*.go was not read. Standard library only.

Protocol: one JSON object per line on stdin, one answer per line on stdout. Bytes travel as
standard base64 ("in", "ok", keys and values).

  {"op": "canon", "in": B64, "strict": bool, "maxdepth": int}
      -> {"ok": B64, "members": [[key B64, start, value, end, nstart, nend], ...],
          "nested": [[key B64, start, value, end], ...], "amb": [...]}
      or {"err": kind, "kinds": [acceptable kinds], "off": n, "alt": [other offsets], "amb": [...]}
  {"op": "members" | "elements", "in": B64}
      -> {"calls": [[key B64, value B64] | [value B64]], "err": kind | null, "kinds": [...],
          "off": n}   (calls: those made before the first error)
  {"op": "unquote", "in": B64} -> {"ok": B64} or {"err": kind, "kinds": [...], "off": n}
  {"op": "kind", "in": B64} -> {"kind": "object" | ... | "invalid"}
  {"op": "string", "in": B64} -> {"ok": B64}   (AppendString of a Go string with these bytes)
  {"op": "marshal", "v": descriptor} -> {"ok": B64} or {"kinds": [...]}
  A bug in the reference answers {"error": why}.

Error kinds: syntax, trailing, utf8, float, negzero, range, dup, surrogate, deep (and, for
marshal, "json": an error of encoding/json itself).

`amb` flags mark spec-silent corners met by the case:
  lenient-number   a lenient (v1-5) number with a fraction or exponent or out of range
  lenient-negzero  -0 in lenient mode (written 0, as the appendix example shows)
  lenient-dup      a duplicate key in lenient mode (the last is kept)
  lenient-surrogate an unpaired surrogate escape in lenient mode
  frac-exp         a lenient number with both a fraction and an exponent whose value is an
                   integer in range (written as that integer, as "exponent notation")
  strict-example   the appendix example {"a": -0, "b": 1e10} under strict rules (refused)
  depth            a nesting limit (the spec sets none)

With CANONREF_DECISIONS=1 the reference adopts docs/decisions.md's readings (see README.md).
"""
import base64
import json
import os
import sys
import decimal
from decimal import Decimal

decimal.getcontext().Emax = decimal.MAX_EMAX
decimal.getcontext().Emin = decimal.MIN_EMIN
decimal.getcontext().prec = 200

sys.setrecursionlimit(100000)

DECISIONS = os.environ.get("CANONREF_DECISIONS") == "1"

DEFAULT_MAX_DEPTH = 127
HARD_MAX_DEPTH = 4096
MAX_SAFE = 2 ** 53 - 1
WS = b" \t\n\r"  # RFC 8259 "ws": space, horizontal tab, line feed, carriage return


class JErr(Exception):
    """The first problem found: a kind, the offset where it is, other plausible offsets."""

    def __init__(self, kind, off, alt=(), kinds=None):
        super().__init__(kind)
        self.kind = kind
        self.off = off
        self.alt = list(alt)
        self.kinds = kinds or [kind]


def utf8_seq(b, i):
    """Length of the well-formed UTF-8 sequence (RFC 3629) at b[i], or raise with the offset of
    the lead byte (alt: the byte where the sequence stops being well-formed)."""
    c = b[i]
    if c < 0x80:
        return 1, c
    if 0xC2 <= c <= 0xDF:
        n, lo, hi = 2, 0x80, 0xBF
        cp = c & 0x1F
    elif 0xE0 <= c <= 0xEF:
        n = 3
        lo, hi = (0xA0, 0xBF) if c == 0xE0 else (0x80, 0x9F) if c == 0xED else (0x80, 0xBF)
        cp = c & 0x0F
    elif 0xF0 <= c <= 0xF4:
        n = 4
        lo, hi = (0x90, 0xBF) if c == 0xF0 else (0x80, 0x8F) if c == 0xF4 else (0x80, 0xBF)
        cp = c & 0x07
    else:
        raise JErr("utf8", i, kinds=["utf8"])
    for k in range(1, n):
        j = i + k
        if j >= len(b):
            raise JErr("utf8", i, alt=[len(b)])
        lo2, hi2 = (lo, hi) if k == 1 else (0x80, 0xBF)
        if not lo2 <= b[j] <= hi2:
            raise JErr("utf8", i, alt=[j])
        cp = (cp << 6) | (b[j] & 0x3F)
    return n, cp


def esc_off(e, backslash):
    """A malformed escape is reported at the byte that breaks it (the reference's reading); with
    the decisions, at its backslash (roomproto's convention, which docs/decisions.md does not
    record: see README.md)."""
    if DECISIONS:
        e.alt = [e.off]
        e.off = backslash
    return e


def exact_int(text):
    """The value of a JSON number if it is an integer within ±(2**53-1), else None; exact for
    every exponent (digits are shifted, never converted to a float)."""
    t = text.lower()
    neg = t.startswith("-")
    if neg:
        t = t[1:]
    mant, _, exp = t.partition("e")
    ip, _, fp = mant.partition(".")
    m = int(ip + fp)
    e = (int(exp) if exp else 0) - len(fp)
    if m == 0:
        return 0
    if e >= 0:
        if len(str(m)) + e > 16:
            return None
        v = m * 10 ** e
    else:
        if -e > len(str(m)):
            return None  # not an integer
        q, r = divmod(m, 10 ** -e)
        if r:
            return None
        v = q
    if v > MAX_SAFE:
        return None
    return -v if neg else v


class Parser:
    """A recursive-descent parser of RFC 8259 JSON with the appendix's strict restrictions
    (when strict) and a nesting limit. Values: ("obj", [(keycps, value, keyoff)]),
    ("arr", [values]), ("str", cps), ("num", text), ("lit", text)."""

    def __init__(self, b, strict, maxdepth, check_dups=None):
        self.b = b
        self.n = len(b)
        self.strict = strict
        self.maxdepth = maxdepth
        self.amb = set()
        self.check_dups = strict if check_dups is None else check_dups

    def ws(self, i):
        while i < self.n and self.b[i] in WS:
            i += 1
        return i

    def bad(self, i, what="syntax"):
        """A syntax error at i: a byte that cannot be there, or the end of the input."""
        if i < self.n and self.b[i] >= 0x80:
            # a non-ASCII byte where JSON has no place for one: malformed either way, and
            # invalid UTF-8 too when it is not well-formed
            try:
                utf8_seq(self.b, i)
                return JErr(what, i)
            except JErr:
                return JErr(what, i, kinds=[what, "utf8"])
        return JErr(what, i)

    def top(self):
        i = self.ws(0)
        v, i = self.value(i, 1)
        j = self.ws(i)
        if j < self.n:
            e = self.bad(j, "trailing")
            e.kinds = sorted(set(e.kinds) | {"trailing"})
            if v[0] == "num" and j == i and 0x30 <= self.b[j] <= 0x39:
                e.kinds = sorted(set(e.kinds) | {"syntax"})  # a leading zero: 01
            raise e
        return v

    def value(self, i, depth):
        if i >= self.n:
            raise JErr("syntax", i)
        c = self.b[i]
        if c == 0x7B:
            return self.obj(i, depth)
        if c == 0x5B:
            return self.arr(i, depth)
        if c == 0x22:
            cps, j = self.string(i)
            return ("str", cps), j
        if c == 0x2D or 0x30 <= c <= 0x39:
            return self.number(i)
        for lit in (b"true", b"false", b"null"):
            if c == lit[0]:
                for k in range(len(lit)):
                    if i + k >= self.n or self.b[i + k] != lit[k]:
                        raise self.bad(i + k)
                return ("lit", lit.decode()), i + len(lit)
        raise self.bad(i)

    def enter(self, i, depth):
        if depth > self.maxdepth:
            raise JErr("deep", i)

    def obj(self, i, depth):
        self.enter(i, depth)
        members = []
        seen = {}
        dups = {}
        i = self.ws(i + 1)
        if i < self.n and self.b[i] == 0x7D:
            return ("obj", members), i + 1
        while True:
            if i >= self.n or self.b[i] != 0x22:
                raise self.bad(i)
            koff = i
            key, i = self.string(i)
            k = tuple(key)
            if k in seen:
                if self.check_dups and not DECISIONS:
                    raise JErr("dup", koff)
                if not self.check_dups:
                    self.amb.add("lenient-dup")
                if k not in dups:
                    dups[k] = koff  # the second occurrence
            seen[k] = True
            i = self.ws(i)
            if i >= self.n or self.b[i] != 0x3A:
                raise self.bad(i)
            i = self.ws(i + 1)
            v, i = self.value(i, depth + 1)
            members.append((key, v, koff))
            i = self.ws(i)
            if i < self.n and self.b[i] == 0x2C:
                i = self.ws(i + 1)
                continue
            if i < self.n and self.b[i] == 0x7D:
                if dups and self.check_dups:
                    # docs/decisions.md canonicaljson 9: duplicate keys are found when their
                    # object closes; the smallest duplicated key, at its second occurrence
                    k = min(dups)
                    raise JErr("dup", dups[k], alt=[dups[x] for x in dups if x != k])
                return ("obj", members), i + 1
            raise self.bad(i)

    def arr(self, i, depth):
        self.enter(i, depth)
        vals = []
        i = self.ws(i + 1)
        if i < self.n and self.b[i] == 0x5D:
            return ("arr", vals), i + 1
        while True:
            v, i = self.value(i, depth + 1)
            vals.append(v)
            i = self.ws(i)
            if i < self.n and self.b[i] == 0x2C:
                i = self.ws(i + 1)
                continue
            if i < self.n and self.b[i] == 0x5D:
                return ("arr", vals), i + 1
            raise self.bad(i)

    def hex4(self, i):
        """The value of the 4 hex digits at b[i:i+4] (RFC 8259: HEXDIG, either case)."""
        v = 0
        for k in range(4):
            j = i + k
            if j >= self.n:
                raise esc_off(JErr("syntax", j, alt=[i - 2]), i - 2)
            c = self.b[j]
            if 0x30 <= c <= 0x39:
                d = c - 0x30
            elif 0x61 <= c <= 0x66:
                d = c - 0x61 + 10
            elif 0x41 <= c <= 0x46:
                d = c - 0x41 + 10
            else:
                e = self.bad(j)
                e.alt = [i - 2]
                raise esc_off(e, i - 2)
            v = v * 16 + d
        return v

    def string(self, i):
        """Parse the string whose quote is at b[i]; returns (code points, index past it).
        Unpaired surrogate escapes stay in the list as their surrogate code point."""
        cps = []
        j = i + 1
        while True:
            if j >= self.n:
                raise JErr("syntax", j)
            c = self.b[j]
            if c == 0x22:
                return cps, j + 1
            if c < 0x20:
                raise JErr("syntax", j)
            if c == 0x5C:
                if j + 1 >= self.n:
                    raise JErr("syntax", j + 1, alt=[j])  # the input ends after a backslash
                e = self.b[j + 1]
                simple = {0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 8, 0x66: 12, 0x6E: 10,
                          0x72: 13, 0x74: 9}
                if e in simple:
                    cps.append(simple[e])
                    j += 2
                    continue
                if e != 0x75:
                    err = self.bad(j + 1)
                    err.alt = [j]
                    raise esc_off(err, j)
                u = self.hex4(j + 2)
                if 0xD800 <= u <= 0xDBFF:
                    # a high surrogate: paired only with an immediately following \u low
                    k = j + 6
                    if (k + 1 < self.n and self.b[k] == 0x5C and self.b[k + 1] == 0x75):
                        try:
                            lo = self.hex4(k + 2)
                        except JErr as err:
                            if not self.strict:
                                raise
                            # strict: the high surrogate is unpaired whatever follows; which
                            # problem comes first is not said (roomproto: the surrogate)
                            if DECISIONS:
                                raise JErr("surrogate", j)
                            err.kinds = sorted(set(err.kinds) | {"surrogate"})
                            err.alt = err.alt + [j]
                            raise
                        if 0xDC00 <= lo <= 0xDFFF:
                            cps.append(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00))
                            j = k + 6
                            continue
                    self.lone(j)
                    cps.append(u)
                    j += 6
                    continue
                if 0xDC00 <= u <= 0xDFFF:
                    self.lone(j)
                cps.append(u)
                j += 6
                continue
            n, cp = utf8_seq(self.b, j)
            cps.append(cp)
            j += n

    def lone(self, j):
        if self.strict:
            raise JErr("surrogate", j)
        self.amb.add("lenient-surrogate")

    def number(self, i):
        """RFC 8259 number = [ minus ] int [ frac ] [ exp ]; the appendix's restrictions."""
        b, n = self.b, self.n
        j = i
        if b[j] == 0x2D:
            j += 1
        if j >= n or not 0x30 <= b[j] <= 0x39:
            raise self.bad(j)
        if b[j] == 0x30:
            j += 1
            if j < n and 0x30 <= b[j] <= 0x39:
                raise JErr("syntax", j)  # a leading zero: the token is malformed
        else:
            while j < n and 0x30 <= b[j] <= 0x39:
                j += 1
        frac = exp = False
        if j < n and b[j] == 0x2E:
            frac = True
            j += 1
            if j >= n or not 0x30 <= b[j] <= 0x39:
                raise self.bad(j)
            while j < n and 0x30 <= b[j] <= 0x39:
                j += 1
        if j < n and b[j] in (0x65, 0x45):
            exp = True
            j += 1
            if j < n and b[j] in (0x2B, 0x2D):
                j += 1
            if j >= n or not 0x30 <= b[j] <= 0x39:
                raise self.bad(j)
            while j < n and 0x30 <= b[j] <= 0x39:
                j += 1
        text = b[i:j].decode("ascii")
        if self.strict:
            if frac or exp:
                kinds = ["float"]
                if exact_int(text) == 0 and text.startswith("-"):
                    kinds.append("negzero")
                raise JErr("float", i, kinds=kinds)
            if text == "-0":
                raise JErr("negzero", i)
            if abs(int(text)) > MAX_SAFE:
                raise JErr("range", i)
            return ("num", text), j
        # lenient (room versions 1-5): the package documentation's rules
        if text == "-0":
            self.amb.add("lenient-negzero")
            return ("num", "0"), j
        if not frac and not exp:
            if abs(int(text)) > MAX_SAFE:
                self.amb.add("lenient-number")
            return ("num", text), j
        self.amb.add("lenient-number")
        v = exact_int(text)
        if exp and v is not None:
            if frac:
                self.amb.add("frac-exp")
            return ("num", str(v)), j
        return ("num", text), j


# --- writing canonical JSON -------------------------------------------------------------------

SHORT = {0x22: b'\\"', 0x5C: b"\\\\", 8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r"}


def enc_cp(cp):
    """The appendix grammar: '"' and '\\' escaped, the dedicated short escapes, \\u00XX for the
    other ASCII control characters (lowercase hex: %x62 / %x65-66 / %x61-66), every other code
    point as raw UTF-8. An unpaired surrogate (lenient only) has no UTF-8: \\udXXX."""
    if cp in SHORT:
        return SHORT[cp]
    if cp < 0x20:
        return b"\\u%04x" % cp
    if 0xD800 <= cp <= 0xDFFF:
        return b"\\u%04x" % cp
    return chr(cp).encode("utf-8")


def enc_str(cps):
    return b'"' + b"".join(enc_cp(c) for c in cps) + b'"'


def wtf8(cps):
    """Generalised UTF-8 of a code point list (a surrogate as its 3-byte form)."""
    out = bytearray()
    for cp in cps:
        if 0xD800 <= cp <= 0xDFFF:
            out += bytes([0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F)])
        else:
            out += chr(cp).encode("utf-8")
    return bytes(out)


def dedup(members):
    """Keep the last of duplicate keys, sorted by code point."""
    last = {}
    for key, v, koff in members:
        last[tuple(key)] = (key, v)
    return [last[k] for k in sorted(last)]


class Writer:
    def __init__(self):
        self.out = bytearray()
        self.members = []
        self.nested = []

    def write(self, v, level=0):
        """level 0: the top-level value; 1: a value of a top-level member; 2: deeper."""
        t = v[0]
        o = self.out
        if t == "obj":
            o += b"{"
            first = True
            for key, val in dedup(v[1]):
                if not first:
                    o += b","
                first = False
                start = len(o)
                o += enc_str(key) + b":"
                vstart = len(o)
                if level == 0:
                    rec = [wtf8(key), start, vstart, 0, 0, 0]
                    self.members.append(rec)
                    ns = len(self.nested)
                    self.write(val, 1)
                    rec[3] = len(o)
                    if val[0] == "obj" and val[1]:
                        rec[4], rec[5] = ns, len(self.nested)
                elif level == 1:
                    rec = [wtf8(key), start, vstart, 0]
                    self.nested.append(rec)
                    self.write(val, 2)
                    rec[3] = len(o)
                else:
                    self.write(val, 2)
            o += b"}"
        elif t == "arr":
            o += b"["
            for k, x in enumerate(v[1]):
                if k:
                    o += b","
                self.write(x, 2)
            o += b"]"
        elif t == "str":
            o += enc_str(v[1])
        else:
            o += v[1].encode("ascii")


def b64(b):
    return base64.b64encode(bytes(b)).decode()


def unb64(s):
    return base64.b64decode(s)


def eff_depth(d):
    if d <= 0:
        return DEFAULT_MAX_DEPTH
    return min(d, HARD_MAX_DEPTH)


def err_answer(e, amb):
    return {"err": e.kind, "kinds": sorted(set(e.kinds)), "off": e.off, "alt": e.alt,
            "amb": sorted(amb)}


def canon(data, strict, maxdepth):
    p = Parser(data, strict, eff_depth(maxdepth))
    try:
        v = p.top()
    except JErr as e:
        return err_answer(e, p.amb)
    w = Writer()
    w.write(v)
    if strict and data.replace(b" ", b"").replace(b"\n", b"") == \
            b'{"a":-0,"b":1e10}':
        p.amb.add("strict-example")
    return {"ok": b64(w.out), "members": [[b64(m[0])] + m[1:] for m in w.members],
            "nested": [[b64(m[0])] + m[1:] for m in w.nested], "amb": sorted(p.amb)}


def each(data, want):
    """EachMember / EachElement: lenient rules, DefaultMaxDepth with the container at depth 1;
    calls are made as each member's value is complete."""
    p = Parser(data, False, DEFAULT_MAX_DEPTH)
    calls = []
    try:
        i = p.ws(0)
        if i >= p.n or p.b[i] != (0x7B if want == "members" else 0x5B):
            raise JErr("syntax", i)
        close = 0x7D if want == "members" else 0x5D
        i = p.ws(i + 1)
        if i < p.n and p.b[i] == close:
            i += 1
        else:
            while True:
                key = None
                if want == "members":
                    if i >= p.n or p.b[i] != 0x22:
                        raise p.bad(i)
                    key, i = p.string(i)
                    i = p.ws(i)
                    if i >= p.n or p.b[i] != 0x3A:
                        raise p.bad(i)
                    i = p.ws(i + 1)
                vs = i
                _, i = p.value(i, 2)
                raw = p.b[vs:i]
                calls.append([b64(wtf8(key)), b64(raw)] if want == "members" else [b64(raw)])
                i = p.ws(i)
                if i < p.n and p.b[i] == 0x2C:
                    i = p.ws(i + 1)
                    continue
                if i < p.n and p.b[i] == close:
                    i += 1
                    break
                raise p.bad(i)
        i = p.ws(i)
        if i < p.n:
            e = p.bad(i, "trailing")
            e.kinds = sorted(set(e.kinds) | {"trailing"})
            raise e
    except JErr as e:
        r = err_answer(e, p.amb)
        r["calls"] = calls
        return r
    return {"calls": calls, "err": None}


def unquote(data):
    p = Parser(data, False, DEFAULT_MAX_DEPTH)
    try:
        i = p.ws(0)
        if i >= p.n or p.b[i] != 0x22:
            raise p.bad(i)
        cps, i = p.string(i)
        i = p.ws(i)
        if i < p.n:
            e = p.bad(i, "trailing")
            e.kinds = sorted(set(e.kinds) | {"trailing"})
            raise e
    except JErr as e:
        return err_answer(e, p.amb)
    return {"ok": b64(wtf8(cps))}


def kind_of(data):
    i = 0
    while i < len(data) and data[i] in WS:
        i += 1
    if i >= len(data):
        return "invalid"
    c = data[i]
    if c == 0x7B:
        return "object"
    if c == 0x5B:
        return "array"
    if c == 0x22:
        return "string"
    if c == 0x2D or 0x30 <= c <= 0x39:
        return "number"
    if c in (0x74, 0x66):
        return "bool"
    if c == 0x6E:
        return "null"
    return "invalid"


def go_string_cps(b):
    """A Go string's bytes as code points: each byte not part of well-formed UTF-8 becomes
    U+FFFD (the documented rule of AppendString and encoding/json)."""
    cps = []
    i = 0
    while i < len(b):
        try:
            n, cp = utf8_seq(b, i)
        except JErr:
            cps.append(0xFFFD)
            i += 1
            continue
        cps.append(cp)
        i += n
    return cps


# --- Marshal: a Go value described by the harness ---------------------------------------------
#
# descriptor: {"t": "null"} | {"t": "bool", "v": b} | {"t": "str", "b": B64 (Go string bytes)}
#   | {"t": "int", "v": "decimal"} | {"t": "float", "v": "shortest repr", "bits": 32|64}
#   | {"t": "raw", "b": B64} (json.RawMessage or a json.Marshaler's output)
#   | {"t": "number", "v": "text"} (json.Number) | {"t": "arr", "v": [...]}
#   | {"t": "obj", "v": [[key B64, descriptor], ...]} (maps, structs: the JSON names)

class MErr(Exception):
    def __init__(self, kinds):
        super().__init__(kinds)
        self.kinds = kinds


def m_value(d, depth):
    t = d["t"]
    if depth > DEFAULT_MAX_DEPTH and t in ("arr", "obj"):
        raise MErr(["deep"])
    if t == "null":
        return ("lit", "null")
    if t == "bool":
        return ("lit", "true" if d["v"] else "false")
    if t == "str":
        return ("str", go_string_cps(unb64(d["b"])))
    if t == "int":
        x = int(d["v"])
        if abs(x) > MAX_SAFE:
            raise MErr(["range"])
        return ("num", str(x))
    if t == "float":
        s = d["v"]
        if s in ("NaN", "+Inf", "-Inf"):
            raise MErr(["json"])
        x = Decimal(s)
        if x.is_zero():
            if s.startswith("-"):
                raise MErr(["negzero"])
            return ("num", "0")
        if x != x.to_integral_value():
            raise MErr(["float"])
        if x.copy_abs() > MAX_SAFE:
            # encoding/json writes large floats with an exponent from 1e21 on
            raise MErr(["float", "range"])
        return ("num", str(int(x)))
    if t in ("raw", "number"):
        b = unb64(d["b"]) if t == "raw" else d["v"].encode()
        if t == "number" and b == b"":
            return ("num", "0")  # encoding/json writes an empty Number as 0
        p = Parser(b, True, DEFAULT_MAX_DEPTH - depth + 1)
        try:
            v = p.top()
        except JErr as e:
            if e.kind in ("syntax", "trailing", "utf8"):
                raise MErr(sorted({"json", "utf8", "syntax"} if e.kind == "utf8" or "utf8" in e.kinds
                                  else {"json"}))
            raise MErr(sorted(set(e.kinds)))
        if t == "number" and v[0] != "num":
            raise MErr(["json"])
        return v
    if t == "arr":
        return ("arr", [m_value(x, depth + 1) for x in d["v"]])
    if t == "obj":
        members = []
        seen = set()
        dup = False
        for k, x in d["v"]:
            key = go_string_cps(unb64(k))
            if tuple(key) in seen:
                if not DECISIONS:
                    raise MErr(["dup"])
                dup = True  # docs/decisions.md canonicaljson 9: found when the object closes
            seen.add(tuple(key))
            members.append((key, m_value(x, depth + 1), 0))
        if dup:
            raise MErr(["dup"])
        return ("obj", members)
    raise ValueError("bad descriptor " + t)


def json_errs(d):
    """Whether encoding/json itself fails on the value (before any canonicalisation)."""
    t = d["t"]
    if t == "float":
        return d["v"] in ("NaN", "+Inf", "-Inf")
    if t == "raw":
        p = Parser(unb64(d["b"]), False, 10 ** 6)
        try:
            p.top()
        except JErr as e:
            return e.kind != "utf8"
        return False
    if t == "number":
        if d["v"] == "":
            return False
        p = Parser(d["v"].encode(), False, 10 ** 6)
        try:
            v = p.top()
        except JErr:
            return True
        return v[0] != "num"
    if t == "arr":
        return any(json_errs(x) for x in d["v"])
    if t == "obj":
        return any(json_errs(x) for _, x in d["v"])
    return False


def marshal(d):
    if json_errs(d):
        return {"kinds": ["json"]}
    try:
        v = m_value(d, 1)
    except MErr as e:
        return {"kinds": e.kinds}
    w = Writer()
    w.write(v)
    return {"ok": b64(w.out)}


def handle(req):
    op = req["op"]
    if op == "canon":
        return canon(unb64(req.get("in", "")), req.get("strict", False), req.get("maxdepth", 0))
    if op in ("members", "elements"):
        return each(unb64(req.get("in", "")), op)
    if op == "unquote":
        return unquote(unb64(req.get("in", "")))
    if op == "kind":
        return {"kind": kind_of(unb64(req.get("in", "")))}
    if op == "string":
        return {"ok": b64(enc_str(go_string_cps(unb64(req.get("in", "")))))}
    if op == "marshal":
        return marshal(req["v"])
    return {"error": "unknown op " + op}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            resp = handle(json.loads(line))
        except Exception as e:  # a bug of the reference, reported as such
            resp = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(resp) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

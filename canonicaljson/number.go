package canonicaljson

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// maxSafe is (2**53)-1, the largest integer "Canonical JSON" (appendices)
// allows; its decimal form has 16 digits.
const (
	maxSafe       = 1<<53 - 1
	maxSafeDigits = "9007199254740991"
)

// number parses the number at p.pos (RFC 8259 section 6) and writes its
// canonical form.
//
// Strict: only the grammar's integers (no fraction, no exponent, no -0) in
// [-(2**53)+1, (2**53)-1] are accepted, and they are copied.
//
// Lenient: integers are copied whatever their size; -0 is written 0; a number
// in exponent notation whose value is an integer in the strict range is
// written as that integer (the appendix's example: -0 -> 0, 1e10 ->
// 10000000000); every other number (a decimal fraction such as 1.0 or 1.5,
// anything out of range) is copied verbatim.
func (p *parser) number(out []byte) ([]byte, error) {
	d := p.data
	start := p.pos
	// Fast path: a non-negative integer of at most 7 digits, without a
	// leading zero, that no fraction or exponent follows, read with one
	// eight-byte load. It is canonical as written in both modes and below
	// 2**53, so it is copied; the general path below would copy it too.
	// Anything else takes that path.
	if start+8 <= len(d) {
		if n := digitRun(binary.LittleEndian.Uint64(d[start : start+8])); n > 0 && n < 8 && (d[start] != '0' || n == 1) {
			if c := d[start+n]; c != '.' && c != 'e' && c != 'E' {
				p.pos = start + n
				if p.emit {
					out = append(out, d[start:start+n]...)
				}
				return out, nil
			}
		}
	}
	i := start
	neg := d[i] == '-'
	if neg {
		i++
	}
	intStart := i
	switch {
	case i >= len(d):
		p.pos = i
		return out, p.eof("in numeric literal")
	case d[i] == '0':
		i++
		if i < len(d) && isDigit(d[i]) {
			return out, newError(i, ErrSyntax, "invalid leading zero in numeric literal")
		}
	case isDigit(d[i]):
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return out, newError(i, ErrSyntax, "invalid character "+quoteChar(d[i])+" in numeric literal")
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(d) && d[i] == '.' {
		i++
		fracStart = i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if i == fracStart {
			p.pos = i
			if i >= len(d) {
				return out, p.eof("after decimal point in numeric literal")
			}
			return out, newError(i, ErrSyntax, "invalid character "+quoteChar(d[i])+" after decimal point in numeric literal")
		}
		fracEnd = i
	}
	hasExp := false
	expNeg := false
	expStart := i
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		hasExp = true
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			expNeg = d[i] == '-'
			i++
		}
		expStart = i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if i == expStart {
			p.pos = i
			if i >= len(d) {
				return out, p.eof("in exponent of numeric literal")
			}
			return out, newError(i, ErrSyntax, "invalid character "+quoteChar(d[i])+" in exponent of numeric literal")
		}
	}
	end := i
	p.pos = end
	isInt := fracStart == fracEnd && !hasExp
	negZero := neg && intEnd-intStart == 1 && d[intStart] == '0'

	if p.strict {
		switch {
		case !isInt:
			return out, newError(start, ErrFloat, "number "+clip(d[start:end])+" has a fraction or exponent (canonical JSON allows integers only)")
		case negZero:
			return out, newError(start, ErrNegativeZero, "negative zero is not allowed in canonical JSON")
		case !inSafeRange(d[intStart:intEnd]):
			return out, newError(start, ErrIntegerRange, "integer "+clip(d[start:end])+" is outside [-(2**53)+1, (2**53)-1]")
		}
	}
	if !p.emit {
		return out, nil
	}
	switch {
	case isInt && negZero:
		out = append(out, '0')
	case hasExp:
		if v, ok := exactSafeInteger(d[intStart:intEnd], d[fracStart:fracEnd], d[expStart:end], expNeg); ok {
			if neg && v != 0 {
				out = append(out, '-')
			}
			out = strconv.AppendUint(out, v, 10)
			return out, nil
		}
		out = append(out, d[start:end]...)
	default:
		out = append(out, d[start:end]...)
	}
	return out, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// inSafeRange reports whether the digits (no sign, no leading zeros) denote
// an integer of at most (2**53)-1.
func inSafeRange(digits []byte) bool {
	if len(digits) != len(maxSafeDigits) {
		return len(digits) < len(maxSafeDigits)
	}
	return string(digits) <= maxSafeDigits
}

// exactSafeInteger computes the value of the number intPart.fracPart e
// (-)expDigits when it is an integer of at most (2**53)-1, without rounding:
// the decimal digits are shifted, not converted to a float.
func exactSafeInteger(intPart, fracPart, expDigits []byte, expNeg bool) (uint64, bool) {
	// Exponent, saturated well beyond anything that can matter.
	exp := 0
	for _, c := range expDigits {
		if exp < 1e9 {
			exp = exp*10 + int(c-'0')
		}
	}
	if expNeg {
		exp = -exp
	}
	n := len(intPart) + len(fracPart)
	digit := func(k int) byte {
		if k < len(intPart) {
			return intPart[k]
		}
		return fracPart[k-len(intPart)]
	}
	first := 0
	for first < n && digit(first) == '0' {
		first++
	}
	if first == n {
		return 0, true // all digits zero: the value is 0
	}
	last := n - 1
	for digit(last) == '0' {
		last--
	}
	// value = digits[first..last] * 10^scale
	scale := exp - len(fracPart) + (n - 1 - last)
	sig := last - first + 1
	if scale < 0 || sig+scale > len(maxSafeDigits) {
		return 0, false
	}
	var v uint64
	for k := first; k <= last; k++ {
		v = v*10 + uint64(digit(k)-'0')
	}
	for ; scale > 0; scale-- {
		v *= 10
	}
	if v > maxSafe {
		return 0, false
	}
	return v, true
}

// clip renders a token for an error message, cut to a sensible length.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// digitRun returns how many of the bytes packed little-endian in x, from the
// lowest, are ASCII digits before the first byte that is not (8 if all are).
// A byte b is a digit when b^'0' is at most 9: its high nibble is zero and
// its low nibble plus 6 does not reach 16. The low nibbles are added alone,
// so no carry crosses into the next byte.
func digitRun(x uint64) int {
	const lo, nib = 0x0101010101010101, 0x0f0f0f0f0f0f0f0f
	y := x ^ (lo * '0')
	m := y&^nib | (y&nib+lo*6)&(lo*0x10)
	return bits.TrailingZeros64(m) / 8
}

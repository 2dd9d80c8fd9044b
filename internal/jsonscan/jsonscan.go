// Package jsonscan walks JSON text in the canonical form that canonicaljson.Append writes
// (appendices "Canonical JSON"): no whitespace, object keys sorted and unique, strings with only
// the escapes `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t` and `\u00xx`.
//
// pdu, redaction and signing use it to find members and values in bytes that canonicaljson has
// already validated, without validating them a second time. It does not validate: on bytes of
// any other form it never panics, never loops forever and never reads out of bounds, but what it
// reports is unspecified (a scan may fail with -1/false, or see other members than a validating
// parser would). Give it only canonicaljson's output.
package jsonscan

import "bytes"

// SkipString returns the index just past the string literal at b[i] ('"'), or -1. It finds each
// '"' with bytes.IndexByte (vectorised) and looks back at the backslashes just before it: the
// quote closes the literal when their run, which starts after a byte that is not a backslash (or
// just after the opening quote), has an even length. That is the same quote as a forward scan in
// which each backslash takes the byte after it as escaped: the first backslash of the run is not
// escaped (the byte before it is no backslash), so every other one escapes the next, and the
// quote is escaped exactly when the run's length is odd. Each backslash is counted at most once
// (a run ends at the quote that follows it), so the scan is linear on any bytes.
func SkipString(b []byte, i int) int {
	if i < 0 || i >= len(b) || b[i] != '"' {
		return -1
	}
	start := i + 1 // the first byte of the body
	for i = start; ; {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		i += q // b[i] == '"'
		j := i
		for j > start && b[j-1] == '\\' {
			j--
		}
		if (i-j)%2 == 0 {
			return i + 1
		}
		i++ // an escaped quote
	}
}

// structural marks the bytes SkipValue must look at inside an array or object.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// SkipValue returns the index just past the value starting at b[i], or -1. A number or literal
// ends at the first ',', '}' or ']' (or the end of b).
func SkipValue(b []byte, i int) int {
	if i < 0 || i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			c := b[i]
			if !structural[c] {
				i++
				continue
			}
			switch c {
			case '"':
				// Most strings hold no escaped quote: then the first '"' after the opening
				// one closes them, as SkipString finds, unless a backslash is just before it
				// (the byte before it is b[i] itself when q is 0).
				q := bytes.IndexByte(b[i+1:], '"')
				if q < 0 {
					return -1
				}
				if b[i+q] != '\\' {
					i += q + 2
					continue
				}
				if i = SkipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			default: // '}', ']'
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case ',', '}', ']', ':':
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i
}

// EachMember calls fn for each member of the object at b[i] ('{') with the member's key as
// written (without its quotes, escapes left as they are), the index of the key's opening quote
// and the index where its value starts; fn returns the index just past the value (SkipValue, or
// -1 to stop the scan). EachMember returns the index just past the object, or -1 if it does not
// scan. In canonical JSON a key needs no escape unless it holds '"', '\\' or a control
// character, so comparing the key as written with a plain name is exact.
func EachMember(b []byte, i int, fn func(key []byte, keyStart, valueStart int) int) int {
	if i < 0 || i >= len(b) || b[i] != '{' {
		return -1
	}
	i++
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for i < len(b) {
		if b[i] != '"' {
			return -1
		}
		ke := SkipString(b, i)
		if ke < 0 || ke >= len(b) || b[ke] != ':' {
			return -1
		}
		ve := fn(b[i+1:ke-1], i, ke+1)
		if ve <= ke || ve >= len(b) {
			return -1
		}
		switch b[ve] {
		case '}':
			return ve + 1
		case ',':
			i = ve + 1
		default:
			return -1
		}
	}
	return -1
}

// EachElement calls fn for each element of the array at b[i] ('[') with the index where the
// element starts; fn returns the index just past it (SkipValue, or -1 to stop the scan).
// EachElement returns the index just past the array, or -1 if it does not scan.
func EachElement(b []byte, i int, fn func(valueStart int) int) int {
	if i < 0 || i >= len(b) || b[i] != '[' {
		return -1
	}
	i++
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for i < len(b) {
		ve := fn(i)
		if ve <= i || ve >= len(b) {
			return -1
		}
		switch b[ve] {
		case ']':
			return ve + 1
		case ',':
			i = ve + 1
		default:
			return -1
		}
	}
	return -1
}

// Members calls fn with the key as written and the value of each member of the object that is
// the whole of b, in order, until fn returns false. It reports whether b scanned as one object
// (a false from fn also reports false).
func Members(b []byte, fn func(key, value []byte) bool) bool {
	stopped := false
	end := EachMember(b, 0, func(key []byte, _, vs int) int {
		ve := SkipValue(b, vs)
		if ve < 0 {
			return -1
		}
		if !fn(key, b[vs:ve]) {
			stopped = true
			return -1
		}
		return ve
	})
	return !stopped && end == len(b)
}

// Elements calls fn with each element of the array that is the whole of b, in order, until fn
// returns false. It reports whether b scanned as one array (a false from fn also reports false).
func Elements(b []byte, fn func(value []byte) bool) bool {
	if len(b) < 2 || b[0] != '[' {
		return false
	}
	if b[1] == ']' {
		return len(b) == 2
	}
	i := 1
	for i < len(b) {
		ve := SkipValue(b, i)
		if ve <= i || ve >= len(b) {
			return false
		}
		if !fn(b[i:ve]) {
			return false
		}
		switch b[ve] {
		case ']':
			return ve+1 == len(b)
		case ',':
			i = ve + 1
		default:
			return false
		}
	}
	return false
}

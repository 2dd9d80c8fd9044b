package signing

import (
	"encoding/base64"
	"encoding/binary"
)

// maxBase64 is the longest base64 text decodeBase64 accepts: enough for the 64 bytes of an
// ed25519 signature (86 characters, 88 padded). Keys, seeds and hashes are shorter.
const maxBase64 = 96

// decodeBase64 decodes s into dst and returns the number of bytes written. It accepts unpadded
// base64 as the spec writes it (appendices "Unpadded Base64"), and also, as that section says
// decoders SHOULD "wherever possible, to ensure maximum interoperability", the same text with
// some or all of its "=" padding, and the characters of the URL-safe alphabet (appendices
// "URL-safe unpadded Base64") in place of those of the standard one, even mixed in one string, as
// Synapse's decoder reads them (docs/decisions.md (signing) 1). Line breaks and other
// whitespace are refused. Unused low bits of the last character are ignored, as RFC 4648
// decoders commonly do. It reports false when s is not such base64 or decodes to more than
// len(dst) bytes. It does not allocate.
func decodeBase64(dst []byte, s string) (int, bool) {
	// Padding: one or two '=' after a body whose last group is incomplete, no more than the
	// group lacks.
	pad := 0
	for pad < 2 && len(s) > pad && s[len(s)-1-pad] == '=' {
		pad++
	}
	if pad > 0 {
		s = s[:len(s)-pad]
		if r := len(s) % 4; r < 2 || pad > 4-r {
			return 0, false
		}
	}
	if len(s) > maxBase64 || len(s)%4 == 1 {
		return 0, false
	}
	// Whole groups of four characters, then the two or three of an incomplete last group.
	if len(s)/4*3+(len(s)%4*3)/4 > len(dst) {
		return 0, false
	}
	n := 0
	// Eight characters at a time while at least three follow them: the six bytes they stand for
	// are stored with one 8-byte write, whose last two bytes the characters that follow (two
	// bytes at least) overwrite, so nothing is written past the decoded bytes.
	for len(s) >= 8+3 {
		a, b, c, d := base64Values[s[0]], base64Values[s[1]], base64Values[s[2]], base64Values[s[3]]
		e, f, g, h := base64Values[s[4]], base64Values[s[5]], base64Values[s[6]], base64Values[s[7]]
		if (a|b|c|d|e|f|g|h)&0xc0 != 0 {
			return 0, false
		}
		v := uint64(a)<<58 | uint64(b)<<52 | uint64(c)<<46 | uint64(d)<<40 |
			uint64(e)<<34 | uint64(f)<<28 | uint64(g)<<22 | uint64(h)<<16
		binary.BigEndian.PutUint64(dst[n:], v)
		n += 6
		s = s[8:]
	}
	for len(s) >= 4 {
		a, b, c, d := base64Values[s[0]], base64Values[s[1]], base64Values[s[2]], base64Values[s[3]]
		if (a|b|c|d)&0xc0 != 0 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
		s = s[4:]
	}
	switch len(s) {
	case 2:
		a, b := base64Values[s[0]], base64Values[s[1]]
		if (a|b)&0xc0 != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := base64Values[s[0]], base64Values[s[1]], base64Values[s[2]]
		if (a|b|c)&0xc0 != 0 {
			return 0, false
		}
		dst[n], dst[n+1] = a<<2|b>>4, b<<4|c>>2
		n += 2
	}
	return n, true
}

// base64Values maps each byte to its value in the standard base64 alphabet or the URL-safe one
// ('+' and '-' are 62, '/' and '_' are 63), and every other byte to 0xff.
var base64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(std) {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// encodeBase64 returns the unpadded standard base64 of b (appendices "Unpadded Base64").
func encodeBase64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

package signing

import (
	"encoding/base64"
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
	var src [maxBase64]byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r', '\n', '=': // the decoder would skip \r and \n
			return 0, false
		case '-':
			src[i] = '+'
		case '_':
			src[i] = '/'
		default:
			src[i] = c
		}
	}
	enc := base64.RawStdEncoding
	if enc.DecodedLen(len(s)) > len(dst) {
		return 0, false
	}
	n, err := enc.Decode(dst, src[:len(s)])
	if err != nil {
		return 0, false
	}
	return n, true
}

// encodeBase64 returns the unpadded standard base64 of b (appendices "Unpadded Base64").
func encodeBase64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

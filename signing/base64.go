package signing

import (
	"encoding/base64"
	"strings"
)

// maxBase64 is the longest base64 text decodeBase64 accepts: enough for the 64 bytes of an
// ed25519 signature (86 characters, 88 padded). Keys, seeds and hashes are shorter.
const maxBase64 = 96

// decodeBase64 decodes s into dst and returns the number of bytes written. It accepts unpadded
// base64 as the spec writes it (appendices "Unpadded Base64"), and also, as that section says
// decoders SHOULD, the same text with its "=" padding, and the URL-safe alphabet (appendices
// "URL-safe unpadded Base64"), as long as one string does not mix the two alphabets. Line breaks
// and other whitespace are refused. Unused low bits of the last character are ignored, as
// RFC 4648 decoders commonly do. It reports false when s is not such base64 or decodes to more
// than len(dst) bytes. It does not allocate.
func decodeBase64(dst []byte, s string) (int, bool) {
	if len(s)%4 == 0 && len(s) > 0 {
		// Padding: at most two '=' at the end of a string whose length is a multiple of 4.
		if s[len(s)-1] == '=' {
			s = s[:len(s)-1]
			if s[len(s)-1] == '=' {
				s = s[:len(s)-1]
			}
		}
	}
	if len(s) > maxBase64 || len(s)%4 == 1 {
		return 0, false
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	var src [maxBase64]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' || c == '=' { // the decoder would skip \r and \n
			return 0, false
		}
		src[i] = c
	}
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

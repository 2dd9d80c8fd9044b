package signing

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// decodeBase64Stdlib is decodeBase64 as it was written before its table decoder: the padding
// rules, then the URL-safe characters mapped to the standard ones and encoding/base64's
// RawStdEncoding. decodeBase64 must agree with it on every input (TestDecodeBase64AgreesWithStdlib,
// FuzzDecodeBase64).
func decodeBase64Stdlib(dst []byte, s string) (int, bool) {
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
	src := []byte(s)
	for i, c := range src {
		switch c {
		case '\r', '\n', '=':
			return 0, false
		case '-':
			src[i] = '+'
		case '_':
			src[i] = '/'
		}
	}
	enc := base64.RawStdEncoding
	if enc.DecodedLen(len(src)) > len(dst) {
		return 0, false
	}
	n, err := enc.Decode(dst, src)
	if err != nil {
		return 0, false
	}
	return n, true
}

// checkDecodeBase64 compares decodeBase64 with decodeBase64Stdlib on s, into buffers of every
// size up to 72 bytes, and checks that a successful decodeBase64 writes nothing past the bytes
// it decodes.
func checkDecodeBase64(t *testing.T, s string) {
	t.Helper()
	for size := 0; size <= 72; size++ {
		got, want := bytes.Repeat([]byte{0xa5}, size), make([]byte, size)
		n, ok := decodeBase64(got, s)
		wn, wok := decodeBase64Stdlib(want, s)
		if ok != wok || n != wn || !bytes.Equal(got[:n], want[:wn]) {
			t.Fatalf("decodeBase64(%q) into %d bytes = %x, %v; encoding/base64: %x, %v", s, size, got[:n], ok, want[:wn], wok)
		}
		if ok && bytes.Count(got[n:], []byte{0xa5}) != size-n {
			t.Fatalf("decodeBase64(%q) into %d bytes wrote past the %d it decoded: %x", s, size, n, got)
		}
	}
}

// TestDecodeBase64AgreesWithStdlib checks every one- and two-character text, every character in
// each position of a four-character group and of a block of eight, and texts of every length up
// to past maxBase64.
func TestDecodeBase64AgreesWithStdlib(t *testing.T) {
	for a := range 256 {
		checkDecodeBase64(t, string([]byte{byte(a)}))
		for b := range 256 {
			checkDecodeBase64(t, string([]byte{byte(a), byte(b)}))
		}
	}
	for pos := range 4 {
		for c := range 256 {
			g := []byte("Zm9v")
			g[pos] = byte(c)
			checkDecodeBase64(t, string(g))
			checkDecodeBase64(t, "QUJD"+string(g)+"Zg")
			// In each half of a block of eight characters, which texts of eleven characters
			// and more are decoded by.
			checkDecodeBase64(t, string(g)+"QUJDZm9v")
			checkDecodeBase64(t, "QUJD"+string(g)+"Zm9vYg")
		}
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
	for n := 0; n <= maxBase64+6; n++ {
		s := make([]byte, n)
		for i := range s {
			s[i] = alphabet[(i*7+n)%len(alphabet)]
		}
		checkDecodeBase64(t, string(s))
		checkDecodeBase64(t, string(s)+"=")
		checkDecodeBase64(t, string(s)+"==")
	}
}

func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "Zg", "Zg==", "Zm9vYg", "-_8", "Zm\n9v", "Z=g=", "Zh",
		"XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkDecodeBase64(t, s)
	})
}

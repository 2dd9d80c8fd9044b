package climisuse

import (
	"strings"
	"testing"

	"github.com/roomproto/roomproto/signing"
)

// TestKeyFile: the --key file of sign and sign-event, "one line ed25519 <version> <seed>".
func TestKeyFile(t *testing.T) {
	fixtures(t)
	k, err := signing.ParseSigningKey([]byte(keyLine("a.example")))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signing.SignJSON([]byte(`{"a":1}`), "a.example", k)
	if err != nil {
		t.Fatal(err)
	}
	sig := string(signed) + "\n"
	s := b64(seed("a.example"))
	keyCase := func(name, content string, w want, finding string) cliCase {
		f := writeFile(t, "key-"+strings.NewReplacer(" ", "-", "/", "-").Replace(name), []byte(content))
		return cliCase{name: name, args: []string{"sign", "--server-name", "a.example", "--key", f, "obj.json"}, want: w, finding: finding}
	}
	runCases(t, []cliCase{
		keyCase("plain", "ed25519 1 "+s+"\n", ok(sig), ""),
		keyCase("no newline", "ed25519 1 "+s, ok(sig), ""),
		keyCase("CRLF", "ed25519 1 "+s+"\r\n", ok(sig), ""),
		keyCase("blank lines around", "\n\ned25519 1 "+s+"\n\n", ok(sig), ""),
		keyCase("tabs and runs of spaces", "ed25519\t1   "+s+"\n", ok(sig), ""),
		keyCase("padded seed", "ed25519 1 "+s+"=\n", ok(sig), ""),
		keyCase("URL-safe seed", "ed25519 1 "+strings.NewReplacer("+", "-", "/", "_").Replace(s)+"\n", ok(sig), ""),
		keyCase("a comment line", "# key of a.example\ned25519 1 "+s+"\n", fails("more than one line"), ""),
		keyCase("two keys", "ed25519 1 "+s+"\ned25519 2 "+s+"\n", fails("more than one line"), ""),
		keyCase("seed of 31 bytes", "ed25519 1 "+b64(seed("a.example")[:31])+"\n", fails("32 bytes"), ""),
		keyCase("seed of 33 bytes", "ed25519 1 "+b64(append(seed("a.example"), 0))+"\n", fails("32 bytes"), ""),
		keyCase("seed of 64 bytes (a private key)", "ed25519 1 "+b64(append(seed("a.example"), seed("b")...))+"\n", fails("32 bytes"), ""),
		keyCase("other algorithm", "curve25519 1 "+s+"\n", fails(`algorithm "curve25519"`), ""),
		keyCase("algorithm in capitals", "ED25519 1 "+s+"\n", fails(`algorithm "ED25519"`), ""),
		keyCase("key version with a colon", "ed25519 a:b "+s+"\n", fails("key version"), ""),
		keyCase("Synapse-style version", "ed25519 a_AbCd "+s+"\n", okOut(func(out string) string {
			if !strings.Contains(out, `"ed25519:a_AbCd":`) {
				return "want a signature by ed25519:a_AbCd"
			}
			return ""
		}), ""),
		keyCase("two fields", "ed25519 "+s+"\n", fails("want 3 fields"), ""),
		keyCase("four fields", "ed25519 1 "+s+" x\n", fails("want 3 fields"), ""),
		keyCase("BOM", "\xef\xbb\xbfed25519 1 "+s+"\n", fails("ed25519"), ""),
		keyCase("empty file", "", fails("empty key file"), ""),
		keyCase("a --keys file given to --key", `{"a.example":{"ed25519:1":"`+pubKey("a.example")+`"}}`, fails("want 3 fields"), ""),
		{name: "key file missing", args: []string{"sign", "--server-name", "a.example", "--key", "no-such.key", "obj.json"}, want: fails("no-such.key")},
		{name: "key file is a directory", args: []string{"sign-event", "--room-version", "9", "--server-name", "a.example", "--key", "dir", "ev.json"}, want: fails("is a directory")},
	})
}

// TestKeysFile: the --keys file of verify, verify-event (and auth, verify-room, replay).
func TestKeysFile(t *testing.T) {
	fixtures(t)
	pk := pubKey("a.example")
	other := pubKey("b.example")
	valid := ok(`{"valid":true}` + "\n")
	reason := func(has string) want {
		return okOut(func(s string) string {
			if !strings.HasPrefix(s, `{"reason":"`) || !strings.HasSuffix(s, `","valid":false}`+"\n") || !strings.Contains(s, has) {
				return "want {\"reason\":...,\"valid\":false} naming " + has
			}
			return ""
		})
	}
	n := 0
	keysCase := func(name, content, event string, w want) cliCase {
		n++
		f := writeFile(t, "keys-"+strings.Repeat("x", n)+".json", []byte(content))
		return cliCase{name: name, args: []string{"verify-event", "--room-version", "9", "--keys", f, event}, want: w}
	}
	cases := []cliCase{
		keysCase("plain", `{"a.example":{"ed25519:1":"`+pk+`"}}`, "sev.json", valid),
		keysCase("CRLF and indentation", "{\r\n  \"a.example\": {\r\n    \"ed25519:1\": \""+pk+"\"\r\n  }\r\n}\r\n", "sev.json", valid),
		keysCase("another algorithm beside", `{"a.example":{"curve25519:1":"x","ed25519:1":"`+pk+`"}}`, "sev.json", valid),
		keysCase("key as an object", `{"a.example":{"ed25519:1":{"key":"`+pk+`"}}}`, "sev.json", valid),
		keysCase("key object with more members", `{"a.example":{"ed25519:1":{"key":"`+pk+`","old":true}}}`, "sev.json", valid),
		keysCase("duplicate key ID: the last counts (good last)", `{"a.example":{"ed25519:1":"`+other+`","ed25519:1":"`+pk+`"}}`, "sev.json", valid),
		keysCase("duplicate key ID: the last counts (bad last)", `{"a.example":{"ed25519:1":"`+pk+`","ed25519:1":"`+other+`"}}`, "sev.json", reason("bad signature")),
		keysCase("a key given both ways: the last counts", `{"a.example":{"ed25519:1":{"key":"`+pk+`","valid_until_ts":999},"ed25519:1":"`+pk+`"}}`, "sev.json", valid),
		keysCase("a key given both ways: expired last", `{"a.example":{"ed25519:1":"`+pk+`","ed25519:1":{"key":"`+pk+`","valid_until_ts":999}}}`, "sev.json", reason("expired")),
		keysCase("duplicate server: the last counts", `{"a.example":{"ed25519:1":"`+pk+`"},"a.example":{}}`, "sev.json", reason("no known key")),
		keysCase("keys of another server only", `{"b.example":{"ed25519:1":"`+other+`"}}`, "sev.json", reason("no known key")),
		keysCase("no keys", `{}`, "sev.json", reason("no known key")),
		keysCase("another server's key under the signer's name", `{"a.example":{"ed25519:1":"`+other+`"}}`, "sev.json", reason("bad signature")),
		keysCase("public key of 31 bytes", `{"a.example":{"ed25519:1":"`+b64(make([]byte, 31))+`"}}`, "sev.json", fails("32 bytes")),
		keysCase("key ID without version", `{"a.example":{"ed25519:":"`+pk+`"}}`, "sev.json", fails()),
		keysCase("valid_until_ts 0", `{"a.example":{"ed25519:1":{"key":"`+pk+`","valid_until_ts":0}}}`, "sev.json", fails("valid_until_ts")),
		keysCase("valid_until_ts a float", `{"a.example":{"ed25519:1":{"key":"`+pk+`","valid_until_ts":1.5}}}`, "sev.json", fails("valid_until_ts")),
		keysCase("a server's keys as a string", `{"a.example":"`+pk+`"}`, "sev.json", fails("must be an object")),
		keysCase("array", `[]`, "sev.json", fails("key ring must be a JSON object")),
		keysCase("empty file", ``, "sev.json", fails()),
		keysCase("two objects", `{}{}`, "sev.json", fails()),
		keysCase("the spec's server key response", `{"server_name":"a.example","verify_keys":{"ed25519:1":{"key":"`+pk+`"}},"valid_until_ts":5}`, "sev.json", fails()),
		keysCase("a --key file given to --keys", keyLine("a.example"), "sev.json", fails()),
		{name: "verify: keys of another server", args: []string{"verify", "--keys", "bkeys.json", "sev.json"}, want: reason("no known key")},
		{name: "verify: no keys", args: []string{"verify", "--keys", "nokeys.json", "sev.json"}, want: reason("no known key")},
		{name: "auth: --keys broken", args: []string{"auth", "--room-version", "9", "--auth-events", "ae3.json", "--keys", "obj.json", "msg.json"}, want: fails("--keys")},
		{name: "replay: --keys missing", args: []string{"replay", "--keys", "no-such.json"}, want: fails("no-such.json")},
	}
	// Validity from v5: a key that expired before origin_server_ts (1000) is skipped; equal
	// is valid; v4 ignores validity.
	for _, rv := range []string{"4", "5", "9", "12"} {
		ev := createV9
		if rv == "12" {
			ev = createV12
		}
		f := writeFile(t, "exp-ev-v"+rv+".json", signEvent(rv, []byte(ev)))
		for _, ts := range []string{"999", "1000"} {
			w := valid
			if ts == "999" && rv != "4" {
				w = reason("expired")
			}
			kf := writeFile(t, "exp-keys-"+ts+".json", []byte(`{"a.example":{"ed25519:1":{"key":"`+pk+`","valid_until_ts":`+ts+`}}}`))
			cases = append(cases, cliCase{name: "v" + rv + " key valid until " + ts + ", event at 1000",
				args: []string{"verify-event", "--room-version", rv, "--keys", kf, f}, want: w})
		}
	}
	runCases(t, cases)
}

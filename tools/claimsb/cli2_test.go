package claimsb

import (
	"encoding/base64"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/authgen"
)

// decisions.md (Cross-package) "Command line": input that is not JSON at all is unusable input
// (exit 1) in every command; JSON that is not an object, or an event breaking its version's
// format, is unusable input where the command must produce an output.
func TestCLINotJSONEverywhere(t *testing.T) {
	seed := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("a.example", "1").Private.Seed())
	key := file(t, "key", []byte("ed25519 1 "+seed+"\n"))
	keys := keysFile(t, "a.example")
	arr := file(t, "arr.json", []byte(`[]`))
	cmds := map[string][]string{
		"canonical":     {"canonical"},
		"redact":        {"redact", "--room-version", "10"},
		"content-hash":  {"content-hash"},
		"event-id":      {"event-id", "--room-version", "10"},
		"sign":          {"sign", "--server-name", "a.example", "--key", key},
		"sign-event":    {"sign-event", "--room-version", "10", "--server-name", "a.example", "--key", key},
		"verify":        {"verify", "--keys", keys},
		"verify-event":  {"verify-event", "--room-version", "10", "--keys", keys},
		"auth-events":   {"auth-events", "--room-version", "10"},
		"auth":          {"auth", "--room-version", "10", "--auth-events", arr},
		"join-decision": {"join-decision"},
		"policy-check":  {"policy-check", "--room-version", "10", "--state", arr},
		"verify-room":   {"verify-room", "--keys", keys, "--quiet"},
		"replay -":      {"replay", "-"},
	}
	for name, args := range cmds {
		for _, in := range []string{"", "nul", "tru", `{"a":`, "1 2"} {
			o, e, c := cli(t, []byte(in), args...)
			unusable(t, name+" on "+in, o, e, c)
		}
	}
	// not an object where an output is needed
	for _, name := range []string{"redact", "content-hash", "event-id", "sign-event", "auth-events"} {
		for _, in := range []string{`[1]`, `"x"`} {
			o, e, c := cli(t, []byte(in), cmds[name]...)
			unusable(t, name+" on "+in, o, e, c)
		}
	}
	o, e, c := cli(t, []byte(`{"a":1}`), cmds["auth-events"]...)
	unusable(t, "auth-events on {\"a\":1}", o, e, c)
	o, e, c = cli(t, []byte(`[1]`), "sign", "--server-name", "a.example", "--key", key)
	unusable(t, "sign on [1]", o, e, c)
}

// decisions.md (Cross-package) "Command line": "an event that breaks its room version's format
// is ... unusable input where the command must produce an output". redact, event-id and
// sign-event answer {"a":1} with an output and exit 0.
func TestCLINonEventObject(t *testing.T) {
	seed := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("a.example", "1").Private.Seed())
	key := file(t, "key", []byte("ed25519 1 "+seed+"\n"))
	var ok []string
	for name, args := range map[string][]string{
		"redact":     {"redact", "--room-version", "10"},
		"event-id":   {"event-id", "--room-version", "10"},
		"sign-event": {"sign-event", "--room-version", "10", "--server-name", "a.example", "--key", key},
	} {
		if _, _, c := cli(t, []byte(`{"a":1}`), args...); c == 0 {
			ok = append(ok, name)
		}
	}
	// decisions.md Cross-package "Command line" (settled by B7): these commands take any JSON
	// object, as the functions behind them do (signing 8).
	if len(ok) != 3 {
		t.Errorf("exit 0 on {\"a\":1} only for %v, want redact, event-id and sign-event", ok)
	}
}

//go:build goexperiment.jsonv2

package v12cmp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	jsonv2 "encoding/json/v2"
	"fmt"
	"time"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	mpdu "maunium.net/go/mautrix/federation/pdu"
	"maunium.net/go/mautrix/id"
)

// M is a JSON object being built.
type M = difftool.M

// A is a JSON array.
type A = []any

var v12 = authgen.Version("12")

// deep copies a JSON value built from M/A.
func deep(v any) any {
	return decodeAny(difftool.Enc(v))
}

func decodeAny(b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		panic(err) // invariant: the harness encoded this value itself
	}
	return x
}

// ---- keys ----

var servers = []string{"a.example", "a.example:8448", "b.example", "c.example", "d.example", "evil.example"}

type keyring struct {
	priv map[string]signing.SigningKey
}

func newKeyring() *keyring {
	k := &keyring{priv: map[string]signing.SigningKey{}}
	for _, s := range servers {
		seed := sha256.Sum256([]byte("mtxv12 key " + s))
		sk, err := signing.NewSigningKey("1", seed[:])
		if err != nil {
			panic(err) // invariant: a 32-byte seed and a valid key version
		}
		k.priv[s] = sk
	}
	return k
}

// PublicKey implements signing.KeyLookup.
func (k *keyring) PublicKey(server, keyID string) (signing.PublicKey, bool) {
	sk, ok := k.priv[server]
	if !ok || keyID != sk.KeyID() {
		return signing.PublicKey{}, false
	}
	return signing.PublicKey{Key: sk.Public()}, true
}

// mtxKey is mautrix's GetKeyFunc.
func (k *keyring) mtxKey(server string, keyID id.KeyID, _ time.Time) (id.SigningKey, time.Time, error) {
	sk, ok := k.priv[server]
	if !ok || string(keyID) != sk.KeyID() {
		return "", time.Time{}, nil
	}
	return id.SigningKey(base64.RawStdEncoding.EncodeToString(sk.Public())), time.Now().Add(365 * 24 * time.Hour), nil
}

// sign signs the event as server (roomproto's SignEvent) and returns canonical JSON.
func (k *keyring) sign(v roomversion.Version, m M, server string) []byte {
	out, err := signing.SignEvent(v, difftool.Enc(m), server, k.priv[server])
	if err != nil {
		panic(fmt.Errorf("sign: %w: %s", err, difftool.Enc(m))) // invariant: the harness built this event itself
	}
	return out
}

func (k *keyring) countersign(v roomversion.Version, raw []byte, server string) []byte {
	out, err := signing.CountersignEvent(v, raw, server, k.priv[server])
	if err != nil {
		panic(err) // invariant: an event the harness signed itself
	}
	return out
}

// ---- events on both sides ----

type evt struct {
	raw []byte
	rp  *pdu.Event
	mx  *mpdu.PDU
	id  string
}

// parseBoth parses raw for roomproto (signing.ParseEvent) and mautrix (json v2 into pdu.PDU).
func parseBoth(v roomversion.Version, raw []byte) (*evt, error) {
	e, err := signing.ParseEvent(v, raw)
	if err != nil {
		return nil, err
	}
	var p mpdu.PDU
	if err := jsonv2.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("mautrix unmarshal: %w", err)
	}
	return &evt{raw: raw, rp: e, mx: &p, id: e.EventID}, nil
}

func mustParse(v roomversion.Version, raw []byte) *evt {
	e, err := parseBoth(v, raw)
	if err != nil {
		panic(fmt.Errorf("%w: %s", err, raw)) // invariant: the harness built this event itself
	}
	return e
}

func serverOf(user string) string {
	s, _ := signing.ServerName(user)
	return s
}

func jsonStr(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

type mpduPDU = mpdu.PDU

func unmarshalMx(raw []byte) (*mpdu.PDU, error) {
	var p mpdu.PDU
	if err := jsonv2.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

//go:build goexperiment.jsonv2

package pducmp

import (
	"bytes"
	"encoding/json"
	"math/rand"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// decodeObj reads JSON into the generator's ordered form (numbers kept as written).
func decodeObj(d *json.Decoder) any {
	tok, err := d.Token()
	if err != nil {
		panic(err) // invariant: reproducers are valid JSON written in the tests
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			o := Obj{}
			for d.More() {
				k, _ := d.Token()
				o = append(o, KV{K: k.(string), V: decodeObj(d)})
			}
			d.Token()
			return o
		}
		a := Arr{}
		for d.More() {
			a = append(a, decodeObj(d))
		}
		d.Token()
		return a
	case json.Number:
		return RawTok(t.String())
	}
	return tok
}

// ReproduceEvent runs the comparison sub ("redact", "redact-content", "content-hash",
// "ref-hash", "event-id") on the event raw of room version ver into t, as areas redact and
// hash do; feature names the generator's odd feature the event carries ("" for none).
func ReproduceEvent(t *difftool.Tally, sub string, ver int, raw, feature string) {
	rc := newRecorder(t, sub)
	d := json.NewDecoder(bytes.NewReader([]byte(raw)))
	d.UseNumber()
	ev := decodeObj(d).(Obj)
	typ, _ := ev.get("type")
	ts, _ := typ.(string)
	compareEvent(rc, Gen{Ver: ver, Type: ts, Ev: ev, Feature: feature}, []byte(raw))
}

// ReproduceSign signs a generated event of room version ver with roomproto, applies the named
// mutation and compares both sides' verdicts into t, as area sign does.
func ReproduceSign(t *difftool.Tally, ver int, mutation string) {
	rc := newRecorder(t, "sign")
	r := rand.New(rand.NewSource(1))
	m := genSignEvent(r, ver)
	signers := signersOf(ver, m)
	signed, err := rpSign(ver, difftool.Enc(m), signers, "1")
	if err != nil {
		t.Problem("sign: "+err.Error(), "")
		return
	}
	compareVerdicts(rc, "sign", r, ver, signed, signers, "rp", mutationByName[mutation])
}

// ReproduceSelect compares the auth events selection of the event raw into t, as area select
// does.
func ReproduceSelect(t *difftool.Tally, ver int, raw string) {
	selectOne(newRecorder(t, "select"), ver, []byte(raw))
}

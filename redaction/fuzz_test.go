package redaction_test

import (
	"bytes"
	"testing"

	"github.com/roomproto/roomproto/pdu"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// FuzzRedact checks, for arbitrary bytes and every room version, that Redact never panics, and
// that when it succeeds its output is canonical JSON of the version, redacting it again gives
// the same bytes, and it equals the output of the spec-list model. Seeds: every fixture input
// and the benchmark corpus.
func FuzzRedact(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.input, uint8(0))
	}
	for _, e := range loadCorpus(f).events {
		f.Add(e, uint8(8))
	}
	all := roomversion.All()
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		v := all[int(which)%len(all)]
		// The canonical-input entry points trust their input to be canonical; on anything
		// else their result is unspecified, but they must not panic or write outside dst.
		_, _ = redaction.RedactCanonical(v, data)
		if out, err := redaction.AppendSignedBytes([]byte("dst"), v, data); string(out[:3]) != "dst" || err != nil && len(out) != 3 {
			t.Fatalf("AppendSignedBytes changed dst: %q, %v", out, err)
		}
		in := bytes.Clone(data)
		out, err := redaction.Redact(v, in)
		if !bytes.Equal(in, data) {
			t.Fatal("Redact modified its input")
		}
		compareWithModel(t, v, data)
		if err != nil {
			return
		}
		canon, cerr := canonicaljson.Append(nil, out, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
		if cerr != nil || !bytes.Equal(canon, out) {
			t.Fatalf("output not canonical (%v): %q", cerr, out)
		}
		again, err := redaction.Redact(v, out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent (%v):\n%q\n%q", err, out, again)
		}
		// Differential: the canonical-input path agrees with the bytes path.
		whole, err := canonicaljson.Append(nil, data, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
		if err != nil {
			t.Fatalf("Redact accepted what canonicaljson refuses: %v", err)
		}
		viaCanon, err := redaction.RedactCanonical(v, whole)
		if err != nil || !bytes.Equal(viaCanon, out) {
			t.Fatalf("RedactCanonical disagrees with Redact (%v):\n%q\n%q", err, viaCanon, out)
		}
		signed, err := redaction.AppendSignedBytes(nil, v, whole)
		if want := withoutSignatures(t, out); err != nil || !bytes.Equal(signed, want) {
			t.Fatalf("AppendSignedBytes disagrees with Redact less signatures (%v):\n%q\n%q", err, signed, want)
		}
		var idx canonicaljson.Index
		if _, err := canonicaljson.AppendIndexed(nil, whole, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}, &idx); err != nil {
			t.Fatalf("AppendIndexed refuses its own output: %v", err)
		}
		if viaIndex, err := redaction.AppendSignedBytesIndexed(nil, v, whole, &idx); err != nil || !bytes.Equal(viaIndex, signed) {
			t.Fatalf("AppendSignedBytesIndexed disagrees with AppendSignedBytes (%v):\n%q\n%q", err, viaIndex, signed)
		}
	})
}

// FuzzApplyRedaction parses two arbitrary events and checks that Decide and ApplyRedaction
// never panic, that ApplyRedaction succeeds exactly when the pair matches, and that its output
// is canonical JSON keeping the target's redacted form. Seeds: testdata/redaction/handling.json.
func FuzzApplyRedaction(f *testing.F) {
	for _, c := range loadHandlingTB(f) {
		if c.target != nil {
			f.Add(c.redaction, c.target, uint8(10), int64(50), int64(50))
			f.Add(c.redaction, c.target, uint8(0), int64(0), int64(50))
		}
	}
	all := roomversion.All()
	f.Fuzz(func(t *testing.T, redData, targetData []byte, which uint8, power, level int64) {
		v := all[int(which)%len(all)]
		red, err := pdu.Parse(v, redData)
		if err != nil {
			return
		}
		target, err := pdu.Parse(v, targetData)
		if err != nil {
			return
		}
		if target.EventID == "" {
			target.EventID = red.Redacts
		}
		d, reason := redaction.Decide(v, red, target, power, level)
		if reason == "" || (d != redaction.Apply && d != redaction.Ignore) {
			t.Fatalf("Decide with a target: %s %q", d, reason)
		}
		out, err := redaction.ApplyRedaction(target, red)
		if d == redaction.Apply && err != nil {
			t.Fatalf("Decide applies but ApplyRedaction fails: %v", err)
		}
		if err != nil {
			return
		}
		canon, cerr := canonicaljson.Append(nil, out, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
		if cerr != nil || !bytes.Equal(canon, out) {
			t.Fatalf("output not canonical (%v): %q", cerr, out)
		}
		want, err := redaction.Redact(v, target.Raw())
		if err != nil {
			t.Fatal(err)
		}
		got, err := redaction.Redact(v, out)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("applied copy does not redact to the target's redacted form: %v", err)
		}
	})
}

// FuzzAppendSignedBytesIndexed gives AppendSignedBytesIndexed arbitrary bytes with an arbitrary
// index (offsets read from shape, nudged towards the event's real members): it must never panic,
// never change what dst holds, and with the index AppendIndexed makes of canonical bytes it must
// agree with AppendSignedBytes.
func FuzzAppendSignedBytesIndexed(f *testing.F) {
	for _, e := range loadCorpus(f).events {
		f.Add(e, []byte{3, 1, 9, 0, 2, 7, 1, 1, 4, 200, 3, 3}, uint8(8))
	}
	f.Add([]byte(`{"content":{"body":"x"},"type":"m.room.member"}`), []byte{0, 10, 11, 1, 1, 40, 47, 48}, uint8(0))
	all := roomversion.All()
	f.Fuzz(func(t *testing.T, data, shape []byte, which uint8) {
		v := all[int(which)%len(all)]
		// An arbitrary index: each 5 bytes of shape make a member, its offsets scaled to data.
		var idx canonicaljson.Index
		at := func(b byte) int { return int(b) * (len(data) + 2) / 255 }
		for i := 0; i+5 <= len(shape) && i < 200; i += 5 {
			m := canonicaljson.Member{Start: at(shape[i]), Value: at(shape[i+1]), End: at(shape[i+2]),
				NestedStart: int(shape[i+3] % 8), NestedEnd: int(shape[i+4] % 8)}
			if shape[i]&1 == 0 {
				idx.Members = append(idx.Members, m)
			} else {
				idx.Nested = append(idx.Nested, m)
			}
		}
		if out, err := redaction.AppendSignedBytesIndexed([]byte("dst"), v, data, &idx); string(out[:3]) != "dst" || err != nil && len(out) != 3 {
			t.Fatalf("AppendSignedBytesIndexed changed dst: %q, %v", out, err)
		}
		canon, err := canonicaljson.AppendIndexed(nil, data, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}, &idx)
		if err != nil || !bytes.Equal(canon, data) {
			return
		}
		want, werr := redaction.AppendSignedBytes(nil, v, canon)
		got, gerr := redaction.AppendSignedBytesIndexed(nil, v, canon, &idx)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("indexed %q, %v; scanned %q, %v", got, gerr, want, werr)
		}
	})
}

package claimsg

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// indexGo is the file of CanonicalIndexed's doc comment.
const indexGo = "canonicaljson/index.go"

// jsonTexts are JSON texts beyond events for CanonicalIndexed: canonical ones with escapes in
// keys and in values, non-objects, nesting, and texts that are not canonical or not JSON.
func jsonTexts() [][]byte {
	s := []string{
		`{}`, `[]`, `1`, `"s"`, `null`, `true`, `[1,{"b":2,"a":1}]`, `{"a":{}}`, `{"a":{"b":{}}}`,
		`{"a\"b":1}`, `{"\\":1}`, `{"\u0001":1}`, `{"a":1,"b\n":2}`, `{"\u001f":{"x":1}}`,
		`{"a":"x\"y"}`, `{"a":"\u0000"}`, `{"a":"\\"}`, `{"a":{"k\"":1}}`, `{"é":"ü","z":"\u2028"}`,
		`{"a":[1,2,{"c":3}],"b":{"d":[],"e":{"f":"g"}}}`,
		`{"b":1,"a":2}`, `{ "a":1}`, `{"a":1} `, `{"a":1,"a":2}`, `{"a":1.5}`, `{"a":1e3}`, `{"a":-0}`,
		`{"a":9007199254740992}`, `{"a":"\ud800"}`, `{"a":"\u0041"}`, `{"a":"\/"}`, `{"\u0061":1}`,
		`{"a":01}`, `{"a":1,}`, `{"a"}`, `{`, ``, "\xff", `{"a":"` + "\xff" + `"}`,
		`{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		`{"a":[[[[1]]]]}`, `{"a":{"b":{"c":{"d":1}}}}`,
	}
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

// canonOpts are the options CanonicalIndexed is called with.
var canonOpts = []canonicaljson.Options{{Strict: true}, {Strict: false}, {Strict: true, MaxDepth: 3}, {MaxDepth: 2}}

// bufForms returns the forms of buf CanonicalIndexed is given: nil, empty with room, a prefix
// with no room, a prefix with room.
func bufForms(n int) [][]byte {
	roomy := make([]byte, 3, 3+n+64)
	copy(roomy, "pre")
	return [][]byte{nil, make([]byte, 0, n+64), []byte("PREFIX"), roomy}
}

// TestCanonicalIndexedContract: every sentence of CanonicalIndexed's doc, over the inputs of the
// EventBuffer tests (events of every version, malformed ones) and jsonTexts, under four options
// and four forms of buf:
//   - "returns the canonical JSON of data with AppendIndexed's index of it in idx, as
//     AppendIndexed(buf, data, opts, idx) does": when same is false, out and idx are exactly
//     AppendIndexed's (buf's bytes first);
//   - "when data is already in canonical form ... it returns data itself (same is true) rather
//     than a copy of it appended to buf": out is data (same array, length and capacity), data is
//     its own canonical form, buf is untouched, and idx is AppendIndexed's index of data alone
//     (what AppendIndexed(nil, ...) records: idx describes out);
//   - "same is false whenever the output was written into buf": out starts with buf's bytes, in
//     buf's array when it had room;
//   - "Errors are AppendIndexed's": the same error (type, text, sentinels, offset), same false.
func TestCanonicalIndexedContract(t *testing.T) {
	claimkit.WantText(t, indexGo, "CanonicalIndexed returns the canonical JSON of data with AppendIndexed's index of it in idx, as AppendIndexed(buf, data, opts, idx) does, except that when data is already in canonical form, as the fast check for such input sees it (see check.go), it returns data itself (same is true) rather than a copy of it appended to buf")
	claimkit.WantText(t, indexGo, "same is false whenever the output was written into buf")
	claimkit.WantText(t, indexGo, "Errors are AppendIndexed's. idx must not be nil.")
	var texts [][]byte
	for _, c := range allInputs(t) {
		texts = append(texts, c.data)
	}
	texts = append(texts, jsonTexts()...)
	var idx canonicaljson.Index // reused throughout, as a caller would
	n := map[string]int{}
	opts := canonOpts
	if raceEnabled {
		opts = opts[:2] // strict and lenient: the depth limits run without -race
	}
	for _, data := range texts {
		for _, opts := range opts {
			for bi, buf := range bufForms(len(data)) {
				if raceEnabled && (bi == 1 || bi == 2) {
					continue // nil and a prefix with room under -race
				}
				kind := checkCanonicalIndexed(t, data, opts, buf, &idx)
				n[kind]++
				if bi == 0 {
					var fresh canonicaljson.Index
					checkCanonicalIndexed(t, data, opts, nil, &fresh)
				}
			}
		}
	}
	t.Logf("%d texts: %v", len(texts), n)
	least := 1000
	if raceEnabled {
		least = 400
	}
	if n["same"] < least || n["written, canonical"] < 20 || n["written"] < least || n["error"] < least {
		t.Fatalf("too few cases of a kind: %v", n)
	}
}

// checkCanonicalIndexed checks one call (see TestCanonicalIndexedContract) and returns its kind:
// "same", "written, canonical" (data was canonical but written into buf), "written", "error".
func checkCanonicalIndexed(t *testing.T, data []byte, opts canonicaljson.Options, buf []byte, idx *canonicaljson.Index) string {
	t.Helper()
	orig := bytes.Clone(data)
	var refIdx canonicaljson.Index
	refOut, refErr := canonicaljson.AppendIndexed(bytes.Clone(buf), orig, opts, &refIdx)
	bufBefore := bytes.Clone(buf[:cap(buf)])
	out, same, err := canonicaljson.CanonicalIndexed(buf, data, opts, idx)
	where := fmt.Sprintf("CanonicalIndexed(%q, %.80q, %+v)", buf, data, opts)
	if errKey(err) != errKey(refErr) {
		t.Fatalf("%s: error %s\nAppendIndexed's %s", where, errKey(err), errKey(refErr))
	}
	if !bytes.Equal(data, orig) {
		t.Fatalf("%s changed data", where)
	}
	if err != nil {
		if same {
			t.Fatalf("%s: an error and same", where)
		}
		if !bytes.Equal(out, refOut) {
			t.Fatalf("%s: on error out %q, AppendIndexed's %q", where, out, refOut)
		}
		return "error"
	}
	canon := refOut[len(buf):]
	if same {
		if !sameArray(out, data) || len(out) != len(data) || cap(out) != cap(data) {
			t.Fatalf("%s: same, but out is not data", where)
		}
		if !bytes.Equal(data, canon) {
			t.Fatalf("%s: same, but data is not canonical: %q", where, canon)
		}
		if !bytes.Equal(buf[:cap(buf)], bufBefore) {
			t.Fatalf("%s: same, but buf was written", where)
		}
		var alone canonicaljson.Index
		if _, err := canonicaljson.AppendIndexed(nil, data, opts, &alone); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(idx.Members, alone.Members) || !slices.Equal(idx.Nested, alone.Nested) {
			t.Fatalf("%s: same, but idx %+v %+v is not the index of data %+v %+v", where, idx.Members, idx.Nested, alone.Members, alone.Nested)
		}
		return "same"
	}
	if !bytes.Equal(out, refOut) {
		t.Fatalf("%s = %q, AppendIndexed's %q", where, out, refOut)
	}
	if !slices.Equal(idx.Members, refIdx.Members) || !slices.Equal(idx.Nested, refIdx.Nested) {
		t.Fatalf("%s: idx %+v %+v, AppendIndexed's %+v %+v", where, idx.Members, idx.Nested, refIdx.Members, refIdx.Nested)
	}
	if cap(buf) >= len(refOut) && cap(buf) > 0 && !sameArray(out, buf) {
		t.Fatalf("%s: not written into buf, which had room", where)
	}
	if bytes.Equal(data, canon) {
		return "written, canonical"
	}
	return "written"
}

// TestCanonicalIndexedNoVerdict: "same is false whenever the output was written into buf, which
// happens for some canonical texts too (a key with an escape), so it is no verdict on data":
// canonical texts with an escape in a key give same false (at the top level and nested); and
// which other canonical texts do is recorded: in strict mode none of jsonTexts' canonical texts
// without an escaped key; in lenient mode also the texts that strict mode refuses and lenient
// mode writes as they are (a fraction, an integer out of the strict range, a lone surrogate).
func TestCanonicalIndexedNoVerdict(t *testing.T) {
	claimkit.WantText(t, indexGo, "which happens for some canonical texts too (a key with an escape), so it is no verdict on data.")
	var idx canonicaljson.Index
	for _, text := range []string{`{"a\"b":1}`, `{"\\":1}`, `{"\u0001":1}`, `{"a":1,"b\n":2}`, `{"a":{"k\"":1}}`, `{"\u001f":{"x":1}}`} {
		data := []byte(text)
		if c, err := canonicaljson.CanonicalStrict(data); err != nil || !bytes.Equal(c, data) {
			t.Fatalf("%s is not canonical: %s %v", text, c, err)
		}
		out, same, err := canonicaljson.CanonicalIndexed(nil, data, canonicaljson.Options{Strict: true}, &idx)
		if err != nil || same || !bytes.Equal(out, data) {
			t.Fatalf("%s: same %v, %q, %v", text, same, out, err)
		}
	}
	var others []string
	for _, data := range jsonTexts() {
		c, err := canonicaljson.CanonicalStrict(data)
		if err != nil || !bytes.Equal(c, data) {
			continue
		}
		_, same, _ := canonicaljson.CanonicalIndexed(nil, data, canonicaljson.Options{Strict: true}, &idx)
		if !same && !escapedKey(data) {
			others = append(others, string(data))
		}
	}
	if len(others) > 0 {
		t.Fatalf("canonical texts without an escaped key that give same false: %q", others)
	}
	for _, text := range []string{`{"a":1.5}`, `{"a":9007199254740992}`, `{"a":"\ud800"}`} {
		data := []byte(text)
		out, same, err := canonicaljson.CanonicalIndexed(nil, data, canonicaljson.Options{}, &idx)
		if err != nil || same || !bytes.Equal(out, data) {
			t.Fatalf("lenient %s: %q, same %v, %v", text, out, same, err)
		}
	}
}

// escapedKey reports whether the object text data has a key with a backslash (at any depth):
// a backslash followed, after its string, by a colon.
func escapedKey(data []byte) bool {
	in, esc := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case in && c == '\\':
			esc = true
			i++
		case in && c == '"':
			in = false
			if esc && i+1 < len(data) && data[i+1] == ':' {
				return true
			}
		case !in && c == '"':
			in, esc = true, false
		}
	}
	return false
}

// TestCanonicalIndexedCallerNeedNotCopy: "a caller that keeps data when it is canonical then need
// not copy it, nor compare the copy with data": whenever same is true, data is byte for byte the
// canonical form Append writes, under the options given (over every input, also lenient texts
// strict mode refuses and the reverse).
func TestCanonicalIndexedCallerNeedNotCopy(t *testing.T) {
	claimkit.WantText(t, indexGo, "a caller that keeps data when it is canonical then need not copy it, nor compare the copy with data.")
	var idx canonicaljson.Index
	n := 0
	texts := jsonTexts()
	for _, c := range allInputs(t) {
		texts = append(texts, c.data)
	}
	for _, data := range texts {
		for _, opts := range canonOpts {
			out, same, err := canonicaljson.CanonicalIndexed(nil, data, opts, &idx)
			if !same {
				continue
			}
			want, werr := canonicaljson.Append(nil, data, opts)
			if err != nil || werr != nil || !bytes.Equal(out, want) || !bytes.Equal(data, want) {
				t.Fatalf("%.60q %+v: same, but Append gives %q %v", data, opts, want, werr)
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d", n)
	}
}

// TestCanonicalIndexedNilIndex: "idx must not be nil": a nil idx panics (AppendIndexed takes
// nil to mean Append; CanonicalIndexed does not), for canonical input and other.
func TestCanonicalIndexedNilIndex(t *testing.T) {
	for _, text := range []string{`{"a":1}`, `{ "a":1}`, `{`} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: a nil idx does not panic", text)
				}
			}()
			canonicaljson.CanonicalIndexed(nil, []byte(text), canonicaljson.Options{}, nil)
		}()
	}
}

// TestCanonicalIndexedBufAliasesData: buf sharing data's memory (data[:0], data[:k] with room,
// data itself, a slice of data's spare capacity) gives AppendIndexed's output for a copy of
// data, written after buf's bytes; same is only ever reported with out being data.
func TestCanonicalIndexedBufAliasesData(t *testing.T) {
	texts := []string{`{ "b":2, "a":{"d":1, "c":[1, 2]}}`, `{"a":1}`, `{"b":1,"a":"\u0041"}`, `{"a":1.5}`, `{"a":{"b":1}}`}
	for _, text := range texts {
		for _, opts := range []canonicaljson.Options{{Strict: true}, {}} {
			for form := range 5 {
				store := make([]byte, len(text), 4*len(text)+64)
				copy(store, text)
				data := store[:len(text)]
				var buf []byte
				switch form {
				case 0:
					buf = data[:0]
				case 1:
					buf = data[:3]
				case 2:
					buf = data
				case 3:
					buf = store[len(text)+1 : len(text)+1]
				case 4:
					buf = data[2:2]
				}
				prefix := bytes.Clone(buf)
				var refIdx, idx canonicaljson.Index
				ref, rerr := canonicaljson.AppendIndexed(bytes.Clone(prefix), []byte(text), opts, &refIdx)
				out, same, err := canonicaljson.CanonicalIndexed(buf, data, opts, &idx)
				where := fmt.Sprintf("%s %+v, buf form %d", text, opts, form)
				if errKey(err) != errKey(rerr) {
					t.Fatalf("%s: %v, want %v", where, err, rerr)
				}
				if err != nil {
					continue
				}
				if same {
					if !sameArray(out, data) || string(out) != text {
						t.Fatalf("%s: same, out %q", where, out)
					}
					continue
				}
				if !bytes.Equal(out, ref) || !slices.Equal(idx.Members, refIdx.Members) || !slices.Equal(idx.Nested, refIdx.Nested) {
					t.Fatalf("%s: %q, AppendIndexed of a copy %q", where, out, ref)
				}
			}
		}
	}
}

// TestCanonicalIndexedSameIsData: when same is true out is data, so writing data afterwards
// changes out (the contract the caller takes on: pdu keeps such input, SECURITY.md item 10).
func TestCanonicalIndexedSameIsData(t *testing.T) {
	data := []byte(`{"a":{"b":1},"c":"d"}`)
	var idx canonicaljson.Index
	out, same, err := canonicaljson.CanonicalIndexed(make([]byte, 0, 64), data, canonicaljson.Options{Strict: true}, &idx)
	if err != nil || !same {
		t.Fatalf("%v %v", same, err)
	}
	data[2] = 'z'
	if out[2] != 'z' {
		t.Fatal("out is not data")
	}
}

// TestCanonicalIndexedConcurrent: calls with distinct indexes and buffers at once (-race) give
// each the sequential results.
func TestCanonicalIndexedConcurrent(t *testing.T) {
	texts := jsonTexts()
	c := loadCorpus(t)
	texts = append(append(texts, c.file...), c.wire...)
	want := make([]string, len(texts))
	for i, data := range texts {
		var idx canonicaljson.Index
		out, same, err := canonicaljson.CanonicalIndexed(nil, data, canonicaljson.Options{Strict: true}, &idx)
		want[i] = fmt.Sprintf("%q %v %s %v %v", out, same, errKey(err), idx.Members, idx.Nested)
	}
	inParallel(t, 8, func(g int) string {
		var idx canonicaljson.Index
		buf := make([]byte, 0, 128)
		for round := range 20 {
			for i, data := range texts {
				out, same, err := canonicaljson.CanonicalIndexed(buf[:0], data, canonicaljson.Options{Strict: true}, &idx)
				if got := fmt.Sprintf("%q %v %s %v %v", out, same, errKey(err), idx.Members, idx.Nested); got != want[i] {
					return fmt.Sprintf("goroutine %d round %d text %d: %s\nwant %s", g, round, i, got, want[i])
				}
				if !same && err == nil {
					buf = out
				}
			}
		}
		return ""
	})
}

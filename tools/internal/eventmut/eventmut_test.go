package eventmut

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"testing"
)

// allVersions are tools/formatref's default -versions.
var allVersions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

// pinnedLabels are the version and label of the first 40 cases tools/formatref draws with
// -seed 1 (taken from its -dump before the generator moved here, tools/formatref/cases.go at
// bbad259).
var pinnedLabels = []string{
	`6 ref=prev_events:"$x:-"`,
	`1 extra=origin:5`,
	`8 sigs={"a.example":{"ed25519:1":5}}`,
	`1 json=string:"\u0000"`,
	`1 type=unsigned:["x"]`,
	`6 missing=room_id`,
	`4 count=auth_events:10`,
	`1 grammar=sender:"@ali:ce:a.example"`,
	`10 pair=prev_events:["$D3Pgd8_b4wehzYkthbAn7zaURq_f_QrY0dA6EnPCpw4"]`,
	`11 extra=event_id:"$x:a.example"`,
	`7 idlen=redacts:255:ascii`,
	`4 missing=prev_events`,
	`11 hashes={"sha256":null}`,
	`8 sigs={}`,
	`1 ref=event_id:"$x:a.example\\n"`,
	`6 pair=prev_events:["$0ru3sQarb2fo4qXFOYskgIBmQIdpDNyw-LjshbduXug",{"sha256":"x","other":1}]`,
	`10 ref=redacts:"$x:[::1]:"`,
	`1 count=prev_events:22`,
	`7 ref=auth_events:"$x:ä.example"`,
	`3 extra=prev_state:5`,
	`11 missing=sender`,
	`10 v12=room_id:"!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"`,
	`5 extra=unsigned:{"age":"5"}`,
	`8 idlen=redacts:300:4byte`,
	`4 pair=auth_events:null`,
	`11 size=2:ascii`,
	`3 idlen=type:256:ascii`,
	`10 grammar=sender:"@ali:ce:a.example"`,
	`2 grammar=sender:"@alice:1.2.3.4"`,
	`10 size=1:unsigned`,
	`6 none`,
	`10 pair=prev_events:[1,{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}]`,
	`12 grammar=sender:"@:a.example"`,
	`12 v12=room_id:null`,
	`11 hashes={"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU","sha512":5}`,
	`1 idlen=state_key:256:quote`,
	`7 type=event_id:1`,
	`2 sigs={"a.example":{"ed25519:1":"x"},"b.example":5}`,
	`2 none`,
	`6 ref=redacts:"$x:-"`,
}

// pinnedRaw are two of those cases byte for byte.
var pinnedRaw = map[int]string{
	0:  `{"auth_events":["$b21roEADiEAzsxxvBkDLG5lF55zjmP_TjsjEEyvwY2w"],"content":{"join_rule":"invite"},"depth":4,"hashes":{"sha256":"cWZ7f62OrqkB9R3vYvzNf/p68XHeqc4qqWYOz+y13ko"},"origin_server_ts":1004,"prev_events":["$x:-"],"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{"a.example":{"ed25519:1":"bU9nTO3fL57afd2dnk4fLTMnHbmEEt3SenOGMZP4meTsrfp/f+9S/d32V0L1DVKsR7dGnjcWota97bHRoCaiCA"}},"state_key":"","type":"m.room.join_rules"}`,
	11: `{"auth_events":["$TAxOLr0FFXIxAj1alyfn_ShVKQrYLdp_lMf1fjjg3Zk"],"content":{"membership":"invite"},"depth":11007,"hashes":{"sha256":"QH9sefbAAliMzbb0H6p4q20QzE+xGDCVVqGC2fu8duw"},"origin_server_ts":12007,"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{"a.example":{"ed25519:1":"5knkaGe9/YJU5mwMdMQtNknGuDHGkaMyW2eJJYh88WDjkD+OXWJln8UWkKh+h6irjmuA5c7axXI9u8XlpcySBw"}},"state_key":"@dave:a.example","type":"m.room.member"}`,
}

// pinnedSum is the SHA-256 of the 40 cases, each written as version NUL label NUL bytes LF.
const pinnedSum = "2762dfd4d1d63855eca9eb524f1fc8ab012382d5d4d3807cc50c7cb584c776be"

// TestPinned draws the first 40 cases of seed 1 as tools/formatref does (a version, NewCase,
// Mutate over FormatMutations) and compares them with what the generator drew before it was
// shared: any change to a draw or to its order shows here.
func TestPinned(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ms := FormatMutations()
	h := sha256.New()
	for i := range pinnedLabels {
		v := allVersions[r.Intn(len(allVersions))]
		c := NewCase(r, v, i)
		raw, label := c.Mutate(ms, "")
		if got := v + " " + label; got != pinnedLabels[i] {
			t.Fatalf("case %d: got %q, want %q", i, got, pinnedLabels[i])
		}
		if want, ok := pinnedRaw[i]; ok && string(raw) != want {
			t.Errorf("case %d bytes:\n got %s\nwant %s", i, raw, want)
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", v, label, raw)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != pinnedSum {
		t.Errorf("sum of the 40 cases: got %s, want %s", got, pinnedSum)
	}
}

// TestInsertMember checks the two ways a member is written twice: first in a nested object
// (InsertMember) and first at the top level (TopDup).
func TestInsertMember(t *testing.T) {
	raw := []byte(`{"content":{"a":1},"empty":{},"x":2}`)
	for _, tc := range []struct {
		obj, member string
		want        string
	}{
		{"content", `"a":0`, `{"content":{"a":0,"a":1},"empty":{},"x":2}`},
		{"empty", `"b":[]`, `{"content":{"a":1},"empty":{"b":[]},"x":2}`},
		{"absent", `"b":1`, ""},
	} {
		got := InsertMember(raw, tc.obj, tc.member)
		if tc.want == "" {
			if got != nil {
				t.Errorf("%s: got %s, want nil", tc.obj, got)
			}
			continue
		}
		if !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("%s: got %s, want %s", tc.obj, got, tc.want)
		}
	}
	if got, want := TopDup(raw, "x", "1"), `{"x":1,"content":{"a":1},"empty":{},"x":2}`; string(got) != want {
		t.Errorf("TopDup: got %s, want %s", got, want)
	}
	if string(raw) != `{"content":{"a":1},"empty":{},"x":2}` {
		t.Errorf("raw was changed: %s", raw)
	}
}

// TestMutateOnly checks the -only filter: a name prefix draws among the mutations it names, a
// label prefix keeps only the cases whose label has it, and no match draws nothing.
func TestMutateOnly(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	ms := FormatMutations()
	kept := 0
	for i := 0; i < 40; i++ {
		c := NewCase(r, "10", i)
		raw, label := c.Mutate(ms, "json=bom")
		if raw != nil {
			kept++
		}
		if raw != nil && label != "json=bom" {
			t.Fatalf("case %d: -only json=bom gave %q", i, label)
		}
		if raw != nil && !bytes.HasPrefix(raw, []byte("\xef\xbb\xbf{")) {
			t.Fatalf("case %d: json=bom without a BOM: %q", i, raw[:8])
		}
	}
	if kept == 0 {
		t.Fatal("-only json=bom kept no case of 40")
	}
	r1, r2 := rand.New(rand.NewSource(3)), rand.New(rand.NewSource(3))
	c := &Case{R: r1}
	if raw, label := c.Mutate(ms, "nosuch"); raw != nil || label != "" {
		t.Fatalf("-only nosuch gave %q", label)
	}
	if r1.Int63() != r2.Int63() {
		t.Fatal("Mutate drew with no mutation to draw from")
	}
}

func TestClass(t *testing.T) {
	for label, want := range map[string]string{"none": "none", "size=1:ascii": "size", `ref=event_id:"$x=y"`: "ref", "": ""} {
		if got := Class(label); got != want {
			t.Errorf("Class(%q) = %q, want %q", label, got, want)
		}
	}
}

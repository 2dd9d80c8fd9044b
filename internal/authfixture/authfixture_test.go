package authfixture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

const fixtureDir = "../../testdata/authrules"

func TestLoadRefusesBadTables(t *testing.T) {
	tests := []struct {
		name, files, want string
	}{
		{"missing rule", `[{"name":"a","room_version":"8","spec":"s","event":"message","allowed":true}]`, "rule is required"},
		{"missing allowed", `[{"name":"a","room_version":"8","spec":"s","event":"message","rule":"10"}]`, "are required"},
		{"unknown field", `[{"name":"a","room_version":"8","spec":"s","event":"message","allowed":true,"rule":"10","extra":1}]`, "unknown field"},
		{"duplicate name", `[{"name":"a","room_version":"8","spec":"s","event":"message","allowed":true,"rule":"10"},{"name":"a","room_version":"8","spec":"s","event":"message","allowed":true,"rule":"10"}]`, `case name "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "x.json"), []byte(tt.files), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty directory: no error")
	}
}

func TestBuildCase(t *testing.T) {
	templates, err := LoadTemplates(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	c := Case{Name: "n", RoomVersion: "12", Spec: "s", Create: json.RawMessage(`"create12"`),
		AuthEvents: []json.RawMessage{json.RawMessage(`"alice_join"`)},
		Rejected:   []json.RawMessage{json.RawMessage(`0`)},
		Event:      json.RawMessage(`{"type":"m.room.message","sender":"@alice:a.example","content":{"body":"#room"},"__sign":["a.example","b.example"]}`)}
	bc, err := BuildCase(c, templates)
	if err != nil {
		t.Fatal(err)
	}
	if bc.Create == nil || bc.Create.Type != pdu.TypeCreate || bc.Create.RoomID != "" {
		t.Fatalf("create: %+v", bc.Create)
	}
	room := "!" + bc.Create.EventID[1:]
	if len(bc.List) != 1 || bc.List[0].RoomID != room || bc.Event.RoomID != room {
		t.Fatalf("room IDs: want %s everywhere", room)
	}
	if got := bc.Event.AuthEvents; len(got) != 1 || got[0] != bc.List[0].EventID {
		t.Errorf("default auth_events %v, want the one auth event", got)
	}
	if !bc.Rejected[bc.List[0].EventID] || len(bc.Rejected) != 1 {
		t.Errorf("rejected %v", bc.Rejected)
	}
	if string(bc.Event.Content) != `{"body":"`+room+`"}` {
		t.Errorf("content %s: #room not replaced", bc.Event.Content)
	}
	if bc.Keys != nil {
		t.Error("keys without keys: true")
	}
	var servers []string
	for s := range bc.Event.Signatures.Servers() {
		servers = append(servers, s)
	}
	if strings.Join(servers, ",") != "a.example,b.example" {
		t.Errorf("signed by %v, want a.example and b.example", servers)
	}
	if err := signing.VerifyEvent(bc.V, bc.Event.Raw(), KeyRing()); err != nil {
		t.Errorf("the built event does not verify: %v", err)
	}
	if _, err := BuildCase(Case{RoomVersion: "8", Event: json.RawMessage(`"no such template"`)}, templates); err == nil {
		t.Error("an unknown template: no error")
	}
	if _, err := BuildCase(Case{RoomVersion: "8", Event: json.RawMessage(`{"type":"m.room.message","sender":"@a:a.example","content":{"x":"#id:3"}}`)}, templates); err == nil {
		t.Error("a reference to a missing event: no error")
	}
}

func TestKeyIsDeterministic(t *testing.T) {
	a, b := Key("a.example"), Key("a.example")
	if string(a.Public()) != string(b.Public()) || string(a.Public()) == string(Key("b.example").Public()) {
		t.Error("keys are not one per server")
	}
	if len(KeyRing()) != len(Servers) {
		t.Errorf("key ring of %d servers, want %d", len(KeyRing()), len(Servers))
	}
}

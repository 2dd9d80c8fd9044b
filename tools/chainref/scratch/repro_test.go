package scratch

import (
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

func TestCreateCitingItself(t *testing.T) {
	v, _ := roomversion.Lookup("1")
	raw := `{"auth_events":[["$c:a.example",{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}]],"content":{"creator":"@alice:a.example"},"depth":1,"event_id":"$c:a.example","hashes":{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},"origin":"a.example","origin_server_ts":1,"prev_events":[],"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{"a.example":{"ed25519:1":"AAAA"}},"state_key":"","type":"m.room.create"}`
	ev, err := pdu.Parse(v, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	res, err := authrules.CheckAuthChain(v, []*pdu.Event{ev}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verdict %+v order %v", res.Verdicts[0], res.Order)
	single := authrules.Check(v, ev, nil, nil)
	t.Logf("single Check: %v", single)
	if !res.Verdicts[0].Accepted() {
		t.Errorf("create event rejected: %v; rule 1 allows it (1.5/1.4), auth_events are not considered for m.room.create", res.Verdicts[0].Err)
	}
}

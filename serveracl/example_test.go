package serveracl_test

import (
	"fmt"

	"github.com/roomproto/roomproto/serveracl"
)

// A receiving server checks the origin of every PDU of a transaction, and of every request
// about a room, against the room's ACL: a denied origin gets 403 M_FORBIDDEN, and its PDUs
// for that room are ignored. Server names are case-sensitive, in ACLs too.
func ExampleACL_Allowed() {
	acl, err := serveracl.Parse([]byte(`{"allow":["*"],"deny":["*.evil.example","evil.example"],"allow_ip_literals":false}`))
	if err != nil {
		panic(err)
	}
	for _, origin := range []string{"matrix.example", "evil.example:8448", "chat.evil.example", "chat.EVIL.example", "203.0.113.7"} {
		fmt.Println(origin, acl.Allowed(origin))
	}
	// Output:
	// matrix.example true
	// evil.example:8448 false
	// chat.evil.example false
	// chat.EVIL.example true
	// 203.0.113.7 false
}

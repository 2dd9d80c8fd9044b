package main

import (
	"fmt"
	"os"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/serveracl"
)

func main() {
	for _, n := range os.Args[1:] {
		h := serveracl.Host(n)
		fmt.Printf("%q valid=%v host=%q ipl(host)=%v ipl(name)=%v\n", n, pdu.ValidServerName(n), h, serveracl.IsIPLiteral(h), serveracl.IsIPLiteral(n))
	}
}

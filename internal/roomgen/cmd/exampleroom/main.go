// Command exampleroom writes the example room of `roomproto replay` (roomgen.ExampleRoom) in the
// replay format, one event per line, with the servers' public keys:
// {"room_version":"9","keys":{...},"events":[...]}. cmd/roomproto runs it through go generate:
//
//	go generate ./cmd/roomproto
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/roomproto/roomproto/internal/roomgen"
)

func main() {
	out := flag.String("o", "exampleroom.json", "output file")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "exampleroom:", err)
		os.Exit(1)
	}
}

func write(path string) error {
	room, err := roomgen.ExampleRoom()
	if err != nil {
		return err
	}
	return os.WriteFile(path, room.ReplayFile(), 0o644)
}

// Command genroom writes a synthetic room made by roomgen.Generate in the replay format, and its
// public keys in the --keys format, for trying `roomproto replay` and `roomproto verify-room` on
// rooms of any size:
//
//	go run ./internal/roomgen/cmd/genroom -events 100000 -o room.json -keys keys.json
//	go run ./cmd/roomproto verify-room --keys keys.json room.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/roomproto/roomproto/internal/roomgen"
)

func main() {
	var cfg roomgen.Config
	flag.IntVar(&cfg.Events, "events", 1000, "number of events")
	flag.StringVar(&cfg.RoomVersion, "room-version", "9", "room version (8 to 12)")
	flag.IntVar(&cfg.Servers, "servers", 8, "number of servers")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed")
	flag.IntVar(&cfg.MessageShare, "messages", 20, "share of messages, percent")
	flag.IntVar(&cfg.Rejected, "rejected", 0, "share of events the rules must reject, per mille")
	out := flag.String("o", "room.json", "room output file")
	keys := flag.String("keys", "keys.json", "keys output file")
	flag.Parse()
	room, err := roomgen.Generate(cfg)
	if err == nil {
		err = os.WriteFile(*out, room.ReplayFile(), 0o644)
	}
	if err == nil {
		err = os.WriteFile(*keys, room.KeysJSON(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genroom:", err)
		os.Exit(1)
	}
}

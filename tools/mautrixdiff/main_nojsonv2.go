//go:build !goexperiment.jsonv2

// Command mautrixdiff runs roomproto and mautrix-go side by side; see main.go and README.md.
// mautrix's federation packages build only with GOEXPERIMENT=jsonv2: without it, this file
// stands in for the command and says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "mautrixdiff needs GOEXPERIMENT=jsonv2 (mautrix-go's federation packages use encoding/json/v2): GOEXPERIMENT=jsonv2 go run .")
	os.Exit(2)
}

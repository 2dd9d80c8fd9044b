//go:build goexperiment.jsonv2

package authcmp

import (
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

// v12 is included lightly (one candidate in 12); a separate audit covers it in depth.
var versions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

//go:build race

package limitstest

const raceEnabled = true

//go:build !race

package claimsg

// raceEnabled: the tests run under the race detector.
const raceEnabled = false

//go:build !race

package claimsf

// raceEnabled: the tests run under the race detector.
const raceEnabled = false

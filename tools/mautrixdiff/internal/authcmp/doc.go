// Package authcmp compares roomproto's authrules with mautrix-go's eventauth.Authorize on
// random rooms of room versions 1-12, both against the event's auth events (check 4) and
// against the room state (checks 5 and 6). Rooms and candidates come from
// tools/internal/authgen, which tools/gmsldiff shares; the adversarial mutations of adv.go are
// this package's own. It needs GOEXPERIMENT=jsonv2 (mautrix does); without it the package is
// empty.
package authcmp

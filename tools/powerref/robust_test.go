package main

import (
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestNilAndEmptyInputs calls the audited API with nil and empty inputs: none may panic
// (package membership: "Nothing in this package panics on bad input").
func TestNilAndEmptyInputs(t *testing.T) {
	for _, vid := range pyref.Versions {
		v := authgen.Version(vid)
		try := func(name string, f func()) {
			t.Helper()
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("v%s %s panics: %v", vid, name, r)
				}
			}()
			f()
		}
		try("ParsePowerLevels(nil)", func() { _, _ = authrules.ParsePowerLevels(v, nil) })
		try("ParsePowerLevels(not JSON)", func() { _, _ = authrules.ParsePowerLevels(v, []byte("{")) })
		try("ParsePowerLevels([])", func() { _, _ = authrules.ParsePowerLevels(v, []byte("[]")) })
		try("ParseJoinRules(nil)", func() { _ = authrules.ParseJoinRules(nil) })
		try("DefaultPowerLevels(nil)", func() {
			pl := authrules.DefaultPowerLevels(v, nil)
			_ = pl.UserLevel("@a:b.c")
			_ = pl.CompareUsers("@a:b.c", "@d:e.f")
		})
		try("NewState(nil events)", func() { _, _ = authrules.NewState(v, nil) })
		try("NewState([nil])", func() { _, _ = authrules.NewState(v, []*pdu.Event{nil}) })
		try("State.Apply(nil)", func() {
			s, err := authrules.NewState(v, nil)
			if err == nil {
				_ = s.Apply(nil)
			}
		})
		try("State.AuthEvents(nil)", func() {
			s, err := authrules.NewState(v, nil)
			if err == nil {
				_, _ = s.AuthEvents(nil)
			}
		})
		try("empty State accessors", func() {
			s, err := authrules.NewState(v, nil)
			if err != nil {
				return
			}
			_ = fmt.Sprint(s.Len(), s.Events(), s.Creators(), s.JoinRules(), s.Members("join"), s.Membership("@a:b.c"), s.Get("x", ""))
			_ = s.PowerLevels().UserLevel("@a:b.c")
			_ = membership.Authorisers(s, "b.c")
			_ = membership.AuthorisedServers(s)
		})
		try("Authorisers(nil state)", func() { _ = membership.Authorisers(nil, "b.c") })
		try("AuthorisedServers(nil state)", func() { _ = membership.AuthorisedServers(nil) })
		try("zero PowerLevels", func() {
			var pl authrules.PowerLevels
			_ = pl.UserLevel("@a:b.c")
			_ = pl.BanLevel()
			_, _ = pl.CompareUserTo("@a:b.c", "ban")
		})
	}
}

//go:build goexperiment.jsonv2

package pducmp

import (
	"encoding/hex"
	"encoding/json/v2"
	"fmt"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"maunium.net/go/mautrix/crypto/canonicaljson"
	"maunium.net/go/mautrix/federation/pdu"
	"maunium.net/go/mautrix/id"
)

func rpV(ver int) roomversion.Version { return authgen.Version(strconv.Itoa(ver)) }

func mtxV(ver int) id.RoomVersion { return id.RoomVersion(strconv.Itoa(ver)) }

// Outcome: either an error (Err != "") or a value.
type Outcome struct {
	Err string
	Val string
}

func (o Outcome) String() string {
	if o.Err != "" {
		return "error(" + o.Err + ")"
	}
	return o.Val
}

func agree(a, b Outcome) bool {
	if a.Err != "" || b.Err != "" {
		return a.Err != "" && b.Err != ""
	}
	return a.Val == b.Val
}

func errOut(err error) Outcome {
	s := stableErr(err.Error())
	if len(s) > 90 {
		s = s[:90]
	}
	return Outcome{Err: s}
}

func safe(f func() Outcome) (o Outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = Outcome{Err: fmt.Sprintf("PANIC %v", p)}
		}
	}()
	return f()
}

// mtxPDU is what both mautrix PDU types offer here.
type mtxPDU interface {
	GetEventID(id.RoomVersion) (id.EventID, error)
	GetReferenceHash(id.RoomVersion) ([32]byte, error)
	CalculateContentHash() ([32]byte, error)
	VerifyContentHash() bool
	AuthEventSelection(id.RoomVersion) pdu.AuthEventSelection
}

func mtxParse(ver int, raw []byte) (mtxPDU, error) {
	if ver <= 2 {
		var p pdu.RoomV1PDU
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		return &p, nil
	}
	var p pdu.PDU
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func mtxParseErr(ver int, raw []byte) error {
	_, err := mtxParse(ver, raw)
	return err
}

func mtxRedact(ver int, raw []byte) Outcome {
	return safe(func() Outcome {
		p, err := mtxParse(ver, raw)
		if err != nil {
			return errOut(fmt.Errorf("parse: %w", err))
		}
		var out []byte
		switch x := p.(type) {
		case *pdu.PDU:
			out, err = canonicaljson.Marshal(x.Clone().Redact(mtxV(ver)))
		case *pdu.RoomV1PDU:
			out, err = canonicaljson.Marshal(x.Clone().Redact(mtxV(ver)))
		}
		if err != nil {
			return errOut(fmt.Errorf("marshal: %w", err))
		}
		return Outcome{Val: string(out)}
	})
}

func rpRedact(ver int, raw []byte) Outcome {
	return safe(func() Outcome {
		out, err := redaction.Redact(rpV(ver), raw)
		if err != nil {
			return errOut(err)
		}
		return Outcome{Val: string(out)}
	})
}

func mtxRedactContent(ver int, typ string, content []byte) Outcome {
	return safe(func() Outcome {
		out := pdu.RedactContent(typ, content, mtxV(ver))
		//lint:ignore SA1019 the replacements (Canonicalize, Marshal) skip the validity check this one makes
		c, err := canonicaljson.CanonicalJSON(out)
		if err != nil {
			return errOut(err)
		}
		return Outcome{Val: string(c)}
	})
}

func hexOut(h [32]byte, err error) Outcome {
	if err != nil {
		return errOut(err)
	}
	return Outcome{Val: hex.EncodeToString(h[:])}
}

func mtxContentHash(ver int, raw []byte) Outcome {
	return safe(func() Outcome {
		p, err := mtxParse(ver, raw)
		if err != nil {
			return errOut(fmt.Errorf("parse: %w", err))
		}
		return hexOut(p.CalculateContentHash())
	})
}

func mtxRefHash(ver int, raw []byte) Outcome {
	return safe(func() Outcome {
		p, err := mtxParse(ver, raw)
		if err != nil {
			return errOut(fmt.Errorf("parse: %w", err))
		}
		return hexOut(p.GetReferenceHash(mtxV(ver)))
	})
}

func mtxEventID(ver int, raw []byte) Outcome {
	return safe(func() Outcome {
		p, err := mtxParse(ver, raw)
		if err != nil {
			return errOut(fmt.Errorf("parse: %w", err))
		}
		id, err := p.GetEventID(mtxV(ver))
		if err != nil {
			return errOut(err)
		}
		return Outcome{Val: string(id)}
	})
}

func rpContentHash(ver int, raw []byte) Outcome {
	return safe(func() Outcome { return hexOut(signing.ContentHash(rpV(ver), raw)) })
}
func rpRefHash(ver int, raw []byte) Outcome {
	return safe(func() Outcome { return hexOut(signing.ReferenceHash(rpV(ver), raw)) })
}
func rpEventID(ver int, raw []byte) Outcome {
	return safe(func() Outcome {
		s, err := signing.EventID(rpV(ver), raw)
		if err != nil {
			return errOut(err)
		}
		return Outcome{Val: s}
	})
}

func short(b []byte) string {
	s := string(b)
	s = strings.ToValidUTF8(s, "\\xff")
	return s
}

func init() {}

// stableErr undoes encoding/json/v2's random choice between "cannot" and "unable to" in its
// error messages, so that the output does not depend on it.
func stableErr(s string) string { return strings.ReplaceAll(s, "json: unable to ", "json: cannot ") }

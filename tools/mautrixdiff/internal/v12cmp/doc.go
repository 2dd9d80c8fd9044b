// Package v12cmp compares roomproto with mautrix-go in depth on room version 12 and the
// v11/v12 boundary: the auth rules on random v11 and v12 rooms and hand-built scenarios, the
// v12 create event (rule 1), the auth events selection and the redaction, hashes, event and
// room IDs of v11/v12 events. It needs GOEXPERIMENT=jsonv2 (mautrix does); without it the
// package is empty.
package v12cmp

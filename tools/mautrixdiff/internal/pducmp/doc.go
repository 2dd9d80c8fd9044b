// Package pducmp compares roomproto with mautrix-go's federation/pdu on redaction, content and
// reference hashes, event IDs, signing and verification, the auth events selection and the
// signing corpus, room versions 1-12. It needs GOEXPERIMENT=jsonv2 (mautrix does); without it
// the package is empty.
package pducmp

package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// The spec's test vectors (appendices "Cryptographic Test Vectors"), verbatim.
const (
	tvSeed   = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
	tvEvent1 = `{
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "signatures": {},
    "hashes": {},
    "type": "X",
    "content": {},
    "prev_events": [],
    "auth_events": [],
    "depth": 3,
    "unsigned": {
        "age_ts": 1000000
    }
}`
	tvSigned1 = `{"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","signatures":{"domain":{"ed25519:1":"KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"}},"type":"X","unsigned":{"age_ts":1000000}}`
	tvEvent2  = `{
    "content": {
        "body": "Here is the message content"
    },
    "event_id": "$0:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {},
    "unsigned": {
        "age_ts": 1000000
    }
}`
	tvSigned2 = `{"content":{"body":"Here is the message content"},"event_id":"$0:domain","hashes":{"sha256":"onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"},"origin":"domain","origin_server_ts":1000000,"room_id":"!r:domain","sender":"@u:domain","signatures":{"domain":{"ed25519:1":"Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"}},"type":"m.room.message","unsigned":{"age_ts":1000000}}`
)

// fixed runs the test vectors: SignJSON on the two JSON objects; SignEvent on the two events in
// every room version, compared with the reference and, for the content hash in every version and
// the whole bytes in versions 1-10 (the v11+ redaction strips `origin`, which the vectors' signatures
// cover), with the spec's expected output.
func fixed(versions []string) {
	seed, err := base64.RawStdEncoding.DecodeString(tvSeed)
	if err != nil {
		harnessErrs++
		return
	}
	key, err := signing.NewSigningKey("1", seed)
	if err != nil {
		invariant(ex{Op: "vector", In: "NewSigningKey(1, seed)"}, "test-vector key refused", err)
		return
	}
	s := signer{"domain", key}
	for _, jv := range [][2]string{
		{`{}`, `{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}`},
		{`{"one": 1, "two": "Two"}`, `{"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"}`},
	} {
		out, err := signing.SignJSON([]byte(jv[0]), "domain", key)
		if err == nil && string(out) != jv[1] {
			err = fmt.Errorf("got %s", out)
		}
		invariant(ex{Op: "vector", In: jv[0]}, "SignJSON test vector", err)
	}
	for _, vid := range versions {
		v := version(vid)
		for i, tv := range [][2]string{{tvEvent1, tvSigned1}, {tvEvent2, tvSigned2}} {
			e := ex{V: vid, Corner: fmt.Sprintf("test-vector-%d", i+1)}
			out, ok := sign(e, v, tv[0], s, false)
			hashes(e, v, tv[0])
			if !ok {
				continue
			}
			e.In = tv[0]
			var verr error
			wantHash := tv[1][strings.Index(tv[1], `"hashes"`):]
			wantHash = wantHash[:strings.Index(wantHash, "}")]
			if !strings.Contains(out, wantHash) {
				verr = errors.New("content hash is not the vector's: " + out)
			} else if difftool.VerNum(vid) <= 10 && out != tv[1] {
				verr = errors.New("bytes are not the vector's: " + out)
			}
			invariant(e, "SignEvent test vector", verr)
			// The reference must reproduce them too (a reference bug otherwise).
			a, ok := ask(M{"op": "sign", "v": vid, "ev": tv[0], "server": "domain", "seed": tvSeed, "kv": "1"})
			if ok && difftool.VerNum(vid) <= 10 && a.str() != tv[1] {
				harnessErrs++
				fmt.Printf("reference does not reproduce test vector %d in v%s\n", i+1, vid)
			}
		}
	}
}

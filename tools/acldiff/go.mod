module github.com/roomproto/roomproto/tools/acldiff

go 1.26.8

replace github.com/roomproto/roomproto => ../..

require (
	github.com/matrix-org/dendrite v0.13.8
	github.com/matrix-org/gomatrixserverlib v0.0.0-20240910190622-2c764912ce93
	github.com/roomproto/roomproto v0.0.0-00010101000000-000000000000
	github.com/sirupsen/logrus v1.9.3
)

require (
	github.com/matrix-org/gomatrix v0.0.0-20220926102614-ceba4d9f7530 // indirect
	github.com/matrix-org/util v0.0.0-20221111132719-399730281e66 // indirect
	github.com/oasisprotocol/curve25519-voi v0.0.0-20230904125328-1f23a7beb09a // indirect
	github.com/tidwall/gjson v1.17.1 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
	golang.org/x/crypto v0.26.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
)

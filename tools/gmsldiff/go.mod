module github.com/roomproto/roomproto/tools/gmsldiff

go 1.26.8

require (
	github.com/matrix-org/gomatrixserverlib v0.0.0-20240910190622-2c764912ce93
	github.com/roomproto/roomproto v0.0.0-00010101000000-000000000000
	github.com/sirupsen/logrus v1.9.0
)

require (
	github.com/matrix-org/util v0.0.0-20200807132607-55161520e1d4 // indirect
	github.com/oasisprotocol/curve25519-voi v0.0.0-20230904125328-1f23a7beb09a // indirect
	github.com/tidwall/gjson v1.14.3 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
	golang.org/x/crypto v0.17.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
)

replace github.com/roomproto/roomproto => ../..

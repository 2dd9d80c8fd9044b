module github.com/roomproto/roomproto

go 1.26

// Package scenarios runs the flows of a Matrix homeserver end to end through roomproto's
// exported API: two or three servers, each with its own signing key and its own view of a
// room, receiving PDUs, joining restricted rooms over federation, inviting, knocking,
// redacting state, v12 rooms, Policy Servers and server ACLs. The package holds only tests;
// see README.md.
package scenarios

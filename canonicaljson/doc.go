// Package canonicaljson implements the canonical JSON encoding of the Matrix
// specification (appendices, "Signing JSON" › "Canonical JSON"): the shortest
// UTF-8 JSON encoding of a value, without insignificant whitespace, with the
// keys of every object sorted by Unicode code point. Hashes and signatures of
// events and other signed objects are computed over these bytes.
//
// # Strict and lenient rules
//
// Room versions 6 and later enforce the restrictions of the appendix
// (fragment v6-canonical-json): numbers are integers in
// [-(2**53)+1, (2**53)-1] without fraction, exponent or -0. Options.Strict
// (CanonicalStrict) enforces them, and also refuses duplicate keys and
// unpaired surrogate escapes, which have no single meaning. Room versions 1-5
// "MUST NOT strictly enforce" them (fragment v1-canonical-json) and SHOULD
// handle such JSON where possible; the lenient mode (Canonical) therefore:
//
//   - copies integers of any size as they are;
//   - writes -0 as 0, and a number in exponent notation whose value is an
//     integer in the strict range as that integer (1e10 as 10000000000), as
//     the appendix's example shows;
//   - copies every other number (1.0, 1.5, 1e400) verbatim: there is no
//     canonical form for it without choosing a float formatting;
//   - keeps the last of duplicate keys, as encoding/json and Python's json do;
//   - writes an unpaired surrogate escape as a lowercase \udXXX escape.
//
// In both modes invalid UTF-8 and nesting deeper than Options.MaxDepth are
// refused, and so is anything that is not JSON (RFC 8259): leading zeros, a
// leading '+', NaN, comments, trailing commas, single quotes. The top-level
// value may be of any JSON type and may be surrounded by whitespace.
//
// # Strings
//
// A string is written as raw UTF-8 except for '"' (\"), '\' (\\), U+0008
// (\b), U+0009 (\t), U+000A (\n), U+000C (\f), U+000D (\r) and the other code
// points below U+0020 (\u00XX, lowercase hex), as the appendix's grammar
// requires. Redundant escapes in the input (\/, \u0041, \u00e9, a surrogate
// pair \ud83d\ude00) are decoded.
//
// # Errors and limits
//
// Every error is a *SyntaxError carrying the input offset and a sentinel
// (ErrSyntax, ErrFloat, ErrDuplicateKey, ...) for errors.Is. The input is
// read front to back, in time linear in its size (times the nesting depth
// when objects must be reordered), with memory proportional to it; no input
// makes the package panic. All functions are safe for concurrent use.
//
// # Input that is already canonical
//
// Servers send events in canonical JSON. Append, AppendIndexed and Valid
// first check whether the input is canonical as it stands, which costs about
// half of writing it anew, and then return it as it is; only input that is
// not (or that the check leaves alone, such as a key written with an escape)
// is parsed and rewritten. The check decides how fast an answer comes, never
// what it is: for every input the output, error and Index are those of the
// parser alone.
package canonicaljson

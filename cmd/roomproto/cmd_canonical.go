package main

import "github.com/roomproto/roomproto/canonicaljson"

// runCanonical: canonical [--strict] [FILE] — prints the canonical JSON of the input, with no
// trailing newline.
func runCanonical(e *env, args []string) error {
	fs := newFlags("canonical")
	strict := fs.Bool("strict", false, "enforce the strict rules of room versions 6+")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in, err := readInput(e, fs, maxInput)
	if err != nil {
		return err
	}
	out, err := canonicaljson.Append(nil, in, canonicaljson.Options{Strict: *strict})
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

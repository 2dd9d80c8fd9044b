package pyref

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
)

// Dump writes every case a harness generates as one JSON line: its index, room version, label
// and bytes (base64, so that invalid UTF-8 stays exact). A harness takes it with -dump FILE, to
// check that a change to its generator draws the same cases for the same seed (cmp of two
// dumps). A nil *Dump, from OpenDump(""), writes nothing.
type Dump struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

// dumpLine is one line of a dump.
type dumpLine struct {
	I     int    `json:"i"`
	V     string `json:"v"`
	Label string `json:"label"`
	Raw   string `json:"raw"`
}

// OpenDump creates the file path for a dump; it returns nil when path is empty. It exits the
// program with status 2 when the file cannot be created, as MustStart does for the reference.
func OpenDump(path string) *Dump {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := bufio.NewWriter(f)
	return &Dump{f: f, w: w, enc: json.NewEncoder(w)}
}

// Add writes case i: its version, label and bytes (raw nil, a case the -only filter dropped,
// is written with an empty raw and label).
func (d *Dump) Add(i int, v, label string, raw []byte) {
	if d == nil || d.err != nil {
		return
	}
	d.err = d.enc.Encode(dumpLine{I: i, V: v, Label: label, Raw: base64.StdEncoding.EncodeToString(raw)})
}

// Close flushes and closes the file and returns the first error met while writing it.
func (d *Dump) Close() error {
	if d == nil {
		return nil
	}
	if err := d.w.Flush(); err != nil && d.err == nil {
		d.err = err
	}
	if err := d.f.Close(); err != nil && d.err == nil {
		d.err = err
	}
	return d.err
}

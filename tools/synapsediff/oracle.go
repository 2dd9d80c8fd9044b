package main

// The oracle: helper.py, run once by the system interpreter, answering one JSON request per
// line. Every area shares the one process; calls are serialised.

import (
	"bufio"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

//go:embed helper.py
var helperSource string

// defaultPython is Debian's interpreter, for which python3-canonicaljson and
// python3-signedjson install the modules (the python3 on PATH may be another one).
const defaultPython = "/usr/bin/python3"

// pyAnswer is one answer of the helper: an output (base64) and, for signing, the signature; or
// an error and the stage that failed (decode, parse, validate, encode, sign, verify, helper).
type pyAnswer struct {
	Out   string `json:"out,omitempty"`
	Sig   string `json:"sig,omitempty"`
	OK    bool   `json:"ok,omitempty"`
	Err   string `json:"err,omitempty"`
	Stage string `json:"stage,omitempty"`
}

// out returns the decoded output.
func (a pyAnswer) out() []byte {
	b, err := base64.StdEncoding.DecodeString(a.Out)
	if err != nil {
		panic("helper sent bad base64: " + err.Error()) // invariant: the helper writes b64encode
	}
	return b
}

// oracle is a running helper.
type oracle struct {
	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	dead error
}

// startOracle starts the helper under the interpreter python and checks that it answers.
func startOracle(python string) (*oracle, error) {
	cmd := exec.Command(python, "-c", helperSource)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	o := &oracle{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16)}
	if _, err := o.version(); err != nil {
		o.close()
		return nil, err
	}
	return o, nil
}

// call sends one request and reads its answer. A dead helper is a harness failure: call stops
// the program (harnessFailed), since no comparison can go on without it.
func (o *oracle) call(req map[string]any) pyAnswer {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead != nil {
		harnessFailed(o.dead)
	}
	line, err := json.Marshal(req)
	if err != nil {
		panic(err) // invariant: requests are maps of strings, bools and maps
	}
	if _, err := o.in.Write(append(line, '\n')); err != nil {
		o.dead = fmt.Errorf("synapsediff: helper: %w", err)
		harnessFailed(o.dead)
	}
	resp, err := o.out.ReadBytes('\n')
	if err != nil {
		o.dead = fmt.Errorf("synapsediff: helper died: %w", err)
		harnessFailed(o.dead)
	}
	var a pyAnswer
	if err := json.Unmarshal(resp, &a); err != nil {
		o.dead = fmt.Errorf("synapsediff: helper answered %q: %w", resp, err)
		harnessFailed(o.dead)
	}
	return a
}

func (o *oracle) version() (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := o.in.Write([]byte(`{"op":"version"}` + "\n")); err != nil {
		return "", err
	}
	resp, err := o.out.ReadBytes('\n')
	if err != nil {
		return "", errors.New("the helper did not start (are python3-canonicaljson and python3-signedjson installed?)")
	}
	var v map[string]string
	if err := json.Unmarshal(resp, &v); err != nil {
		return "", fmt.Errorf("helper: %q", resp)
	}
	return fmt.Sprintf("Python %s, canonicaljson %s (simplejson %s), signedjson with PyNaCl %s, libsodium %s",
		v["python"], v["canonicaljson"], v["simplejson"], v["pynacl"], v["libsodium"]), nil
}

func (o *oracle) close() {
	o.in.Close()
	_ = o.cmd.Wait()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// pyCanon is canonicaljson.encode_canonical_json of Synapse's reading of in.
func (o *oracle) canon(in []byte, strict bool) pyAnswer {
	return o.call(map[string]any{"op": "canon", "in": b64(in), "strict": strict})
}

// pySign is signedjson.sign.sign_json of Synapse's reading of in.
func (o *oracle) sign(in []byte, server, version string, seed []byte) pyAnswer {
	return o.call(map[string]any{"op": "sign", "in": b64(in), "server": server, "version": version,
		"seed": base64.RawStdEncoding.EncodeToString(seed)})
}

// verify is Synapse's Keyring on in: for one server, or (server "") for every server that
// signed with a known key. keys: server -> key ID -> raw public key.
func (o *oracle) verify(in []byte, server string, keys map[string]map[string][]byte) pyAnswer {
	ks := map[string]map[string]string{}
	for s, m := range keys {
		ks[s] = map[string]string{}
		for k, v := range m {
			ks[s][k] = b64(v)
		}
	}
	req := map[string]any{"op": "verify", "in": b64(in), "keys": ks}
	if server != "" {
		req["server"] = server
	}
	return o.call(req)
}

// raw is PyNaCl's VerifyKey(pub).verify(msg, sig).
func (o *oracle) raw(msg, sig, pub []byte) pyAnswer {
	return o.call(map[string]any{"op": "raw", "msg": b64(msg), "sig": b64(sig), "pub": b64(pub)})
}

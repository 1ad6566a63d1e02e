package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

// devNull opens /dev/null, which is a character device but no terminal:
// stdin under cron, systemd and most CI runners.
func devNull(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestTestFromDevNull: with stdin from /dev/null, test asks nothing and
// behaves as without a terminal (exit 3, pass --create); with --json its
// stderr is one JSON error and nothing else.
func TestTestFromDevNull(t *testing.T) {
	_, raw := fake(t)

	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"test", raw}, devNull(t), &out, &errOut, noEnv)
	r := result{code: code, stdout: out.String(), stderr: errOut.String()}
	if r.code != exitNotFound || strings.Contains(r.stderr, "[y/N]") || strings.Contains(r.stderr, "Create it") {
		t.Errorf("test with stdin from /dev/null: want exit 3 and no question; got %s", r)
	}
	want(t, "test < /dev/null", r.stderr, "stdin is not a terminal", "pass --create")

	out.Reset()
	errOut.Reset()
	code = run(t.Context(), []string{"test", "--json", raw}, devNull(t), &out, &errOut, noEnv)
	r = result{code: code, stdout: out.String(), stderr: errOut.String()}
	if r.code != exitNotFound || strings.Contains(r.stderr, "[y/N]") || r.stdout != "" {
		t.Errorf("test --json with stdin from /dev/null: want exit 3, no question, nothing on stdout; got %s", r)
	}
	if !json.Valid(errOut.Bytes()) {
		t.Errorf("test --json with stdin from /dev/null: stderr is not pure JSON:\n%s", r.stderr)
	}
	j := decode[errorInfo](t, r.stderr)
	if j.Code != "bucket_not_found" || j.Exit != exitNotFound || !strings.Contains(j.Hint, "--create") {
		t.Errorf("test --json with stdin from /dev/null: error %+v", j)
	}
}

// fakeTerminal makes every *os.File and stream a terminal until the test
// ends, standing in for a pty.
func fakeTerminal(t *testing.T) {
	t.Helper()
	old := isTerminal
	isTerminal = func(any) bool { return true }
	t.Cleanup(func() { isTerminal = old })
}

func TestIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(t.TempDir() + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var nilFile *os.File
	for what, f := range map[string]any{"/dev/null": devNull(t), "a pipe's reader": r, "a pipe's writer": w,
		"a file": file, "a buffer": &bytes.Buffer{}, "a strings.Reader": strings.NewReader(""), "a nil *os.File": nilFile, "nil": nil} {
		if isTerminal(f) {
			t.Errorf("isTerminal(%s) = true", what)
		}
	}
}

// TestTerminalPrompts: when stdin is a terminal (the detector stood in
// for), test asks before creating the bucket; with --json it never asks,
// and stderr is pure JSON.
func TestTerminalPrompts(t *testing.T) {
	fakeTerminal(t)
	_, raw := fake(t)
	runIn := func(stdin string, args ...string) result {
		var out, errOut bytes.Buffer
		code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut, noEnv)
		return result{code: code, stdout: out.String(), stderr: errOut.String()}
	}
	r := runIn("n\n", "test", raw)
	if r.code != exitNotFound || !strings.Contains(r.stderr, "Create it in region us-east-1? [y/N] ") {
		t.Errorf("test on a terminal: want the question and exit 3 after no; got %s", r)
	}
	r = runIn("y\n", "test", "--json", raw)
	if r.code != exitNotFound || strings.Contains(r.stderr, "[y/N]") || r.stdout != "" {
		t.Errorf("test --json on a terminal: want exit 3 and no question; got %s", r)
	}
	if !json.Valid([]byte(r.stderr)) {
		t.Errorf("test --json on a terminal: stderr is not pure JSON:\n%s", r.stderr)
	}
	want(t, "test --json on a terminal", decode[errorInfo](t, r.stderr).Error, "asks no questions with --json")
	// The "y" on stdin was not read as an answer: the bucket is still missing.
	if r := runIn("", "ls", raw); r.code != exitNotFound {
		t.Errorf("test --json created the bucket from stdin: ls says %s", r)
	}
}

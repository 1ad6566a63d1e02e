package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command line, end to end on the fake: flags after arguments, exit codes.
func TestCommandLine(t *testing.T) {
	ctx := t.Context()
	srv, _ := fakeRemote(t)
	dir, files := sourceTree(t)
	url := srv.URL(bucket, "cli")
	dest := filepath.Join(t.TempDir(), "out.bin")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"backup", dir, url, "--volume-class", "GLACIER", "--block-size", "4KiB", "--volume-size=16KiB"}, 0, "new volume(s)"},
		{[]string{"list", url}, 0, "sub/deep/medium.bin"},
		{[]string{"verify", "--sample", "1", url}, 0, " in GLACIER)"},
		{[]string{"restore", url, "big.bin", dest, "--poll", "10ms", "--tier", "Expedited"}, 0, "restored big.bin"},
		{[]string{"restore", url, "big.bin"}, 2, ""},
		{[]string{"backup", dir, url, "--block-size", "12parsecs"}, 2, ""},
		{[]string{"list", "s3://x"}, 1, ""},
		{[]string{"frobnicate"}, 2, ""},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(ctx, tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%q: exit %d, want %d; stdout lacks %q?\n%s%s", tc.args, code, tc.code, tc.want, stdout.String(), stderr.String())
		}
	}
	if got, _ := os.ReadFile(dest); !bytes.Equal(got, files["big.bin"]) {
		t.Error("restore from the command line differs")
	}
}

func TestDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "identical to the original") {
		t.Errorf("demo: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// demoScript is the session "s3dest demo" runs. Lines are "$ command" (an
// optional "echo 'text' | " in front feeds stdin) or "# comment". The
// README shows its output; TestREADMETranscript replays the README's copy.
var demoScript = []string{
	"# S3DEST_URL points at the fake server, so the URL can be left out.",
	"$ s3dest mb",
	"$ s3dest test --write",
	"$ echo 'hello from s3dest' | s3dest put - notes.txt",
	"$ echo 'last month, kept in deep storage' | s3dest put --storage-class GLACIER - 2026-01.tar",
	"$ s3dest ls",
	"$ s3dest get notes.txt -",
	"# An object in GLACIER cannot be read until it is restored: exit code 4.",
	"$ s3dest get 2026-01.tar -",
	"$ s3dest restore 2026-01.tar",
	"$ s3dest wait --poll 100ms 2026-01.tar",
	"$ s3dest get 2026-01.tar -",
	"$ s3dest ls",
	"$ s3dest stat --json 2026-01.tar",
}

func cmdDemo(ctx context.Context, c *call) error {
	return c.demo(ctx, c.stdout, demoScript)
}

// demo starts the fake server, points S3DEST_URL at it and replays script,
// printing each command and its output (stdout and stderr together, as on
// a terminal) and the exit status of those that fail.
func (a *app) demo(ctx context.Context, out io.Writer, script []string) error {
	srv := s3test.NewServer()
	defer srv.Close()
	rawURL := "s3://demo/laptop?s3-server-name=" + url.QueryEscape(srv.Endpoint) +
		"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + s3test.SecretKey
	u, err := s3dest.ParseURL(rawURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "A fake S3 server runs in this process at %s. S3DEST_URL is\n", srv.Endpoint)
	fmt.Fprintf(out, "  %s\n", u) // String leaves the secret out
	fmt.Fprintf(out, "with the fake's secret key in aws-secret-access-key, which s3dest never prints.\n")
	env := func(k string) string {
		if k == "S3DEST_URL" {
			return rawURL
		}
		return ""
	}
	return a.replay(ctx, out, env, script)
}

var echoPipe = regexp.MustCompile(`^echo '([^']*)' \| (.*)$`)

// replay runs a script's commands in-process, each with its own app.
func (a *app) replay(ctx context.Context, out io.Writer, env func(string) string, script []string) error {
	for _, line := range script {
		if strings.HasPrefix(line, "# ") {
			fmt.Fprintln(out, line)
			continue
		}
		cmdline, ok := strings.CutPrefix(line, "$ ")
		if !ok {
			return fmt.Errorf("script line %q: want \"$ command\" or \"# comment\"", line)
		}
		stdin := ""
		if m := echoPipe.FindStringSubmatch(cmdline); m != nil {
			stdin, cmdline = m[1]+"\n", m[2]
		}
		args := strings.Fields(cmdline)
		if len(args) == 0 || args[0] != "s3dest" {
			return fmt.Errorf("script line %q: only s3dest commands can be replayed", line)
		}
		fmt.Fprintln(out, line)
		sub := &app{stdin: strings.NewReader(stdin), stdout: out, stderr: out, getenv: env, progressEvery: a.progressEvery}
		if code := sub.run(ctx, args[1:]); code != exitOK {
			fmt.Fprintf(out, "(exit status %d)\n", code)
		}
	}
	return nil
}

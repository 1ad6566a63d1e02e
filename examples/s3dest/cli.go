package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/s3dest/s3dest"
)

// Exit codes, documented in the help text.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitNotFound = 3
	exitArchived = 4
	exitDenied   = 5
)

// app is one invocation of the tool: where it reads and writes, and what
// it knows about the terminal.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	stdinTTY       bool // questions may be asked on stdin
	stdoutTTY      bool // get - would mix a progress line with the data
	stderrTTY      bool // progress lines may be drawn on stderr
	stderrWidth    int  // its columns, when it is a terminal
	progressEvery  time.Duration
	secrets        []string // the URL's secret, scrubbed from messages
}

// run is the whole program: main only supplies the process's streams,
// environment and a context that ends on Ctrl-C. It returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: env,
		stdinTTY: isTerminal(stdin), stdoutTTY: isTerminal(stdout), stderrTTY: isTerminal(stderr),
		progressEvery: 100 * time.Millisecond}
	if a.stderrTTY {
		a.stderrWidth = terminalWidth(stderr)
	}
	return a.run(ctx, args)
}

// opts holds every command's flags; each command registers the ones it has.
type opts struct {
	json, verbose bool

	create, write bool // test

	storageClass string // put
	partSize     string
	concurrency  int

	days int // restore
	tier string

	poll, timeout time.Duration // wait

	olderThan time.Duration // cleanup

	names string // lifecycle

	at, version string // ls, stat, get: the past of a versioned bucket (cmd_versions.go)
}

// command is one subcommand.
type command struct {
	name    string
	args    string // positional arguments after the URL, for the usage line
	summary string
	detail  string
	min     int // positional arguments after the URL
	max     int // -1: any number
	noURL   bool
	flags   func(*flag.FlagSet, *opts)
	run     func(ctx context.Context, c *call) error
}

// call is what a command runs with.
type call struct {
	*app
	cmd  *command
	o    *opts
	dest *s3dest.Destination
	url  *s3dest.URL
	args []string  // positional arguments after the URL
	bar  *progress // nil: no progress line
}

// usageError is a mistake on the command line: exit code 2. The hint
// defaults to the command's --help.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, shortUsage)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	cmd := findCommand(name)
	if cmd == nil {
		fmt.Fprintf(a.stderr, "s3dest: unknown command %q\n%s", redact(name), shortUsage)
		return exitUsage
	}
	o := &opts{}
	fs := newFlagSet(cmd, o)
	pos, err := parseInterspersed(fs, args[1:])
	if err == nil && o.concurrency == 0 {
		// 0 is the flag's unset value: given, it is out of range.
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "concurrency" {
				err = errors.New("--concurrency 0: give 1 to 64")
			}
		})
	}
	if errors.Is(err, flag.ErrHelp) {
		a.commandHelp(a.stdout, cmd)
		return exitOK
	}
	if err != nil {
		return a.fail(o, cmd, usagef("%v", err))
	}
	c := &call{app: a, cmd: cmd, o: o, args: pos}
	if !cmd.noURL {
		rawURL, rest, err := a.destinationURL(cmd, pos)
		if err != nil {
			return a.fail(o, cmd, err)
		}
		c.args = rest
		if err := checkCount(cmd, rest); err != nil {
			return a.fail(o, cmd, err)
		}
		if c.dest, err = a.open(ctx, c, rawURL); err != nil {
			return a.fail(o, cmd, err)
		}
	} else if err := checkCount(cmd, pos); err != nil {
		return a.fail(o, cmd, err)
	}
	err = cmd.run(ctx, c)
	c.bar.finish()
	if err != nil {
		return a.fail(o, cmd, err)
	}
	return exitOK
}

// parseInterspersed parses flags wherever they are among the positional
// arguments ("rm URL a b --json"); "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// urlLike reports whether an argument is meant as a destination URL: it
// has a scheme, or it is a mistyped one ("s3:/bucket", "s3:bucket"), or it
// carries a secret option. Such an argument is never an object name or a
// file: taken for one, it would be echoed, secret and all.
var urlLike = regexp.MustCompile(`(?i)://|^s3s?:|[?&](aws[-_]secret[-_]access[-_]key|auth-password|(aws-)?session-token|s3-sse-customer-key|s3-ext-proxycredentials)=`)

// destinationURL takes the URL from the first argument when it looks like
// one, else from S3DEST_URL.
func (a *app) destinationURL(cmd *command, pos []string) (rawURL string, rest []string, err error) {
	if len(pos) > 0 && urlLike.MatchString(pos[0]) {
		a.secrets = urlSecrets(pos[0])
		return pos[0], pos[1:], nil
	}
	if u := a.getenv("S3DEST_URL"); u != "" {
		a.secrets = urlSecrets(u)
		return u, pos, nil
	}
	return "", nil, &usageError{
		msg: fmt.Sprintf("no destination URL. Give it as the first argument, quoted for the shell:\n"+
			"  s3dest %s 's3://bucket/prefix?s3-location-constraint=REGION&aws-access-key-id=KEY&aws-secret-access-key=SECRET'%s\n"+
			"or set the environment variable S3DEST_URL to it.",
			cmd.name, strings.TrimPrefix(" "+cmd.args, " URL")),
		hint: "'s3dest help' lists the URL options; 's3dest demo' shows a session on a built-in fake server",
	}
}

// urlSecrets returns the secret keys a URL carries, as typed and decoded:
// the password of its user info and the secret options.
func urlSecrets(raw string) []string {
	var out []string
	add := func(v string) {
		out = append(out, v)
		if d, err := url.QueryUnescape(v); err == nil && d != v {
			out = append(out, d)
		}
	}
	_, rest, _ := strings.Cut(raw, "://")
	authority, query, _ := strings.Cut(rest, "?")
	authority, _, _ = strings.Cut(authority, "/")
	if userinfo, _, ok := strings.Cut(authority, "@"); ok {
		if _, pass, ok := strings.Cut(userinfo, ":"); ok {
			add(pass)
		}
	}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "aws-secret-access-key", "aws_secret_access_key", "auth-password", "session-token", "aws-session-token",
			"s3-sse-customer-key", "s3-ext-proxycredentials":
			add(v)
		}
	}
	return out
}

func checkCount(cmd *command, pos []string) error {
	switch {
	case len(pos) < cmd.min:
		return usagef("missing arguments: s3dest %s %s", cmd.name, cmd.args)
	case cmd.max >= 0 && len(pos) > cmd.max:
		return usagef("too many arguments (unexpected %q): s3dest %s %s", redact(pos[cmd.max]), cmd.name, cmd.args)
	}
	return nil
}

// redact keeps a stray URL, which may hold a secret, out of messages.
func redact(arg string) string {
	if urlLike.MatchString(arg) || strings.Contains(arg, "@") {
		return "<a URL>"
	}
	return arg
}

// open builds the destination with the options the command's flags add.
// A URL or option s3dest refuses is a usage error.
func (a *app) open(ctx context.Context, c *call, rawURL string) (*s3dest.Destination, error) {
	var verbose slog.Handler
	if c.o.verbose {
		verbose = slog.NewTextHandler(a.stderr, nil)
	}
	c.bar = a.progressFor(c)
	extra := c.bar.options(c, verbose)
	if c.o.storageClass != "" {
		extra = append(extra, s3dest.WithStorageClass(c.o.storageClass))
	}
	if c.o.partSize != "" {
		n, err := parseSize(c.o.partSize)
		if err != nil {
			return nil, usagef("--part-size %q: %v", c.o.partSize, err)
		}
		extra = append(extra, s3dest.WithPartSize(n))
	}
	if c.o.concurrency != 0 {
		extra = append(extra, s3dest.WithConcurrency(c.o.concurrency))
	}
	if view, err := viewOption(c.o); err != nil {
		return nil, err
	} else if view != nil {
		extra = append(extra, view)
	}
	c.url, _ = s3dest.ParseURL(rawURL) // Open reports its error
	dest, err := s3dest.Open(ctx, rawURL, extra...)
	var e *s3dest.Error
	switch {
	case errors.As(err, &e) && e.Err != nil:
		return nil, &usageError{msg: "bad destination URL or flag: " + e.Err.Error(),
			hint: "'s3dest help' lists the URL options"}
	case err != nil:
		return nil, &usageError{msg: "bad destination URL or flag: " + err.Error()}
	}
	return dest, nil
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	err = firstFailure(err)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, s3dest.ErrBucketNotFound), errors.Is(err, s3dest.ErrObjectNotFound):
		return exitNotFound
	case errors.Is(err, s3dest.ErrObjectArchived):
		return exitArchived
	case errors.Is(err, s3dest.ErrAccessDenied):
		return exitDenied
	}
	return exitError
}

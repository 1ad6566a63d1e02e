package main

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

var update = flag.Bool("update", false, "rewrite the transcript in README.md from a fresh run of its commands")

// transcriptMarker precedes the fenced transcript in README.md.
const transcriptMarker = "<!-- transcript:"

var (
	portRe = regexp.MustCompile(`127\.0\.0\.1(:|%3A)[0-9]+`)
	timeRe = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z`)
)

// normalize replaces what changes from run to run: the fake's port, times.
func normalize(s string) []string {
	s = portRe.ReplaceAllString(s, "127.0.0.1${1}PORT")
	s = timeRe.ReplaceAllString(s, "YYYY-MM-DDTHH:MM:SSZ")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// readmeTranscript returns README.md and the byte range and text of the
// fenced block after the transcript marker.
func readmeTranscript(t *testing.T) (readme string, start, end int, block string) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme = string(b)
	m := strings.Index(readme, transcriptMarker)
	if m < 0 {
		t.Fatalf("README.md has no %q marker", transcriptMarker)
	}
	open := strings.Index(readme[m:], "\n```\n")
	if open < 0 {
		t.Fatal("README.md: no fenced block after the transcript marker")
	}
	start = m + open + len("\n```\n")
	closing := strings.Index(readme[start:], "\n```\n")
	if closing < 0 {
		t.Fatal("README.md: the transcript block is not closed")
	}
	end = start + closing + 1
	return readme, start, end, readme[start:end]
}

// scriptOf returns a transcript's commands and comments.
func scriptOf(block string) []string {
	var script []string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "$ ") || strings.HasPrefix(line, "# ") {
			script = append(script, line)
		}
	}
	return script
}

// TestREADMETranscript replays the README's commands against a fresh fake
// server and compares the output, so the transcript cannot rot. With
// -update it rewrites the transcript instead.
func TestREADMETranscript(t *testing.T) {
	readme, start, end, block := readmeTranscript(t)
	var out bytes.Buffer
	a := &app{getenv: func(string) string { return "" }}
	if err := a.demo(t.Context(), &out, scriptOf(block)); err != nil {
		t.Fatal(err)
	}
	got := portRe.ReplaceAllString(out.String(), "127.0.0.1${1}PORT")
	if *update {
		if err := os.WriteFile("README.md", []byte(readme[:start]+got+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(normalize(block), normalize(got)); diff != "" {
		t.Errorf("README.md transcript differs from a fresh run (-README +now); go test -update rewrites it:\n%s", diff)
	}
}

// TestDemo: "s3dest demo" runs the README's session, and prints neither
// the fake's secret nor a failure other than the archived read.
func TestDemo(t *testing.T) {
	r := ok(t, "", "demo")
	_, _, _, block := readmeTranscript(t)
	if diff := cmp.Diff(scriptOf(block), demoScript); diff != "" {
		t.Errorf("the README's session is not the demo's (-README +demo):\n%s", diff)
	}
	if diff := cmp.Diff(normalize(block), normalize(r.stdout)); diff != "" {
		t.Errorf("s3dest demo output differs from the README (-README +demo):\n%s", diff)
	}
	if strings.Contains(r.stdout, s3test.SecretKey) {
		t.Errorf("demo printed the fake's secret key")
	}
	if n := strings.Count(r.stdout, "(exit status "); n != 1 || !strings.Contains(r.stdout, "(exit status 4)") {
		t.Errorf("demo: want exactly one failure, the archived read (exit status 4):\n%s", r.stdout)
	}
}

func TestHelp(t *testing.T) {
	help := ok(t, "", "help").stdout
	for _, args := range [][]string{{"--help"}, {"-h"}} {
		if got := ok(t, "", args...).stdout; got != help {
			t.Errorf("s3dest %s differs from s3dest help", args[0])
		}
	}
	for _, c := range commands() {
		want(t, "help", help, "\n  "+c.name+" ")
		h := ok(t, "", c.name, "--help").stdout
		if h != ok(t, "", "help", c.name).stdout {
			t.Errorf("s3dest %s --help differs from s3dest help %s", c.name, c.name)
		}
		want(t, c.name+" --help", h, "usage: s3dest "+c.name+" [flags] "+c.args, "--json")
	}
	want(t, "help", help, "S3DEST_URL", "EXIT CODES", "  3  not found", "  4  archived", "  5  access denied",
		`{"error": "...", "code": "..."`, "stderr is a terminal", "--create")
	want(t, "restore --help", ok(t, "", "restore", "--help").stdout, "--days int", "(default 7)", "--tier string", "(default Standard)")
	want(t, "wait --help", ok(t, "", "wait", "--help").stdout, "--poll duration", "(default 1m0s)")
	want(t, "cleanup --help", ok(t, "", "cleanup", "--help").stdout, "--older-than duration", "(default 24h0m0s)")
}

var (
	wordRe       = regexp.MustCompile(`[a-z][a-z0-9_-]*[a-z0-9]`)
	helpOptionRe = regexp.MustCompile(`(?m)^  ([a-z][a-z0-9_-]+) {2,}`)
	helpAliasRe  = regexp.MustCompile(`also ([a-z][a-z0-9_-]+)(?:,\s+([a-z][a-z0-9_-]+))?`)
)

// knownOption reports whether ParseURL knows name as a URL option.
func knownOption(name string) bool {
	_, err := s3dest.ParseURL("s3://bucket?" + name + "=")
	return err == nil || !strings.Contains(err.Error(), "unknown option")
}

// TestHelpDocumentsEveryOption: every URL option the package doc or the
// top-level README names, ParseURL knowing it, is in the help text; and
// every option the help names is one ParseURL knows.
func TestHelpDocumentsEveryOption(t *testing.T) {
	help := ok(t, "", "help").stdout
	documented := map[string]bool{}
	for _, file := range []string{"../../doc.go", "../../README.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wordRe.FindAllString(string(b), -1) {
			if strings.ContainsAny(w, "-_") && !documented[w] && knownOption(w) {
				documented[w] = true
			}
		}
	}
	if len(documented) < 30 {
		t.Fatalf("found only %d options in doc.go and README.md: %v", len(documented), documented)
	}
	for name := range documented {
		if !regexp.MustCompile(`(^|[^a-z0-9_-])` + regexp.QuoteMeta(name) + `([^a-z0-9_-]|$)`).MatchString(help) {
			t.Errorf("s3dest help does not document the URL option %s", name)
		}
	}
	start := strings.Index(help, "THE DESTINATION URL")
	table := help[start:strings.Index(help, "EXIT CODES")]
	var inHelp []string
	for _, m := range helpOptionRe.FindAllStringSubmatch(table, -1) {
		inHelp = append(inHelp, m[1])
	}
	for _, m := range helpAliasRe.FindAllStringSubmatch(table, -1) {
		inHelp = append(inHelp, m[1])
		if m[2] != "" {
			inHelp = append(inHelp, m[2])
		}
	}
	if len(inHelp) < 30 {
		t.Fatalf("found only %d options in the help's table: %v", len(inHelp), inHelp)
	}
	for _, name := range inHelp {
		if name != "option" && !knownOption(name) {
			t.Errorf("s3dest help documents %s, which ParseURL does not know", name)
		}
	}
}

// TestREADMECommands: the README's command table has a row for every
// command.
func TestREADMECommands(t *testing.T) {
	readme, _, _, _ := readmeTranscript(t)
	for _, c := range commands() {
		if !strings.Contains(readme, "\n| `"+c.name+"`") && !strings.Contains(readme, "\n| `"+c.name+" ") {
			t.Errorf("README.md's command table has no row for %s", c.name)
		}
	}
}

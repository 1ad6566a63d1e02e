package main

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverClock is the fake's clock, moved by the test.
type serverClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *serverClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *serverClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestVersionCommands: in a versioned bucket, ls --at lists the objects as
// they stood at a time and get --at reads them then; versions lists an
// object's versions and delete markers, newest first, and get --version
// downloads one; the past that is not there is exit code 3 with a hint,
// a bad time a usage error, and the view never writes.
func TestVersionCommands(t *testing.T) {
	srv, raw := withBucket(t)
	clock := &serverClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	srv.Now = clock.Now
	if err := srv.EnableVersioning("bkt"); err != nil {
		t.Fatal(err)
	}
	ok(t, "a as it was", "put", raw, "-", "a")
	ok(t, "b, deleted later", "put", raw, "-", "b")
	at := "2026-11-25T12:30:00Z"
	clock.advance(time.Hour)
	ok(t, "a, encrypted by ransomware", "put", raw, "-", "a")
	ok(t, "", "rm", raw, "b")
	ok(t, "pay up", "put", raw, "-", "ransom.txt")

	past := ok(t, "", "ls", raw, "--at", at).stdout
	want(t, "ls --at", past, "2026-11-25T12:00:00Z         11  STANDARD      a\n", "        16  STANDARD      b\n")
	if strings.Contains(past, "ransom.txt") {
		t.Errorf("ls --at lists an object created later:\n%s", past)
	}
	if names := decode[[]fileJSON](t, ok(t, "", "ls", "--json", raw, "--at", at).stdout); len(names) != 2 || names[0].Name != "a" || names[1].Name != "b" {
		t.Errorf("ls --at --json = %+v", names)
	}
	if now := ok(t, "", "ls", raw).stdout; !strings.Contains(now, "ransom.txt") || strings.Contains(now, " b\n") {
		t.Errorf("ls without --at:\n%s", now)
	}
	if got := ok(t, "", "get", raw, "b", "-", "--at", at).stdout; got != "b, deleted later" {
		t.Errorf("get --at b = %q", got)
	}
	want(t, "stat --at", ok(t, "", "stat", raw, "a", "--at", at).stdout, "size:          11 (11 B)")

	versions := ok(t, "", "versions", raw, "a").stdout
	lines := strings.Split(strings.TrimSpace(versions), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "(latest)") || !strings.HasPrefix(lines[1], "2026-11-25T12:00:00Z         11  STANDARD      ") {
		t.Errorf("versions a:\n%s", versions)
	}
	bv := decode[[]versionJSON](t, ok(t, "", "versions", raw, "b", "--json").stdout)
	if len(bv) != 2 || !bv[0].DeleteMarker || !bv[0].Latest || bv[1].DeleteMarker || bv[1].Size != 16 {
		t.Fatalf("versions --json b = %+v", bv)
	}
	want(t, "versions b", ok(t, "", "versions", raw, "b").stdout, "(delete marker, latest: the object reads as deleted)")
	if got := ok(t, "", "get", raw, "b", "-", "--version", bv[1].VersionID).stdout; got != "b, deleted later" {
		t.Errorf("get --version = %q", got)
	}

	for _, tc := range []struct {
		args       []string
		code       int
		out, hint  string
		notWritten bool
	}{
		{args: []string{"get", raw, "b", "-", "--version", bv[0].VersionID}, code: exitNotFound,
			out: "is a delete marker, which has no content", hint: "'s3dest versions URL b' lists its versions"},
		{args: []string{"get", raw, "ransom.txt", "-", "--at", at}, code: exitNotFound,
			out: "no version of it was current at 2026-11-25T12:30:00Z", hint: "'s3dest versions URL ransom.txt'"},
		{args: []string{"get", raw, "a", "-", "--version", "3/NOSUCHVERSION"}, code: exitNotFound, out: "NoSuchVersion"},
		{args: []string{"versions", raw, "never-was"}, code: exitNotFound, out: "no version or delete marker"},
		{args: []string{"ls", raw, "--at", "yesterday"}, code: exitUsage, out: "RFC 3339"},
		{args: []string{"get", raw, "a", "-", "--at", at, "--version", "x"}, code: exitUsage, out: "--version or --at"},
		{args: []string{"rm", raw + "&s3-version-at=" + url.QueryEscape(at), "a"}, code: exitError, out: "read-only"},
	} {
		r := cli(t, nil, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.out) || !strings.Contains(r.stderr, tc.hint) {
			t.Errorf("s3dest %s: %s\nwant exit %d, %q and %q", strings.Join(tc.args, " "), r, tc.code, tc.out, tc.hint)
		}
	}
	if got := ok(t, "", "get", raw, "a", "-").stdout; got != "a, encrypted by ransomware" {
		t.Errorf("after the refused rm, a = %q", got)
	}

	_, plain := withBucket(t) // never versioned
	r := cli(t, nil, "", "ls", plain, "--at", at)
	if r.code != exitError || !strings.Contains(r.stderr, "versioning is off") || !strings.Contains(r.stderr, "enable versioning") {
		t.Errorf("ls --at in an unversioned bucket: %s", r)
	}
}

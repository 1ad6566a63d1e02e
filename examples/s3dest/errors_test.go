package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/s3dest/s3dest/s3test"
)

func TestNoURL(t *testing.T) {
	for _, cmd := range []string{"ls", "test", "get", "rm"} {
		r := cli(t, nil, "", cmd, "name")
		if r.code != exitUsage {
			t.Errorf("%s without a URL: %s", cmd, r)
		}
		want(t, cmd+" without a URL", r.stderr, "no destination URL", "s3dest "+cmd+" 's3://bucket/prefix?", "S3DEST_URL", "s3dest help", "s3dest demo")
	}
	j := decode[errorInfo](t, cli(t, nil, "", "ls", "--json").stderr)
	if j.Code != "usage" || j.Exit != exitUsage || !strings.Contains(j.Error, "S3DEST_URL") {
		t.Errorf("ls --json without a URL: %+v", j)
	}
}

func TestUsageErrors(t *testing.T) {
	_, raw := withBucket(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "usage: s3dest COMMAND"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"ls", "--frob", raw}, "flag provided but not defined: -frob"},
		{[]string{"stat", raw}, "missing arguments: s3dest stat URL name"},
		{[]string{"mv", raw, "a", "b", "c"}, `too many arguments (unexpected "c")`},
		{[]string{"ls", raw, raw}, "too many arguments (unexpected \"<a URL>\")"},
		{[]string{"put", raw, "-"}, "give the object's name when reading stdin"},
		{[]string{"put", raw, t.TempDir()}, "is a directory"},
		{[]string{"put", "--part-size", "lots", raw, "f"}, "--part-size"},
		{[]string{"put", "--part-size", "1KiB", raw, "f"}, "part size 1024 is outside S3's limits"},
		{[]string{"put", "--concurrency", "0", raw, "-", "f"}, "--concurrency 0"}, // help: 1 to 64
		{[]string{"restore", raw, "x", "--tier", "Fast"}, `--tier "Fast"`},
		{[]string{"restore", raw, "x", "--days", "0"}, "--days 0"},
		{[]string{"wait", raw, "x", "--poll", "0s"}, "--poll"},
		{[]string{"wait", raw, "x", "--poll", "soon"}, "invalid value"},
		{[]string{"cleanup", raw, "--older-than", "-1h"}, "--older-than"},
		{[]string{"ls", raw + "&s3-storage-klass=GLACIER"}, `unknown option "s3-storage-klass": did you mean s3-storage-class?`},
		{[]string{"ls", "s3://bkt?aws-access-key-id=K"}, "bad destination URL"},
		{[]string{"help", "frob"}, `no command "frob"`},
	} {
		r := cli(t, nil, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("s3dest %s: want exit 2 and %q; got %s", strings.Join(tc.args, " "), tc.msg, r)
		}
	}
}

// TestExitCodes: not found, archived and access denied each have their
// code, in text and in JSON.
func TestExitCodes(t *testing.T) {
	_, raw := withBucket(t)
	ok(t, "cold", "put", "--storage-class", "GLACIER", raw, "-", "cold.bin")
	_, noBucket := fake(t)
	for _, tc := range []struct {
		args []string
		code int
		cat  string
		msg  string
	}{
		{[]string{"stat", raw, "missing"}, exitNotFound, "object_not_found", "s3://bkt/pre/missing: object not found"},
		{[]string{"get", raw, "missing", "-"}, exitNotFound, "object_not_found", "object not found (NoSuchKey"},
		{[]string{"mv", raw, "missing", "b"}, exitNotFound, "object_not_found", "object not found"},
		{[]string{"restore", raw, "missing"}, exitNotFound, "object_not_found", "object not found"},
		{[]string{"wait", raw, "missing", "--poll", "1ms"}, exitNotFound, "object_not_found", "object not found"},
		{[]string{"ls", noBucket}, exitNotFound, "bucket_not_found", "s3://bkt: bucket not found (NoSuchBucket"},
		{[]string{"put", noBucket, "-", "x"}, exitNotFound, "bucket_not_found", "bucket not found"},
		{[]string{"get", raw, "cold.bin", "-"}, exitArchived, "archived", "object is archived (InvalidObjectState"},
		{[]string{"mv", raw, "cold.bin", "warm.bin"}, exitArchived, "archived", "object is archived: storage class GLACIER"},
		{[]string{"wait", raw, "cold.bin"}, exitArchived, "archived", "archived and not being restored: cold.bin"},
		{[]string{"restore", raw, "cold.bin", "--tier", "Expedited"}, exitOK, "", ""},
	} {
		r := cli(t, nil, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("s3dest %s: want exit %d and %q; got %s", strings.Join(tc.args, " "), tc.code, tc.msg, r)
		}
		if tc.code == exitOK {
			continue
		}
		j := decode[errorInfo](t, cli(t, nil, "", append(tc.args, "--json")...).stderr)
		if j.Exit != tc.code || j.Code != tc.cat || !strings.Contains(j.Error, tc.msg) || j.Hint == "" {
			t.Errorf("s3dest %s --json: error %+v, want exit %d, code %s", strings.Join(tc.args, " "), j, tc.code, tc.cat)
		}
	}
	// A restore in progress: wait gives up after --timeout with exit code 1.
	r := cli(t, nil, "", "wait", raw, "cold.bin", "--poll", "1ms", "--timeout", "1ns")
	if r.code != exitError || !strings.Contains(r.stderr, "still being restored after --timeout 1ns") {
		t.Errorf("wait --timeout: %s", r)
	}
}

func TestAccessDenied(t *testing.T) {
	srv, raw := withBucket(t)
	ok(t, "data", "put", raw, "-", "a.txt")
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied by the test")
		return true
	})
	for _, args := range [][]string{
		{"ls", raw}, {"stat", raw, "a.txt"}, {"get", raw, "a.txt", "-"}, {"put", raw, "-", "b.txt"},
		{"rm", raw, "a.txt"}, {"mv", raw, "a.txt", "b.txt"}, {"test", raw}, {"mb", raw}, {"restore", raw, "a.txt"},
		{"cleanup", raw},
	} {
		r := cli(t, nil, "data", args...)
		if r.code != exitDenied || !strings.Contains(r.stderr, "access denied") {
			t.Errorf("s3dest %s: want exit 5 and access denied; got %s", args[0], r)
		}
		j := decode[errorInfo](t, cli(t, nil, "data", append(args, "--json")...).stderr)
		if j.Code != "access_denied" || j.Exit != exitDenied || !strings.Contains(j.Hint, "aws-secret-access-key") {
			t.Errorf("s3dest %s --json: %+v", args[0], j)
		}
	}
}

// TestTestCommand follows Duplicati's "Test connection" flow.
func TestTestCommand(t *testing.T) {
	srv, raw := fake(t)

	// No terminal, no --create: exit 3, saying to pass --create.
	r := cli(t, nil, "y\n", "test", raw)
	if r.code != exitNotFound {
		t.Errorf("test of a missing bucket without a terminal: %s", r)
	}
	want(t, "test without --create", r.stderr, "bucket bkt does not exist", "stdin is not a terminal", "pass --create to create it in region us-east-1")

	// A terminal that answers no, then yes.
	tty := func(answer string, args ...string) result {
		var out, errOut bytes.Buffer
		a := &app{stdin: strings.NewReader(answer), stdout: &out, stderr: &errOut,
			getenv: func(string) string { return "" }, stdinTTY: true}
		return result{code: a.run(t.Context(), args), stdout: out.String(), stderr: errOut.String()}
	}
	r = tty("n\n", "test", raw)
	if r.code != exitNotFound || !strings.Contains(r.stderr, "Bucket bkt does not exist. Create it in region us-east-1? [y/N] ") ||
		!strings.Contains(r.stderr, "not created") {
		t.Errorf("test answered no: %s", r)
	}
	r = tty("", "test", raw) // end of input: no
	if r.code != exitNotFound {
		t.Errorf("test with no answer: %s", r)
	}
	r = tty("yes\n", "test", "--write", raw)
	if r.code != exitOK {
		t.Fatalf("test answered yes: %s", r)
	}
	want(t, "test answered yes", r.stdout, "created bucket bkt in region us-east-1",
		"ok: s3://bkt/pre/ can be listed (endpoint "+srv.Endpoint+", region us-east-1)", "ok: a probe object was written, read back and deleted")

	// --create for scripts, and JSON.
	_, raw2 := fake(t)
	j := decode[map[string]any](t, ok(t, "", "test", "--create", "--json", raw2).stdout)
	if j["ok"] != true || j["created"] != true || j["bucket"] != "bkt" || j["prefix"] != "pre/" || j["write_tested"] != false {
		t.Errorf("test --create --json = %v", j)
	}
	if u, isString := j["url"].(string); !isString || !strings.HasPrefix(u, "s3://bkt/pre/") {
		t.Errorf("test --json url = %v, want the destination's s3://bkt/pre/ URL", j["url"])
	} else if strings.Contains(u, "secret") {
		t.Errorf("test --json url holds the secret: %s", u)
	}
	j = decode[map[string]any](t, ok(t, "", "test", "--write", "--json", raw2).stdout)
	if j["created"] != false || j["write_tested"] != true {
		t.Errorf("test --write --json of an existing bucket = %v", j)
	}
	if r := ok(t, "", "ls", raw2); r.stdout != "" {
		t.Errorf("test --write left its probe behind:\n%s", r.stdout)
	}

	// The region offered is where the bucket would be created (the location
	// constraint, EU being eu-west-1), not the signing region.
	_, raw3 := fake(t)
	raw3 += "&s3-location-constraint=EU&s3-authentication-region=us-west-2"
	want(t, "test in EU", cli(t, nil, "", "test", raw3).stderr, "pass --create to create it in region eu-west-1")
	want(t, "test --create in EU", ok(t, "", "test", "--create", raw3).stdout, "created bucket bkt in region eu-west-1")
}

// TestSecretNeverPrinted runs commands that succeed, fail and log, with the
// secret in the query, in the user info, and in Duplicati's auth-password;
// cli fails the test if any output holds it.
func TestSecretNeverPrinted(t *testing.T) {
	srv, raw := withBucket(t)
	host := url.QueryEscape(srv.Endpoint)
	urls := []string{
		raw,
		"s3://" + s3test.AccessKey + ":" + testSecret + "@bkt/pre?s3-server-name=" + host,
		"s3://bkt/pre?s3-server-name=" + host + "&auth-username=" + s3test.AccessKey + "&auth-password=" + testSecret,
	}
	for _, u := range urls {
		for _, args := range [][]string{
			{"test", "-v", "--write", u}, {"mb", u}, {"put", "-v", u, "-", "s.txt"}, {"ls", "--json", u}, {"stat", u, "s.txt"},
			{"get", u, "nothing", "-"}, {"get", "--json", u, "nothing", "-"}, {"ls", u + "&bogus=1"},
			{"ls", u + "&s3-storage-class=bad class"}, {"ls", u, "extra"}, {"restore", u, "s.txt"},
		} {
			cli(t, nil, "x", args...)
		}
	}
	// Every request refused: the error paths.
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusForbidden, "SignatureDoesNotMatch", "The signature does not match")
		return true
	})
	for _, u := range urls {
		cli(t, nil, "", "ls", "-v", u)
		cli(t, nil, "", "test", "--json", u)
	}
	srv.SetHook(nil)
	// The environment variable, and a URL in the wrong place.
	env := map[string]string{"S3DEST_URL": raw}
	cli(t, env, "", "ls", "-v")
	cli(t, env, "", "frob", raw)
	cli(t, env, "", "help", raw)
}

// TestMistypedURL: a URL with one slash too few ("s3:/bucket", "s3:bucket")
// is no object name or local file: with S3DEST_URL set it must not be taken
// for one (and echoed, secret and all, in "too many arguments" or "object
// not found"), and without it the error must say what is wrong with the URL
// rather than that none was given.
func TestMistypedURL(t *testing.T) {
	_, raw := withBucket(t)
	env := map[string]string{"S3DEST_URL": raw}
	// The mistyped URL is another destination's, with another secret,
	// which scrubbing S3DEST_URL's secret does not hide.
	const otherSecret = "other-Secret-must-NEVER-show-0042"
	other := strings.Replace(raw, testSecret, otherSecret, 1)
	for _, typo := range []string{
		strings.Replace(other, "s3://", "s3:/", 1),
		strings.Replace(other, "s3://", "s3:", 1),
		strings.Replace(other, "s3://", "S3:/", 1),
		strings.Replace(other, "s3://", "s3//", 1), // no scheme at all: the secret option gives it away
	} {
		for _, args := range [][]string{{"ls", typo}, {"stat", typo, "x"}, {"get", typo, "x", "-"}, {"put", typo, "-", "x"}} {
			for _, e := range []map[string]string{env, nil} {
				r := cli(t, e, "data", args...) // cli fails the test on testSecret
				if strings.Contains(r.stdout+r.stderr, otherSecret) {
					t.Errorf("s3dest %s %q printed the secret key:\n%s", args[0], typo, r)
				}
				if r.code != exitUsage || strings.Contains(r.stderr, "no destination URL") ||
					!strings.Contains(r.stderr, "s3://") {
					t.Errorf("s3dest %s %q (S3DEST_URL set: %v): want exit 2 and what is wrong with the URL; got %s",
						args[0], typo, e != nil, r)
				}
			}
		}
	}
	// Object names that only start like a scheme-less path still work.
	ok(t, "data", "put", raw, "-", "s3/x.txt")
	if r := cli(t, env, "", "stat", "s3/x.txt"); r.code != 0 {
		t.Errorf("stat s3/x.txt with S3DEST_URL: %s", r)
	}
}

// An error of no category that carries a hint (a certificate no trusted
// authority signed) prints the hint once, on its own line, not also in
// parentheses at the end of the message.
func TestHintPrintedOnce(t *testing.T) {
	srv := s3test.NewTLSServer()
	t.Cleanup(srv.Close)
	raw := "s3://bkt/pre?s3-server-name=" + url.QueryEscape(srv.Endpoint) +
		"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + testSecret
	r := cli(t, nil, "", "ls", raw)
	if r.code != exitError || strings.Count(r.stderr, "AWS_CA_BUNDLE") != 1 {
		t.Errorf("ls on a server with a self-signed certificate: want exit 1 and the hint once; got %s", r)
	}
}

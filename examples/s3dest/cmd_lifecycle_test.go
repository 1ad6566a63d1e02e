package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/s3dest/s3dest/s3test"
)

// TestLifecycle: lifecycle shows, sets, changes and removes the archive
// rule, in text and JSON, for the prefix and for names within it.
func TestLifecycle(t *testing.T) {
	_, raw := withBucket(t)
	d := open(t, raw)
	rule := func(names string) (int, string) {
		t.Helper()
		days, class, err := d.ArchiveAfterPrefix(t.Context(), names)
		if err != nil {
			t.Fatal(err)
		}
		return days, class
	}

	want(t, "show none", ok(t, "", "lifecycle", raw).stdout, "no archive rule for s3://bkt/pre/\n")
	want(t, "set", ok(t, "", "lifecycle", raw, "30", "GLACIER").stdout,
		"archive rule for s3://bkt/pre/ set: objects move to GLACIER 30 days after upload\n")
	if days, class := rule(""); days != 30 || class != "GLACIER" {
		t.Errorf("the bucket's rule after lifecycle 30 GLACIER: %d %s", days, class)
	}
	want(t, "show", ok(t, "", "lifecycle", raw).stdout, "archive rule for s3://bkt/pre/: objects move to GLACIER 30 days after upload\n")
	want(t, "set again", ok(t, "", "lifecycle", raw, "30", "GLACIER").stdout, "unchanged")

	j := decode[lifecycleJSON](t, ok(t, "", "lifecycle", "--json", raw, "90", "DEEP_ARCHIVE").stdout)
	if j.Bucket != "bkt" || j.Prefix != "pre/" || j.Days != 90 || j.StorageClass != "DEEP_ARCHIVE" || j.Changed == nil || !*j.Changed {
		t.Errorf("lifecycle --json 90 DEEP_ARCHIVE = %+v", j)
	}
	j = decode[lifecycleJSON](t, ok(t, "", "lifecycle", raw, "--json").stdout)
	if j.Days != 90 || j.StorageClass != "DEEP_ARCHIVE" || j.Changed != nil {
		t.Errorf("lifecycle --json = %+v", j)
	}

	// --names: Duplicati's data files only, beside the prefix's rule.
	want(t, "set --names", ok(t, "", "lifecycle", raw, "--names", "duplicati-b", "7", "GLACIER_IR").stdout,
		"archive rule for s3://bkt/pre/duplicati-b* set: objects move to GLACIER_IR 7 days after upload")
	if days, class := rule("duplicati-b"); days != 7 || class != "GLACIER_IR" {
		t.Errorf("the rule for duplicati-b: %d %s", days, class)
	}
	j = decode[lifecycleJSON](t, ok(t, "", "lifecycle", raw, "--json", "--names", "duplicati-b").stdout)
	if j.Names != "duplicati-b" || j.Days != 7 {
		t.Errorf("lifecycle --json --names duplicati-b = %+v", j)
	}

	want(t, "remove", ok(t, "", "lifecycle", raw, "0").stdout,
		"removed the archive rule for s3://bkt/pre/ (objects moved to DEEP_ARCHIVE 90 days after upload)\n")
	want(t, "remove again", ok(t, "", "lifecycle", raw, "0", "GLACIER").stdout, "no archive rule for s3://bkt/pre/: nothing to remove\n")
	if days, _ := rule(""); days != 0 {
		t.Errorf("the prefix's rule is still there: %d days", days)
	}
	if days, _ := rule("duplicati-b"); days != 7 {
		t.Errorf("removing the prefix's rule removed the duplicati-b one (%d days)", days)
	}
}

// TestLifecycleErrors: arguments the tool refuses are usage errors (exit
// 2) before any request; what the library or the server refuses keeps its
// category (exit 1), with the library's hint.
func TestLifecycleErrors(t *testing.T) {
	srv, raw := withBucket(t)
	srv.ResetRequests()
	for _, args := range [][]string{
		{"lifecycle", raw, "30"},
		{"lifecycle", raw, "thirty", "GLACIER"},
		{"lifecycle", raw, "--", "-1", "GLACIER"},
		{"lifecycle", raw, "36501", "GLACIER"},
		{"lifecycle", raw, "30", "GLACIER", "extra"},
	} {
		if r := cli(t, nil, "", args...); r.code != exitUsage || !strings.Contains(r.stderr, "s3dest lifecycle") {
			t.Errorf("s3dest %s: want a usage error:\n%s", strings.Join(args[2:], " "), r)
		}
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("refused command lines sent %d requests, the first %s %s %v", len(reqs), reqs[0].Method, reqs[0].Path, reqs[0].Query)
	}

	r := cli(t, nil, "", "lifecycle", "--json", raw, "30", "GLACIER IR")
	if e := decode[errorInfo](t, r.stderr); r.code != exitError || e.Code != "invalid" {
		t.Errorf("a class with a space: %s", r)
	}
	r = cli(t, nil, "", "lifecycle", "--json", raw, "10", "STANDARD_IA")
	if e := decode[errorInfo](t, r.stderr); r.code != exitError || e.Code != "invalid" || e.S3Code != "InvalidArgument" || !strings.Contains(e.Hint, "30 days") {
		t.Errorf("10 days to STANDARD_IA: %s", r)
	}

	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("lifecycle") {
			s3test.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented.")
			return true
		}
		return false
	})
	for _, args := range [][]string{{"lifecycle", "--json", raw}, {"lifecycle", "--json", raw, "30", "GLACIER"}} {
		r := cli(t, nil, "", args...)
		if e := decode[errorInfo](t, r.stderr); r.code != exitError || e.Code != "not_supported" || !strings.Contains(e.Hint, "archive class") {
			t.Errorf("s3dest %s on a server without lifecycle rules: %s", strings.Join(args[3:], " "), r)
		}
	}
	r = cli(t, nil, "", "lifecycle", raw)
	want(t, "text error", r.stderr, "s3dest lifecycle: archive-after s3://bkt: not supported by the server", "hint: ")
}

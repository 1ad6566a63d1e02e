package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// testSecret is the secret key the tests put in URLs; no output may hold it.
const testSecret = "cli-Secret-must-NEVER-show-0042"

// result is what one run of the tool printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%sstderr:\n%s", r.code, r.stdout, r.stderr)
}

// fake starts the fake server and returns it with a destination URL on it
// (bucket "bkt", prefix "pre") carrying testSecret.
func fake(t *testing.T) (*s3test.Server, string) {
	t.Helper()
	srv := s3test.New(t)
	raw := "s3://bkt/pre?s3-server-name=" + url.QueryEscape(srv.Endpoint) +
		"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + testSecret
	return srv, raw
}

// withBucket is fake with the bucket created.
func withBucket(t *testing.T) (*s3test.Server, string) {
	t.Helper()
	srv, raw := fake(t)
	if err := srv.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	return srv, raw
}

// cli runs the tool in-process with stdin and no environment but env.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	r := result{code: code, stdout: out.String(), stderr: errOut.String()}
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, testSecret) || strings.Contains(s, url.QueryEscape(testSecret)) {
			t.Errorf("s3dest %s printed the secret key:\n%s", strings.Join(args, " "), r)
		}
	}
	return r
}

// ok runs the tool and fails the test unless it exits 0.
func ok(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := cli(t, nil, stdin, args...)
	if r.code != 0 {
		t.Fatalf("s3dest %s: %s", args[0], r)
	}
	return r
}

// want fails the test unless s contains every one of subs.
func want(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s: want %q in:\n%s", what, sub, s)
		}
	}
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

// open returns a destination on raw, for checking what the tool did.
func open(t *testing.T, raw string) *s3dest.Destination {
	t.Helper()
	d, err := s3dest.Open(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestObjectCommands(t *testing.T) {
	_, raw := fake(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(local, []byte("hello, s3dest\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	want(t, "mb", ok(t, "", "mb", raw).stdout, "created bucket bkt")
	want(t, "mb again", ok(t, "", "mb", raw).stdout, "bucket bkt exists already")
	want(t, "put file", ok(t, "", "put", raw, local).stdout, "put notes.txt: 14 B")
	want(t, "put stdin", ok(t, "from stdin", "put", raw, "-", "dir/in.txt").stdout, "put dir/in.txt: 10 B")
	// Flags may follow the positional arguments.
	want(t, "put class", ok(t, "cold", "put", raw, "-", "cold.bin", "--storage-class", "GLACIER").stdout, "storage class GLACIER")

	ls := ok(t, "", "ls", raw).stdout
	want(t, "ls", ls, "notes.txt", "cold.bin  (archived)", "GLACIER")
	if strings.Contains(ls, "in.txt") {
		t.Errorf("ls without s3-recursive-list shows a key below a folder:\n%s", ls)
	}
	files := decode[[]fileJSON](t, ok(t, "", "ls", raw+"&s3-recursive-list", "--json").stdout)
	names := map[string]fileJSON{}
	for _, f := range files {
		names[f.Name] = f
	}
	if len(files) != 3 || names["notes.txt"].Size != 14 || !names["cold.bin"].Archived || names["dir/in.txt"].StorageClass != "STANDARD" {
		t.Errorf("ls --json = %+v", files)
	}

	st := ok(t, "", "stat", raw, "notes.txt").stdout
	want(t, "stat", st, "name:          notes.txt", "size:          14 (14 B)", "storage class: STANDARD", "checksum:      CRC32C:", "state:         readable")
	sj := decode[fileJSON](t, ok(t, "", "stat", "--json", raw, "cold.bin").stdout)
	if sj.Name != "cold.bin" || !sj.Archived || sj.StorageClass != "GLACIER" || sj.Modified.IsZero() {
		t.Errorf("stat --json = %+v", sj)
	}

	if got := ok(t, "", "get", raw, "notes.txt", "-").stdout; got != "hello, s3dest\n" {
		t.Errorf("get - = %q", got)
	}
	into := filepath.Join(dir, "copy.txt")
	want(t, "get file", ok(t, "", "get", raw, "notes.txt", into).stdout, "got notes.txt: 14 B, into "+into)
	if b, err := os.ReadFile(into); err != nil || string(b) != "hello, s3dest\n" {
		t.Errorf("get into a file: %q, %v", b, err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	gj := decode[map[string]any](t, ok(t, "", "get", "--json", raw, "dir/in.txt", sub).stdout)
	if gj["file"] != filepath.Join(sub, "in.txt") || gj["size"] != 10.0 {
		t.Errorf("get --json into a directory = %v", gj)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 { // notes.txt, copy.txt, sub: no temporary left
		t.Errorf("get left files behind: %v", entries)
	}

	want(t, "mv", ok(t, "", "mv", raw, "notes.txt", "renamed.txt").stdout, "renamed notes.txt to renamed.txt")
	want(t, "rm", ok(t, "", "rm", raw, "renamed.txt", "never-there", "--", "dir/in.txt").stdout,
		"removed renamed.txt\n", "removed never-there\n", "removed dir/in.txt\n")
	left := decode[[]fileJSON](t, ok(t, "", "ls", "--json", raw).stdout)
	if len(left) != 1 || left[0].Name != "cold.bin" {
		t.Errorf("after mv and rm, ls --json = %+v", left)
	}
}

// TestEnvURL: without a URL argument, S3DEST_URL is the destination.
func TestEnvURL(t *testing.T) {
	_, raw := withBucket(t)
	env := map[string]string{"S3DEST_URL": raw}
	if r := cli(t, env, "data", "put", "-", "a.txt"); r.code != 0 {
		t.Fatal(r)
	}
	if r := cli(t, env, "", "ls"); r.code != 0 || !strings.Contains(r.stdout, "a.txt") {
		t.Fatal(r)
	}
	// An explicit URL wins over the environment.
	_, other := withBucket(t)
	if r := cli(t, env, "", "ls", other); r.code != 0 || r.stdout != "" {
		t.Errorf("ls with a URL argument listed S3DEST_URL's bucket: %s", r)
	}
}

func TestMultipartPutAndGet(t *testing.T) {
	_, raw := withBucket(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 11<<20/16) // 11 MiB: three 5 MiB parts
	local := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(local, data, 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, "put file", ok(t, "", "put", "--part-size", "5MiB", "--concurrency", "2", raw, local).stdout, "put big.bin: 11.0 MiB")
	want(t, "put stdin", ok(t, string(data), "put", "--part-size", "5MiB", raw, "-", "streamed.bin").stdout, "put streamed.bin: 11.0 MiB")
	for _, name := range []string{"big.bin", "streamed.bin"} {
		if got := ok(t, "", "get", raw, name, "-").stdout; got != string(data) {
			t.Errorf("get %s: %d bytes back, want the %d put", name, len(got), len(data))
		}
	}
}

func TestRestoreAndWait(t *testing.T) {
	srv, raw := withBucket(t)
	srv.RestorePolls = 2
	ok(t, "cold", "put", "--storage-class", "DEEP_ARCHIVE", raw, "-", "deep.bin")
	ok(t, "warm", "put", raw, "-", "warm.bin")

	r := ok(t, "", "restore", raw, "deep.bin", "warm.bin", "--days", "3", "--tier", "bulk")
	want(t, "restore", r.stdout,
		"deep.bin: restore requested from DEEP_ARCHIVE (Bulk tier, readable for 3 days once restored)",
		"warm.bin: not archived (STANDARD): readable now")
	if got := srv.Restore("bkt", "pre/deep.bin"); got.Days != 3 || got.Tier != "Bulk" || got.Requests != 1 {
		t.Errorf("server saw restore %+v, want 3 days, Bulk, once", got)
	}
	// A failure does not stop the others; the exit code is the first failure's.
	r = cli(t, nil, "", "restore", raw, "missing", "warm.bin")
	if r.code != exitNotFound || !strings.Contains(r.stdout, "warm.bin: not archived") || !strings.Contains(r.stderr, "missing: object not found") {
		t.Errorf("restore of a missing and a present object: %s", r)
	}
	rj := decode[[]restoreJSON](t, ok(t, "", "restore", "--json", raw, "deep.bin").stdout)
	if len(rj) != 1 || rj[0].State != "in_progress" {
		t.Errorf("restore --json during a restore = %+v", rj)
	}
	want(t, "wait", cli(t, nil, "", "wait", raw, "deep.bin", "--poll", "1ms").stdout, "readable now: deep.bin")
	if got := ok(t, "", "get", raw, "deep.bin", "-").stdout; got != "cold" {
		t.Errorf("get after wait = %q", got)
	}
	want(t, "ls", ok(t, "", "ls", raw).stdout, "deep.bin  (restored until ")
	// Restored for the 3 days asked: nothing to do. (The default 7 would extend it.)
	rj = decode[[]restoreJSON](t, ok(t, "", "restore", "--json", "--days", "3", raw, "deep.bin").stdout)
	if len(rj) != 1 || rj[0].State != "restored" || rj[0].RestoredUntil == nil {
		t.Errorf("restore --json of a restored object = %+v", rj)
	}
	if got := srv.Restore("bkt", "pre/deep.bin").Requests; got != 1 {
		t.Errorf("restore of a restored object sent a request (%d in all)", got)
	}
	wj := decode[map[string][]string](t, ok(t, "", "wait", "--json", raw, "deep.bin").stdout)
	if len(wj["readable"]) != 1 {
		t.Errorf("wait --json = %v", wj)
	}
}

func TestCleanup(t *testing.T) {
	_, raw := withBucket(t)
	d := open(t, raw)
	key := "pre/abandoned.bin"
	if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: ptr("bkt"), Key: &key}); err != nil {
		t.Fatal(err)
	}
	want(t, "cleanup", ok(t, "", "cleanup", raw).stdout, "aborted 0 incomplete multipart upload(s) started more than 24h ago under s3://bkt/pre/")
	cj := decode[map[string]any](t, ok(t, "", "cleanup", raw, "--older-than", "0", "--json").stdout)
	if cj["aborted"] != 1.0 {
		t.Errorf("cleanup --older-than 0 --json = %v, want 1 aborted", cj)
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"8388608": 8 << 20, "8MiB": 8 << 20, "8M": 8 << 20, "8mb": 8 << 20,
		"64KiB": 64 << 10, "1GiB": 1 << 30, " 5 MiB ": 5 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "0", "1.5MiB", "8TB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

// TestGetDefaultFile: without a local name, get writes the object's base
// name in the current directory.
func TestGetDefaultFile(t *testing.T) {
	_, raw := withBucket(t)
	ok(t, "nested", "put", raw, "-", "a/b/c.txt")
	t.Chdir(t.TempDir())
	want(t, "get", ok(t, "", "get", raw+"&s3-recursive-list", "a/b/c.txt").stdout, "got a/b/c.txt: 6 B, into c.txt")
	if b, err := os.ReadFile("c.txt"); err != nil || string(b) != "nested" {
		t.Errorf("get without a local name: %q, %v", b, err)
	}
}

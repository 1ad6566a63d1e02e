package s3test_test

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/s3dest/s3dest/s3test"
)

// send makes one unsigned request to the fake (it checks no signature) and
// returns the status and the body.
func send(t *testing.T, srv *s3test.Server, method, path, body string, header map[string]string) (int, string) {
	t.Helper()
	status, _, b := raw(t, srv, method, path, header, body)
	return status, b
}

func md5Header(body string) map[string]string {
	sum := md5.Sum([]byte(body))
	return map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}
}

const rule = `<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>` +
	`<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>`

// TestLifecycle: the fake answers GET, PUT and DELETE ?lifecycle as S3
// does, where gofakes3 would list, create and delete the bucket.
func TestLifecycle(t *testing.T) {
	srv := s3test.New(t)
	if err := srv.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	if code, body := send(t, srv, http.MethodGet, "/bkt?lifecycle", "", nil); code != http.StatusNotFound || !strings.Contains(body, "<Code>NoSuchLifecycleConfiguration</Code>") {
		t.Errorf("GET without a configuration: %d %s", code, body)
	}
	// An empty bucket: gofakes3 would delete it.
	if code, body := send(t, srv, http.MethodDelete, "/bkt?lifecycle", "", nil); code != http.StatusNoContent {
		t.Errorf("DELETE without a configuration: %d %s", code, body)
	}
	if code, _ := send(t, srv, http.MethodHead, "/bkt", "", nil); code != http.StatusOK {
		t.Fatalf("DELETE ?lifecycle deleted the bucket (HEAD: %d)", code)
	}

	if code, body := send(t, srv, http.MethodPut, "/bkt?lifecycle", rule, nil); code != http.StatusBadRequest ||
		!strings.Contains(body, "<Code>InvalidRequest</Code>") || !strings.Contains(body, "Missing required header for this request: Content-MD5") {
		t.Errorf("PUT without Content-MD5 or a checksum: %d %s", code, body)
	}
	if code, body := send(t, srv, http.MethodPut, "/bkt?lifecycle", rule, md5Header("other")); code != http.StatusBadRequest || !strings.Contains(body, "BadDigest") {
		t.Errorf("PUT with a wrong Content-MD5: %d %s", code, body)
	}
	if code, body := send(t, srv, http.MethodPut, "/bkt?lifecycle", rule, map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}); code != http.StatusBadRequest || !strings.Contains(body, "BadDigest") {
		t.Errorf("PUT with a wrong CRC32: %d %s", code, body)
	}
	if code, body := send(t, srv, http.MethodPut, "/nobucket?lifecycle", rule, md5Header(rule)); code != http.StatusNotFound || !strings.Contains(body, "NoSuchBucket") {
		t.Errorf("PUT to a missing bucket: %d %s", code, body)
	}
	if code, body := send(t, srv, http.MethodGet, "/bkt?lifecycle", "", nil); code != http.StatusNotFound {
		t.Errorf("a refused PUT stored something: %d %s", code, body)
	}

	if code, body := send(t, srv, http.MethodPut, "/bkt?lifecycle", rule, md5Header(rule)); code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if code, body := send(t, srv, http.MethodGet, "/bkt?lifecycle", "", nil); code != http.StatusOK || body != rule {
		t.Errorf("GET after PUT: %d %s", code, body)
	}
	if code, _ := send(t, srv, http.MethodGet, "/bkt", "", nil); code != http.StatusOK {
		t.Errorf("listing after PUT ?lifecycle: %d", code)
	}
	if code, _ := send(t, srv, http.MethodDelete, "/bkt?lifecycle", "", nil); code != http.StatusNoContent {
		t.Errorf("DELETE: %d", code)
	}
	if code, _ := send(t, srv, http.MethodGet, "/bkt?lifecycle", "", nil); code != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", code)
	}

	// A deleted bucket takes its configuration with it.
	send(t, srv, http.MethodPut, "/bkt?lifecycle", rule, md5Header(rule))
	if code, body := send(t, srv, http.MethodDelete, "/bkt", "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE bucket: %d %s", code, body)
	}
	if err := srv.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	if code, _ := send(t, srv, http.MethodGet, "/bkt?lifecycle", "", nil); code != http.StatusNotFound {
		t.Errorf("a new bucket of the same name has the old one's configuration: %d", code)
	}
}

// TestLifecycleRefusals: configurations S3 refuses.
func TestLifecycleRefusals(t *testing.T) {
	srv := s3test.New(t)
	if err := srv.CreateBucket("bkt"); err != nil {
		t.Fatal(err)
	}
	withRule := func(inner string) string {
		return "<LifecycleConfiguration><Rule>" + inner + "</Rule></LifecycleConfiguration>"
	}
	const filter, on = "<Filter><Prefix>p/</Prefix></Filter>", "<Status>Enabled</Status>"
	glacier := "<Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>"
	for _, tc := range []struct{ name, body, code string }{
		{"not XML", "<LifecycleConfiguration><Rule>", "MalformedXML"},
		{"another root", "<Lifecycle/>", "MalformedXML"},
		{"no rule", "<LifecycleConfiguration></LifecycleConfiguration>", "MalformedXML"},
		{"no status", withRule(filter + glacier), "MalformedXML"},
		{"a bad status", withRule(filter + "<Status>On</Status>" + glacier), "MalformedXML"},
		{"no filter or prefix", withRule(on + glacier), "MalformedXML"},
		{"no action", withRule(filter + on), "InvalidRequest"},
		{"an unknown class", withRule(filter + on + "<Transition><Days>1</Days><StorageClass>COLD</StorageClass></Transition>"), "MalformedXML"},
		{"a class in lower case", withRule(filter + on + "<Transition><Days>1</Days><StorageClass>glacier</StorageClass></Transition>"), "MalformedXML"},
		{"no days or date", withRule(filter + on + "<Transition><StorageClass>GLACIER</StorageClass></Transition>"), "MalformedXML"},
		{"STANDARD_IA before 30 days", withRule(filter + on + "<Transition><Days>29</Days><StorageClass>STANDARD_IA</StorageClass></Transition>"), "InvalidArgument"},
		{"a long ID", withRule("<ID>" + strings.Repeat("i", 256) + "</ID>" + filter + on + glacier), "InvalidArgument"},
		{"IDs twice", "<LifecycleConfiguration><Rule><ID>x</ID>" + filter + on + glacier + "</Rule><Rule><ID>x</ID>" + filter + on + glacier + "</Rule></LifecycleConfiguration>", "InvalidArgument"},
	} {
		code, body := send(t, srv, http.MethodPut, "/bkt?lifecycle", tc.body, md5Header(tc.body))
		if code != http.StatusBadRequest || !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
			t.Errorf("%s: %d %s; want 400 %s", tc.name, code, body, tc.code)
		}
	}
	ok := withRule(filter + on + "<Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>")
	if code, body := send(t, srv, http.MethodPut, "/bkt?lifecycle", ok, md5Header(ok)); code != http.StatusOK {
		t.Errorf("30 days to STANDARD_IA: %d %s", code, body)
	}
}

package s3test_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s3dest/s3dest/s3test"
)

// TestClock: what the server stores carries its clock's time, however far
// from the machine's, while requests are checked against the machine's
// clock, which signs them.
func TestClock(t *testing.T) {
	srv := s3test.New(t)
	at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	srv.Now = func() time.Time { return at }
	d := open(t, srv)
	if err := d.Put(t.Context(), "k", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if fi, err := d.Stat(t.Context(), "k"); err != nil || !fi.ModTime.Equal(at) {
		t.Errorf("ModTime %v, %v; want the server clock's %v", fi.ModTime, err, at)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.Endpoint+"/backups/laptop/k", nil)
	req.Header.Set("X-Amz-Date", time.Now().Add(-time.Hour).UTC().Format("20060102T150405Z"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "RequestTimeTooSkewed") {
		t.Errorf("a request signed an hour ago: %d %s, want 403 RequestTimeTooSkewed", resp.StatusCode, body)
	}
}

package s3dest_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/s3dest/s3dest"
)

// recorder answers every request with 404 and remembers the paths it saw,
// so fuzzing needs no server.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")),
		Request: req}, nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.paths
	r.paths = nil
	return p
}

// FuzzObjectName checks that any object name is either refused before a
// request (ErrInvalid) or sent as exactly prefix + name: never mangled into
// another key, never a panic.
func FuzzObjectName(f *testing.F) {
	for _, s := range []string{"a", "dir/file", "duplicati-b1.dblock.zip", "../x", "a/./b", "sp ace", "ünï/cödé",
		"q?x#y", "%2F", "a//b", "", "/abs", "x\x00y", strings.Repeat("z", 1100), "+plus+", "tab\t"} {
		f.Add(s)
	}
	rec := &recorder{}
	d, err := s3dest.New(f.Context(), "backups", s3dest.WithServerName("http://127.0.0.1:1"), s3dest.WithPrefix("p"),
		s3dest.WithCredentials("AKIA", "secret"), s3dest.WithRegion("us-east-1"), s3dest.WithRetryMaxAttempts(1),
		s3dest.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		_, err := d.Stat(t.Context(), name)
		paths := rec.take()
		if errors.Is(err, s3dest.ErrInvalid) {
			if len(paths) != 0 {
				t.Fatalf("name %q refused after %d requests", name, len(paths))
			}
			return
		}
		if !errors.Is(err, s3dest.ErrObjectNotFound) {
			t.Fatalf("Stat(%q): %v, want ErrInvalid or ErrObjectNotFound", name, err)
		}
		// A HEAD, and a GET asking what its bare 404 meant: both of the key.
		if want := "/backups/p/" + name; len(paths) == 0 || len(paths) > 2 || paths[0] != want || paths[len(paths)-1] != want {
			t.Fatalf("Stat(%q) requested %q, want only %q", name, paths, want)
		}
	})
}

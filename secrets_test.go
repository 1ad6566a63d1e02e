package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/s3test"
)

// TestSecretNeverShown drives the error paths with a known secret and
// checks that no error, log line or string the library makes contains it.
func TestSecretNeverShown(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRET"
	srv := s3test.New(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	raw := "s3://backups/p?aws-access-key-id=AKIAX&aws-secret-access-key=" + strings.ReplaceAll(secret, "/", "%2F") +
		"&s3-server-name=" + srv.URL
	d, err := s3dest.Open(t.Context(), raw, s3dest.WithLogger(logger), s3dest.WithCreateBucket(false))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	note := func(what string, err error) {
		if err == nil {
			return
		}
		texts = append(texts, what+": "+err.Error(), fmt.Sprintf("%s: %+v %#v", what, err, err))
		var e *s3dest.Error
		if errors.As(err, &e) {
			texts = append(texts, fmt.Sprintf("%+v", *e), fmt.Sprintf("%#v", *e))
		}
	}
	ctx := t.Context()
	note("test", d.Test(ctx)) // missing bucket
	note("put", d.Put(ctx, "x", strings.NewReader("x")))
	note("create", d.CreateBucket(ctx))
	d2, err := s3dest.Open(ctx, raw, s3dest.WithLogger(logger), s3dest.WithCreateBucket(true))
	if err != nil {
		t.Fatal(err)
	}
	note("put-create", d2.Put(ctx, "x", strings.NewReader("x")))
	note("get-missing", d.Get(ctx, "missing", io.Discard))
	_, err = d.Stat(ctx, "missing")
	note("stat-missing", err)
	note("rename-missing", d.Rename(ctx, "missing", "y"))
	note("invalid-name", d.Put(ctx, "../x", strings.NewReader("")))
	for _, code := range []string{"SignatureDoesNotMatch", "AccessDenied", "InvalidObjectState", "AuthorizationHeaderMalformed", "SlowDown"} {
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			s3test.WriteError(w, r, http.StatusForbidden, code, "denied")
			return true
		})
		note(code, d.Get(ctx, "x", io.Discard))
		note(code, d.Test(ctx))
	}
	srv.SetHook(nil)
	// Option errors with credentials present.
	for _, bad := range []string{
		raw + "&s3-storage-clas=GLACIER",
		raw + "&use-ssl=maybe",
		raw + "&aws-secret-access-key=%zz" + secret,
		"s3://AKIAX:" + secret + "@bad_bucket!/",
		"s3://AKIAX:" + secret + "@backups/p#frag",
		"ftp://AKIAX:" + secret + "@backups/",
		// An unescaped '&' cuts the secret: its tail must not be echoed as an option name.
		"s3://backups/?aws-access-key-id=AKIAX&aws-secret-access-key=wJalrXUtnFEMI&CiYzSECRETtail=1",
		"s3://backups/?aws-access-key-id=AKIAX&aws-secret-access-key=wJalrXUtnFEMI&ciyzsecret",
	} {
		_, err := s3dest.Open(ctx, bad)
		if err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
		note("open", err)
	}
	_, err = s3dest.New(ctx, "backups", s3dest.WithCredentials("", secret))
	note("new", err)
	_, err = s3dest.New(ctx, "backups", s3dest.WithCredentials("AKIAX", secret), s3dest.WithServerName("bad/path"))
	note("new", err)
	texts = append(texts, d.String(), fmt.Sprintf("%v %+v", d, d), logs.String())
	u, err := s3dest.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, u.String(), fmt.Sprintf("%v %+v %#v", *u, *u, *u))

	if len(texts) < 40 {
		t.Fatalf("only %d texts collected: the error paths did not run", len(texts))
	}
	for _, s := range texts {
		for _, leak := range []string{secret, "wJalrXUtnFEMI", "CiYzSECRET"} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(leak)) { // errors may lower-case what they echo
				t.Errorf("secret in %q", s)
			}
		}
	}
}

func TestShortTimeoutStopsStalledServer(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done() // stall until the client gives up
		return true
	})
	d := newDest(t, srv, s3dest.WithTimeouts(s3dest.Timeouts{Short: 100 * time.Millisecond, List: 100 * time.Millisecond}))
	start := time.Now()
	_, err := d.Stat(t.Context(), "vol")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stat on a stalled server: %v, want context.DeadlineExceeded", err)
	}
	// The List must end by its own timeout. The guard that stops it
	// otherwise cancels rather than expires, so that it cannot pass for
	// the list timeout.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	guard := time.AfterFunc(10*time.Second, cancel)
	defer guard.Stop()
	var listErr error
	for fi, err := range d.List(ctx) {
		if err != nil {
			listErr = err
		} else {
			t.Errorf("List on a stalled server yielded %q", fi.Name)
		}
	}
	var e *s3dest.Error
	switch {
	case !errors.Is(listErr, context.DeadlineExceeded):
		t.Errorf("List on a stalled server: %v, want context.DeadlineExceeded", listErr)
	case !errors.As(listErr, &e) || e.Op != "list":
		t.Errorf("List on a stalled server: %#v, want an *s3dest.Error of Op list", listErr)
	case strings.Contains(listErr.Error(), s3test.SecretKey):
		t.Errorf("List timeout error shows the secret: %v", listErr)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v: the timeouts did not stop the stalled server", elapsed)
	}
}

func TestReadWriteTimeoutStopsStalledBody(t *testing.T) {
	srv := withBucket(t)
	c := newFakeClock()
	const idle = 100 * time.Millisecond
	d := newDest(t, srv, c.option(), s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: idle}))
	put(t, d, "vol", strings.Repeat("x", 1000))
	stalled := signal()
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("xxxx"))
		w.(http.Flusher).Flush()
		reached(stalled)
		<-r.Context().Done() // then nothing more
		return true
	})
	done := make(chan error, 1)
	go func() { done <- d.Get(t.Context(), "vol", io.Discard) }()
	<-stalled
	err := advanceUntil(t, c, idle, done)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "read-write-timeout") {
		t.Errorf("Get of a stalled body: %v, want a read-write-timeout DeadlineExceeded", err)
	}
}

// S3 may take minutes to assemble a large upload in
// CompleteMultipartUpload, sending no body bytes meanwhile: the read-write
// idle timeout must not cut that short. The hook runs the clock past the
// timeout while the server holds the request.
func TestReadWriteTimeoutSparesSlowComplete(t *testing.T) {
	srv := withBucket(t)
	c := newFakeClock()
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	const idle = 100 * time.Millisecond
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			c.Advance(4 * idle) // a slow server
		}
		return false
	})
	d := newDest(t, srv, c.option(), limits, s3dest.WithPartSize(64<<10), s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: idle}))
	if err := d.Put(t.Context(), "big", noise(5, 300<<10)); err != nil {
		t.Fatalf("Put with a slow CompleteMultipartUpload: %v", err)
	}
}

// pausingReader blocks its first Read until release is closed, as a pipe
// from a slow producer does.
type pausingReader struct {
	r       io.Reader
	release chan struct{}
	paused  chan struct{}
	once    sync.Once
}

func (p *pausingReader) Read(b []byte) (int, error) {
	p.once.Do(func() {
		close(p.paused)
		<-p.release
	})
	return p.r.Read(b)
}

// The read-write timeout watches the server, not the caller: a source that
// pauses longer than it (a tar or pg_dump pipe) must not fail the Put.
func TestReadWriteTimeoutIgnoresSlowSource(t *testing.T) {
	srv := withBucket(t)
	c := newFakeClock()
	const idle = 100 * time.Millisecond
	d := newDest(t, srv, c.option(), s3dest.WithTimeouts(s3dest.Timeouts{ReadWrite: idle}))
	src := &pausingReader{r: strings.NewReader("data from a pipe"), release: make(chan struct{}), paused: make(chan struct{})}
	go func() {
		<-src.paused
		c.Advance(4 * idle) // the producer is slow; the server is fine
		close(src.release)
	}()
	if err := d.Put(t.Context(), "vol", src); err != nil {
		t.Fatalf("Put from a pausing source: %v", err)
	}
}

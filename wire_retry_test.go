package s3dest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The wire's retries and its own behaviour: clock skew, what it leaves to
// the SDK, cancellation, retry bodies, 100-continue, x-amz-retry-after,
// and a healed region.

// A server whose clock is an hour ahead refuses the first request
// (RequestTimeTooSkewed, its time in Date); the wire signs the retry with
// the server's time, as the SDK does, and every later request too.
func TestWireCorrectsClockSkew(t *testing.T) {
	ahead := time.Now().Add(time.Hour).UTC()
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		signed, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil || signed.Sub(ahead).Abs() > 5*time.Minute {
			body := xmlErrorBody("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
			return &http.Response{StatusCode: 403, Header: http.Header{"Date": {ahead.Format(http.TimeFormat)}},
				Body: io.NopCloser(strings.NewReader(body))}, nil
		}
		return &http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody}, nil
	}}
	d, _, _ := wireDest(t, "backups", wireModes["custom http"], rec)
	if err := d.Delete(t.Context(), "a"); err != nil {
		t.Fatalf("Delete with a skewed server clock: %v", err)
	}
	if got := len(rec.take()); got != 2 {
		t.Errorf("%d requests, want the refused one and its retry", got)
	}
	if err := d.Delete(t.Context(), "b"); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.take()); got != 1 {
		t.Errorf("the next call took %d requests, want 1: the skew is kept", got)
	}
}

func xmlErrorBody(code, msg string) string {
	return "<Error><Code>" + code + "</Code><Message>" + msg + "</Message></Error>"
}

// The wire steps aside for what it cannot send as the SDK would: a client
// changed by WithS3Options, an input field it does not serialize.
func TestWireStepsAside(t *testing.T) {
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody}, nil
	}}
	rec2 := &recorder{answer: rec.answer}
	d, err := New(t.Context(), "backups", append(wireModes["custom http"], WithHTTPClient(&http.Client{Transport: rec2}),
		WithS3Options(func(o *s3.Options) { o.UsePathStyle = true }))...)
	if err != nil {
		t.Fatal(err)
	}
	if d.state.Load().wire != nil {
		t.Error("WithS3Options given, and the destination still has a wire")
	}
	_, c, w := wireDest(t, "backups", wireModes["custom http"], rec)
	in := &s3.DeleteObjectInput{Bucket: aws.String("backups"), Key: aws.String("a"), MFA: aws.String("123 456")}
	if err := w.call(t.Context(), "DeleteObject", http.MethodDelete, in, in.Bucket, in.Key, &s3.DeleteObjectOutput{}, nil); err != errWireUnsupported {
		t.Errorf("the wire sent an input with a field it does not serialize (MFA): %v", err)
	}
	d2 := &Destination{}
	d2.state.Store(&clientState{client: c, wire: w})
	if _, err := d2.deleteObjectCall(t.Context(), c, in); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if len(got) != 1 || got[0].Header.Get("X-Amz-Mfa") != "123 456" {
		t.Errorf("the call with MFA sent %+v, want it sent by the SDK with its MFA header", got)
	}
	other := &s3.DeleteObjectInput{Bucket: aws.String("other-bucket"), Key: aws.String("a")}
	if err := w.call(t.Context(), "DeleteObject", http.MethodDelete, other, other.Bucket, other.Key, &s3.DeleteObjectOutput{}, nil); err != errWireUnsupported {
		t.Errorf("the wire of bucket backups sent a request for other-bucket: %v", err)
	}
}

// A call cancelled while the wire waits to retry ends at once, with the
// context's error.
func TestWireCancelDuringBackoff(t *testing.T) {
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		// The backoff is jittered, and may be near 0; a retry-after of
		// 60 s makes every wait at least 5 s (the backoff + 5 s at most).
		return &http.Response{StatusCode: 503, Header: http.Header{"X-Amz-Retry-After": {"60000"}},
			Body: io.NopCloser(strings.NewReader(xmlErrorBody("SlowDown", "slow")))}, nil
	}}
	d, err := New(t.Context(), "backups", append(wireModes["custom http"], WithHTTPClient(&http.Client{Transport: rec}),
		WithMaxBackoffForTest(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = d.Delete(ctx, "a")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("Delete = %v after %v, want the context's deadline at once", err, time.Since(start))
	}
}

// staleReader is a transport that fails the first attempt at once but, as
// net/http may, goes on reading that attempt's body after RoundTrip has
// returned; the retry's body must be whole.
type staleReader struct {
	attempts  int
	abandoned io.ReadCloser
	got       []byte
}

func (s *staleReader) RoundTrip(r *http.Request) (*http.Response, error) {
	s.attempts++
	if s.attempts == 1 {
		s.abandoned = r.Body
		return nil, errors.New("connection reset by peer")
	}
	// The first attempt's writer wakes up now, while the retry is sent.
	_, _ = io.Copy(io.Discard, s.abandoned)
	s.got, _ = io.ReadAll(r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Etag": {`"x"`}}, Body: http.NoBody, Request: r}, nil
}

func TestWireRetryBodyIsItsOwn(t *testing.T) {
	data := []byte(strings.Repeat("0123456789", 1000))
	for _, mode := range []string{"custom http", "custom https"} {
		tr := &staleReader{}
		d, err := New(t.Context(), "backups", append(wireModes[mode], WithHTTPClient(&http.Client{Transport: tr}),
			WithMaxBackoffForTest(time.Millisecond))...)
		if err != nil {
			t.Fatal(err)
		}
		st := d.state.Load()
		in := &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String("k"), Body: bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))), ChecksumCRC32C: aws.String("crc==")}
		if _, err := d.putObjectCall(t.Context(), st.client, in, nil); err != nil {
			t.Fatal(err)
		}
		if tr.attempts != 2 || !bytes.Equal(tr.got, data) {
			t.Errorf("%s: %d attempts; the retry sent %d bytes of %d (the abandoned attempt read the rest)",
				mode, tr.attempts, len(tr.got), len(data))
		}
	}
}

// The SDK asks for 100-continue from 2 MiB on (ContentLength >= 2 MiB);
// so does the wire.
func TestWireExpectContinueAt2MiB(t *testing.T) {
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
	}}
	_, c, w := wireDest(t, "backups", wireModes["custom https"], rec)
	data := make([]byte, 2<<20)
	mk := func() *s3.PutObjectInput {
		return &s3.PutObjectInput{Bucket: aws.String("backups"), Key: aws.String("k"), Body: bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))), ChecksumCRC32C: aws.String("crc=="), ContentType: aws.String("application/octet-stream")}
	}
	if _, err := c.PutObject(t.Context(), mk()); err != nil {
		t.Fatal(err)
	}
	sdk := rec.take()
	in := mk()
	if err := w.call(t.Context(), "PutObject", http.MethodPut, in, in.Bucket, in.Key, &s3.PutObjectOutput{}, nil); err != nil {
		t.Fatal(err)
	}
	wr := rec.take()
	if g, w := wr[0].Header.Get("Expect"), sdk[0].Header.Get("Expect"); g != w {
		t.Errorf("a body of exactly 2 MiB: wire Expect %q, SDK %q", g, w)
	}
}

// The wire waits at least what x-amz-retry-after asks (up to the backoff
// and 5 s more) before a retry, as the SDK does.
func TestWireHonoursRetryAfter(t *testing.T) {
	var times []time.Time
	var mu sync.Mutex
	rec := &recorder{answer: func(r *http.Request, _ []byte) (*http.Response, error) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n%2 == 1 {
			return &http.Response{StatusCode: 503, Header: http.Header{"X-Amz-Retry-After": {"400"}},
				Body: io.NopCloser(strings.NewReader(xmlErrorBody("SlowDown", "Please reduce your request rate.")))}, nil
		}
		return &http.Response{StatusCode: 204, Header: http.Header{}, Body: http.NoBody}, nil
	}}
	_, c, w := wireDest(t, "backups", wireModes["custom https"], rec)
	in := &s3.DeleteObjectInput{Bucket: aws.String("backups"), Key: aws.String("k")}
	if _, err := c.DeleteObject(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if err := w.call(t.Context(), "DeleteObject", http.MethodDelete, in, in.Bucket, in.Key, &s3.DeleteObjectOutput{}, nil); err != nil {
		t.Fatal(err)
	}
	sdkWait, wireWait := times[1].Sub(times[0]), times[3].Sub(times[2])
	t.Logf("SDK waited %v, wire %v", sdkWait, wireWait)
	if wireWait < 300*time.Millisecond {
		t.Errorf("the wire retried after %v; the server asked for 400ms (the SDK waited %v)", wireWait, sdkWait)
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// slowConn is a connection on a slow uplink: each write of up to 8 KiB
// takes a millisecond.
type slowConn struct{ net.Conn }

func (c slowConn) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 8<<10)
		time.Sleep(time.Millisecond)
		m, err := c.Conn.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// The same with net/http's own transport and server, over a slow uplink:
// the server answers SlowDown before reading the body (as S3 does), and the
// retry must carry the object. Run with -race: the first attempt's write
// loop and the retry read the same body at once.
func TestWireRetryRealTransport(t *testing.T) {
	data := make([]byte, 1<<20) // under the 2 MiB at which Expect: 100-continue holds the body back
	rand.Read(data)
	var mu sync.Mutex
	n := 0
	var bad []string
	tried := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		first := !tried[r.URL.Path]
		tried[r.URL.Path] = true
		mu.Unlock()
		if first {
			// Answer at once, then drain what the client still sends.
			http.NewResponseController(w).EnableFullDuplex()
			msg := xmlErrorBody("SlowDown", "Please reduce your request rate.")
			w.Header().Set("Content-Length", fmt.Sprint(len(msg)))
			w.WriteHeader(503)
			io.WriteString(w, msg)
			http.NewResponseController(w).Flush()
			io.Copy(io.Discard, r.Body)
			return
		}
		got, err := io.ReadAll(r.Body)
		if err != nil || !bytes.Equal(got, data) {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("request %d: %d bytes, err %v, equal prefix %d", k, len(got), err, commonPrefix(got, data)))
			mu.Unlock()
			w.WriteHeader(400)
			io.WriteString(w, xmlErrorBody("IncompleteBody", "short"))
			return
		}
		w.Header().Set("Etag", `"e"`)
	}))
	defer srv.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return slowConn{c}, err
	}}
	defer tr.CloseIdleConnections()
	d, err := New(t.Context(), "backups", WithServerName(srv.URL), WithCredentials("AKID", "SECRET"), WithRegion("us-east-1"),
		WithHTTPClient(&http.Client{Transport: tr}), WithMaxBackoffForTest(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := d.Put(t.Context(), fmt.Sprint("obj", i), bytes.NewReader(data)); err != nil {
			t.Errorf("Put: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bad {
		t.Errorf("the server got a damaged retry: %s", b)
	}
}

// After a heal (the bucket is in another region), the wire's requests go
// to the bucket's region's host, signed for it.
func TestWireAfterHeal(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		auth := r.Header.Get("Authorization")
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Host+" "+auth[strings.Index(auth, "Credential="):strings.Index(auth, ",")])
		mu.Unlock()
		if !strings.Contains(r.URL.Host, "eu-west-1") {
			return &http.Response{StatusCode: 301, Header: http.Header{"X-Amz-Bucket-Region": {"eu-west-1"}},
				Body: io.NopCloser(strings.NewReader(xmlErrorBody("PermanentRedirect", "use the other endpoint"))), Request: r}, nil
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Etag": {`"e"`}, "X-Amz-Checksum-Crc32c": {crcBase64(0)}}, Body: http.NoBody, Request: r}, nil
	})
	d, err := New(t.Context(), "backups", WithRegion("us-east-1"), WithCredentials("AKID", "SECRET"),
		WithHTTPClient(&http.Client{Transport: rt}), WithMaxBackoffForTest(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(t.Context(), "a", strings.NewReader("")); err != nil {
		t.Logf("Put: %v", err)
	}
	if err := d.Delete(t.Context(), "a"); err != nil {
		t.Logf("Delete: %v", err)
	}
	st := d.state.Load()
	for _, s := range seen[1:] {
		if !strings.Contains(s, "s3.eu-west-1.amazonaws.com Credential=AKID/") || !strings.Contains(s, "/eu-west-1/s3/") {
			t.Errorf("after the heal: %s", s)
		}
	}
	if st.wire == nil || st.wire.region != "eu-west-1" {
		t.Errorf("the healed state's wire: %+v", st.wire)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An answer with a body to a call whose output has none (a server that
// says "<ok/>" to a PUT) is read to its end, as the SDK does, so that its
// connection serves the next call.
func TestWireReusesConnectionsAfterBodies(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Etag", `"e"`)
		_, _ = io.WriteString(w, "<ok/>")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	d, err := New(t.Context(), "backups", WithServerName(srv.URL), WithCredentials("AKID", "SECRET"), WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := d.Delete(t.Context(), fmt.Sprint("obj", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("10 Deletes in turn opened %d connections, want 1", n)
	}
}

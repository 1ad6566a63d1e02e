// Package faults is an http.RoundTripper that injects the failures networks
// and S3 servers produce: error answers (500, 503 SlowDown, 429), connection
// resets, stalls, and response bodies cut short or with wrong bytes. Tests put
// it under a Destination with s3dest.WithHTTPClient.
package faults

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
)

// A Fault is one kind of failure and when to inject it.
type Fault struct {
	// Match picks the requests to fail; nil matches every request.
	Match func(*http.Request) bool
	// Times is how many matching requests fail; 0 means all of them.
	Times int

	Status  int    // answer with this HTTP status and S3 error Code instead of forwarding
	Code    string // S3 error code for Status, e.g. "SlowDown"
	Reset   bool   // read the request, then fail as if the connection was reset
	Stall   bool   // block until the request's context ends
	CutBody int    // forward, but end the response body after CutBody bytes (with an error)
	Corrupt bool   // forward, but flip one byte of the response body
	// FlipRequest forwards the request with one byte of its body flipped,
	// as a faulty link or proxy would.
	FlipRequest bool
	// LoseAnswer forwards the request, lets the server act on it, then
	// fails as if the connection broke before the answer arrived.
	LoseAnswer bool

	hits int
}

// Transport injects faults in front of Base.
type Transport struct {
	Base http.RoundTripper // nil: http.DefaultTransport

	mu       sync.Mutex
	faults   []*Fault
	injected int
	requests int
}

// Add arms a fault; faults are tried in the order added.
func (t *Transport) Add(f Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = append(t.faults, &f)
}

// Clear disarms all faults.
func (t *Transport) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = nil
}

// Injected returns how many faults were injected so far.
func (t *Transport) Injected() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.injected
}

// Requests returns how many requests went through so far.
func (t *Transport) Requests() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests
}

// Client returns an HTTP client that uses t.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

func (t *Transport) pick(req *http.Request) *Fault {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	for _, f := range t.faults {
		if (f.Times == 0 || f.hits < f.Times) && (f.Match == nil || f.Match(req)) {
			f.hits++
			t.injected++
			return f
		}
	}
	return nil
}

// RoundTrip forwards req, or fails it as the first armed fault says.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	f := t.pick(req)
	switch {
	case f == nil:
		return base.RoundTrip(req)
	case f.Stall:
		drain(req)
		<-req.Context().Done()
		return nil, req.Context().Err()
	case f.Reset:
		drain(req)
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	case f.Status != 0:
		drain(req)
		body := ""
		if req.Method != http.MethodHead {
			body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message></Error>`, f.Code)
		}
		return &http.Response{
			StatusCode: f.Status, Status: fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"application/xml"}},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Request:       req,
		}, nil
	}
	if f.FlipRequest && req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = &corruptBody{r: req.Body}
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if f.LoseAnswer {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	}
	switch {
	case f.CutBody > 0:
		resp.Body = &cutBody{r: resp.Body, left: int64(f.CutBody)}
	case f.Corrupt:
		resp.Body = &corruptBody{r: resp.Body}
	}
	return resp, nil
}

// Method matches requests of one HTTP method.
func Method(m string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == m }
}

// Op matches requests of one S3 operation, as OpName names it.
func Op(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return OpName(r) == name }
}

// OpName names the S3 operation of a request, from its method, query and
// headers: "PutObject", "UploadPart", "UploadPartCopy", "CopyObject",
// "CreateMultipartUpload", "CompleteMultipartUpload", "AbortMultipartUpload",
// "ListMultipartUploads", "RestoreObject", "DeleteObjects", "GetObject",
// "HeadObject", "ListObjects", "DeleteObject", "CreateBucket", "HeadBucket".
func OpName(r *http.Request) string {
	q := r.URL.Query()
	hasKey := strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1
	copySrc := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case r.Method == http.MethodPut && copySrc && q.Has("partNumber"):
		return "UploadPartCopy"
	case r.Method == http.MethodPut && copySrc:
		return "CopyObject"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut && hasKey:
		return "PutObject"
	case r.Method == http.MethodPut:
		return "CreateBucket"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodPost && q.Has("restore"):
		return "RestoreObject"
	case r.Method == http.MethodPost && q.Has("delete"):
		return "DeleteObjects"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodDelete && hasKey:
		return "DeleteObject"
	case r.Method == http.MethodHead && hasKey:
		return "HeadObject"
	case r.Method == http.MethodHead:
		return "HeadBucket"
	case r.Method == http.MethodGet && q.Has("uploads"):
		return "ListMultipartUploads"
	case r.Method == http.MethodGet && hasKey:
		return "GetObject"
	case r.Method == http.MethodGet:
		return "ListObjects"
	}
	return r.Method + " other"
}

func drain(req *http.Request) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
}

// cutBody ends a body early with io.ErrUnexpectedEOF, as a dropped
// connection does.
type cutBody struct {
	r    io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cutBody) Close() error { return b.r.Close() }

// corruptBody flips the first byte it delivers.
type corruptBody struct {
	r    io.ReadCloser
	done bool
}

func (b *corruptBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 && !b.done {
		p[0] ^= 0x5a
		b.done = true
	}
	return n, err
}

func (b *corruptBody) Close() error { return b.r.Close() }

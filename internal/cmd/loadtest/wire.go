package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dest/s3dest/internal/faults"
)

// counting is the Transport's Base: it counts the bytes on the wire, and
// notes which operation created each multipart upload, reading the upload
// ID before the faults above it damage the answer.
type counting struct {
	base     http.RoundTripper
	sent, rx atomic.Int64

	mu       sync.Mutex
	created  map[string]*trace   // upload ID -> the operation that created it
	unanswer map[string][]string // key -> CreateMultipartUploads sent that got no answer
}

var uploadIDTag = regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`)

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.ContentLength > 0 {
		c.sent.Add(r.ContentLength)
	}
	resp, err := c.base.RoundTrip(r)
	if t, ok := r.Context().Value(traceKey{}).(*trace); ok && err != nil && faults.OpName(r) == "CreateMultipartUpload" {
		_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		c.mu.Lock()
		c.unanswer[key] = append(c.unanswer[key], fmt.Sprintf("%s sent one at %s that got no answer (%v)", t.desc, time.Now().Format("15:04:05.000"), err))
		c.mu.Unlock()
	}
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if t, ok := r.Context().Value(traceKey{}).(*trace); ok && resp.StatusCode == http.StatusOK && faults.OpName(r) == "CreateMultipartUpload" {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
		if m := uploadIDTag.FindSubmatch(body); m != nil {
			c.mu.Lock()
			c.created[string(m[1])] = t
			c.mu.Unlock()
		}
	}
	resp.Body = &countBody{ReadCloser: resp.Body, n: &c.rx}
	return resp, err
}

// creator describes the operation that created an upload.
func (c *counting) creator(id, key string) string {
	c.mu.Lock()
	t, lost := c.created[id], c.unanswer[key]
	c.mu.Unlock()
	if t == nil {
		return "no answer named it; " + strings.Join(lost, "; ")
	}
	return fmt.Sprintf("created by %s = %s; %v", t.desc, t.result, t)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

type countBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

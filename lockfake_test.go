package s3dest_test

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3dest/s3dest/s3test"
)

type lockRetention struct {
	Mode            string
	RetainUntilDate time.Time
}

type lockSet struct {
	path   string
	header http.Header
	body   []byte
}

const missingLockConfig = "Bucket is missing Object Lock Configuration"

// lockFake adds S3 object lock to the fake, which has none: retention set
// by PUT ?retention or by the lock headers of an upload, read by GET
// ?retention, and the answers S3 gives a bucket without object lock.
type lockFake struct {
	srv     *s3test.Server
	enabled bool // the bucket has object lock

	mu        sync.Mutex
	retention map[string]lockRetention // by path: /bucket/key
	sets      []lockSet                // PUT ?retention requests, in order
}

func newLockFake(t *testing.T, enabled bool) *lockFake {
	t.Helper()
	f := &lockFake{srv: withBucket(t), enabled: enabled, retention: map[string]lockRetention{}}
	f.srv.SetHook(f.hook)
	return f
}

func (f *lockFake) hook(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	switch {
	case q.Has("retention") && r.Method == http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.sets = append(f.sets, lockSet{r.URL.Path, r.Header.Clone(), body})
		f.mu.Unlock()
		if !f.enabled {
			s3test.WriteError(w, r, http.StatusBadRequest, "InvalidRequest", missingLockConfig)
			return true
		}
		if !f.checkDigest(w, r, body) {
			return true
		}
		var ret lockRetention
		if err := xml.Unmarshal(body, &ret); err != nil {
			s3test.WriteError(w, r, http.StatusBadRequest, "MalformedXML", err.Error())
			return true
		}
		f.mu.Lock()
		f.retention[r.URL.Path] = ret
		f.mu.Unlock()
		return true
	case q.Has("retention") && r.Method == http.MethodGet:
		if !f.enabled {
			s3test.WriteError(w, r, http.StatusBadRequest, "InvalidRequest", missingLockConfig)
			return true
		}
		f.mu.Lock()
		ret, ok := f.retention[r.URL.Path]
		f.mu.Unlock()
		if !ok {
			head := httptest.NewRequest(http.MethodHead, r.URL.Path, nil)
			rec := httptest.NewRecorder()
			f.srv.ServeFake(rec, head)
			if rec.Code == http.StatusNotFound {
				s3test.WriteError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			} else {
				s3test.WriteError(w, r, http.StatusNotFound, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration")
			}
			return true
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>%s</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>`,
			ret.Mode, ret.RetainUntilDate.UTC().Format("2006-01-02T15:04:05.000Z"))
		return true
	case r.Header.Get("X-Amz-Object-Lock-Mode") != "" && (r.Method == http.MethodPut || r.Method == http.MethodPost && q.Has("uploads")):
		if !f.enabled {
			s3test.WriteError(w, r, http.StatusBadRequest, "InvalidRequest", missingLockConfig)
			return true
		}
		until, err := time.Parse(time.RFC3339Nano, r.Header.Get("X-Amz-Object-Lock-Retain-Until-Date"))
		if err != nil {
			s3test.WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "bad retain-until date")
			return true
		}
		f.mu.Lock()
		f.retention[r.URL.Path] = lockRetention{r.Header.Get("X-Amz-Object-Lock-Mode"), until}
		f.mu.Unlock()
	}
	return false
}

// checkDigest answers as S3 does when a lock request has no digest, or a
// wrong Content-MD5.
func (f *lockFake) checkDigest(w http.ResponseWriter, r *http.Request, body []byte) bool {
	md5h := r.Header.Get("Content-Md5")
	flexible := false
	for k := range r.Header {
		flexible = flexible || strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-")
	}
	switch {
	case md5h == "" && !flexible:
		s3test.WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
		return false
	case md5h != "" && md5h != md5b64(body):
		s3test.WriteError(w, r, http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		return false
	}
	return true
}

func md5b64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (f *lockFake) lastSet(t *testing.T) lockSet {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sets) == 0 {
		t.Fatal("no PUT ?retention request")
	}
	return f.sets[len(f.sets)-1]
}

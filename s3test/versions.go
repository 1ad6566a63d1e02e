package s3test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Versioning, as S3 answers it where gofakes3 does not. gofakes3's memory
// backend keeps versions in a bucket whose versioning is on
// (EnableVersioning, or PUT ?versioning): an overwrite keeps the old
// version, a DELETE adds a delete marker. This layer
//   - lists versions (GET ?versions) itself, as S3 does: keys in order, each
//     key's versions and delete markers together, newest first, in one
//     list (gofakes3 lists them oldest first), pages cut at max-keys with
//     the markers of the next page (gofakes3 gives none), common prefixes
//     at the delimiter, LastModified to the second, and each version's own
//     storage class, ETag and RestoreStatus;
//   - answers HEAD ?versionId for that version (gofakes3 answers the
//     current object), and a GET or HEAD of a delete marker's id with 405
//     MethodNotAllowed and x-amz-delete-marker: true, as S3 does;
//   - keeps what it decides of an object (storage class, archive and
//     restore state, checksum, ETag and part sizes, encryption) for each
//     version: an old version answers its own bytes with its own checksum,
//     is archived and restored on its own (POST ?restore&versionId), and
//     needs its own SSE-C key;
//   - refuses with 501 NotImplemented what it cannot do right: deleting
//     an object's current version or delete marker by its id (gofakes3
//     would then lose the object), and copying from a version other than
//     the current one.
//
// Suspended versioning (PUT ?versioning with Status Suspended) is
// gofakes3's own: an overwrite then replaces the current version even when
// it has an id of its own, where S3 replaces only the "null" version.

// EnableVersioning turns versioning on for a bucket, as PutBucketVersioning
// with Status Enabled does: from then on an overwrite or a delete keeps
// the old version. Buckets start unversioned, as on S3. Move the server's
// clock (Now) between writes to give versions distinct LastModified times.
func (s *Server) EnableVersioning(bucket string) error {
	req := httptest.NewRequest(http.MethodPut, "/"+bucket+"?versioning",
		strings.NewReader(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`))
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("enable versioning of %s: %d %s", bucket, rec.Code, rec.Body.String())
	}
	return nil
}

// versionKey is the key the layer keeps its books on an old version under:
// the object's, the version id after a NUL, which no S3 key holds.
func versionKey(key, id string) string { return key + "\x00" + id }

// serveVersions answers what versioning needs beyond gofakes3, before the
// rest of the layer sees a request. It returns the key the rest keeps its
// books under (the object's, or for a request about an old version that
// version's), and true when it answered the request itself.
func (s *Server) serveVersions(w http.ResponseWriter, r *http.Request, bucket, key string) (string, bool) {
	q := r.URL.Query()
	id := q.Get("versionId")
	if id == "null" {
		id = "" // gofakes3 serves "null" as the current version
	}
	switch {
	case key == "" && r.Method == http.MethodGet && q.Has("versions"):
		s.listVersions(w, r, bucket)
		return key, true
	case key == "" && r.Method == http.MethodPost && q.Has("delete"):
		return key, s.deleteObjects(w, r, bucket)
	case key == "":
		return key, false
	case r.Method == http.MethodPut && strings.Contains(r.Header.Get("X-Amz-Copy-Source"), "versionId="):
		if !s.copiesCurrent(r) {
			WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "s3test copies only the current version of an object")
			return key, true
		}
	}
	if id == "" {
		if replaces(r) {
			s.keepVersion(bucket, key)
		}
		return key, false
	}
	e, ok := s.findVersion(bucket, key, id)
	switch {
	case !ok && r.Method == http.MethodDelete:
		return key, false // S3 deletes what is not there without complaint
	case !ok:
		WriteError(w, r, http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.")
		return key, true
	case r.Method == http.MethodDelete && e.latest:
		WriteError(w, r, http.StatusNotImplemented, "NotImplemented",
			"s3test cannot delete the current version or delete marker of an object by its version id")
		return key, true
	case r.Method == http.MethodDelete:
		rec := httptest.NewRecorder()
		s.fake.ServeHTTP(rec, r)
		if rec.Code/100 == 2 {
			s.forgetVersion(bucket, key, id)
		}
		copyResponse(w, rec)
		return key, true
	case e.marker && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("X-Amz-Delete-Marker", "true")
		w.Header().Set("X-Amz-Version-Id", id)
		w.Header().Set("Last-Modified", e.modTime.UTC().Format(http.TimeFormat))
		WriteError(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return key, true
	case e.latest:
		return key, false // the current version: the object's books
	}
	return versionKey(key, id), false
}

// replaces reports a request that, when it succeeds, makes the object's
// current version an old one: an upload, a copy, a completed multipart
// upload, a delete.
func replaces(r *http.Request) bool {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodPut:
		return !q.Has("partNumber") && !q.Has("tagging") && !q.Has("acl") && !q.Has("retention") && !q.Has("legal-hold")
	case http.MethodPost:
		return q.Has("uploadId")
	case http.MethodDelete:
		return !q.Has("uploadId") && !q.Has("tagging")
	}
	return false
}

func (s *Server) versioned(bucket string) bool {
	v, err := s.mem.VersioningConfiguration(bucket)
	return err == nil && v.Status == gofakes3.VersioningEnabled
}

// keepVersion files the books of the object's current version under that
// version, before a write makes it an old one; a write that then fails
// leaves a copy nobody asks for.
func (s *Server) keepVersion(bucket, key string) {
	if !s.versioned(bucket) {
		return
	}
	obj, err := s.mem.HeadObject(bucket, key)
	if err != nil {
		return // none, or a delete marker: nothing to keep
	}
	obj.Contents.Close()
	from, to := bucket+"/"+key, bucket+"/"+versionKey(key, string(obj.VersionID))
	s.mu.Lock()
	defer s.mu.Unlock()
	copyEntry(s.classes, from, to)
	copyEntry(s.restores, from, to)
	copyEntry(s.sums, from, to)
	copyEntry(s.enc, from, to)
}

func copyEntry[V any](m map[string]V, from, to string) {
	if v, ok := m[from]; ok {
		m[to] = v
	} else {
		delete(m, to)
	}
}

// forgetVersion drops the books of a deleted old version.
func (s *Server) forgetVersion(bucket, key, id string) {
	k := bucket + "/" + versionKey(key, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.classes, k)
	delete(s.restores, k)
	delete(s.sums, k)
	delete(s.enc, k)
}

// copiesCurrent reports whether a copy names the current version of its
// source, or none.
func (s *Server) copiesCurrent(r *http.Request) bool {
	src := r.Header.Get("X-Amz-Copy-Source")
	_, query, _ := strings.Cut(src, "?")
	id := strings.TrimPrefix(query, "versionId=")
	bucket, key, ok := parseCopySource(src)
	if !ok || id == "" || id == "null" {
		return true // parseCopySource's answer decides
	}
	e, found := s.findVersion(bucket, key, id)
	return found && e.latest && !e.marker
}

// deleteObjects prepares a DeleteObjects request: it keeps the books of
// the current versions it will turn into old ones, and drops those of the
// old versions it deletes. It answers, and returns true, when the request
// deletes a current version by its id, which s3test cannot do.
func (s *Server) deleteObjects(w http.ResponseWriter, r *http.Request, bucket string) bool {
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req struct {
		Objects []struct {
			Key       string
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if err != nil || xml.Unmarshal(body, &req) != nil {
		return false // gofakes3 answers
	}
	for _, o := range req.Objects {
		if e, ok := s.findVersion(bucket, o.Key, o.VersionID); o.VersionID != "" && o.VersionID != "null" && ok && e.latest {
			WriteError(w, r, http.StatusNotImplemented, "NotImplemented",
				"s3test cannot delete the current version or delete marker of an object by its version id")
			return true
		}
	}
	for _, o := range req.Objects {
		if o.VersionID == "" {
			s.keepVersion(bucket, o.Key)
		} else {
			s.forgetVersion(bucket, o.Key, o.VersionID)
		}
	}
	return false
}

// versionEnt is one version or delete marker, as the backend keeps it.
type versionEnt struct {
	key, id string
	modTime time.Time
	latest  bool
	marker  bool
	size    int64
	etag    string // quoted
}

// headVersions serves HEAD ?versionId=X as a GET of that version without
// its body: gofakes3 answers a HEAD with the current object whatever the
// version asked.
func headVersions(fake http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.URL.Query().Get("versionId"); r.Method != http.MethodHead || id == "" || id == "null" {
			fake.ServeHTTP(w, r)
			return
		}
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		fake.ServeHTTP(noBody{w}, get)
	})
}

// noBody drops what is written to it: the body of a GET served as a HEAD.
type noBody struct{ http.ResponseWriter }

func (noBody) Write(p []byte) (int, error) { return len(p), nil }

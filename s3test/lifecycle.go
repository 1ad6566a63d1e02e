package s3test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
)

// Lifecycle configurations, as S3 answers them and gofakes3 does not (it
// takes GET /bucket?lifecycle for a listing, PUT for a CreateBucket and
// DELETE for a DeleteBucket): GET, PUT and DELETE /bucket?lifecycle keep
// one configuration per bucket, as it was sent. A GET without one is 404
// NoSuchLifecycleConfiguration; a PUT needs Content-MD5 or an
// x-amz-checksum-* header that matches its body, and a configuration S3
// would refuse is MalformedXML or InvalidArgument. No rule is applied:
// Archive moves an object as a transition would.

// lifecycleConf is one bucket's stored configuration.
type lifecycleConf struct {
	xml     []byte
	minSize string // x-amz-transition-default-minimum-object-size
}

const defaultMinSize = "all_storage_classes_128K"

// serveLifecycle answers the lifecycle requests of a bucket, and forgets a
// bucket's configuration when the bucket is deleted. It reports whether it
// answered.
func (s *Server) serveLifecycle(w http.ResponseWriter, r *http.Request, bucket, key string) bool {
	q := r.URL.Query()
	switch {
	case bucket == "" || key != "":
		return false
	case r.Method == http.MethodDelete && len(q) == 0:
		rec := httptest.NewRecorder()
		s.fake.ServeHTTP(rec, r)
		if rec.Code == http.StatusNoContent {
			s.mu.Lock()
			delete(s.lifecycles, bucket)
			s.mu.Unlock()
		}
		copyResponse(w, rec)
		return true
	case !q.Has("lifecycle"):
		return false
	}
	if !s.bucketExists(bucket) {
		WriteError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return true
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		conf, ok := s.lifecycles[bucket]
		s.mu.Unlock()
		if !ok {
			WriteError(w, r, http.StatusNotFound, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
			return true
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Amz-Transition-Default-Minimum-Object-Size", conf.minSize)
		_, _ = w.Write(conf.xml)
	case http.MethodPut:
		s.putLifecycle(w, r, bucket)
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.lifecycles, bucket)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		WriteError(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
	return true
}

func (s *Server) putLifecycle(w http.ResponseWriter, r *http.Request, bucket string) {
	sum := r.Header.Get("Content-Md5")
	if sum == "" && !hasChecksum(r.Header) {
		WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: Content-MD5")
		return
	}
	if !verifyBody(w, r) {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteError(w, r, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return
	}
	if h := md5.Sum(body); sum != "" && base64.StdEncoding.EncodeToString(h[:]) != sum {
		WriteError(w, r, http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		return
	}
	minSize := r.Header.Get("X-Amz-Transition-Default-Minimum-Object-Size")
	switch minSize {
	case "":
		minSize = defaultMinSize
	case defaultMinSize, "varies_by_storage_class":
	default:
		WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "Invalid x-amz-transition-default-minimum-object-size header value")
		return
	}
	if code, msg := checkLifecycle(body); code != "" {
		WriteError(w, r, http.StatusBadRequest, code, msg)
		return
	}
	s.mu.Lock()
	if s.lifecycles == nil {
		s.lifecycles = map[string]lifecycleConf{}
	}
	s.lifecycles[bucket] = lifecycleConf{xml: bytes.Clone(body), minSize: minSize}
	s.mu.Unlock()
	w.Header().Set("X-Amz-Transition-Default-Minimum-Object-Size", minSize)
	w.WriteHeader(http.StatusOK)
}

// bucketExists asks gofakes3 whether it has the bucket.
func (s *Server) bucketExists(bucket string) bool {
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/"+bucket, nil))
	return rec.Code == http.StatusOK
}

// lcRule is what checkLifecycle reads of a rule.
type lcRule struct {
	ID          string
	Status      string
	Prefix      *string
	Filter      *struct{}
	Transitions []struct {
		Days         *int
		Date         *string
		StorageClass string
	} `xml:"Transition"`
	Expiration                     *struct{}
	NoncurrentVersionTransitions   []struct{} `xml:"NoncurrentVersionTransition"`
	NoncurrentVersionExpiration    *struct{}
	AbortIncompleteMultipartUpload *struct{}
}

var malformed = "The XML you provided was not well-formed or did not validate against our published schema"

// checkLifecycle returns the error code and message S3 answers a
// configuration it refuses, "" for one it takes.
func checkLifecycle(body []byte) (code, msg string) {
	var conf struct {
		XMLName xml.Name `xml:"LifecycleConfiguration"`
		Rules   []lcRule `xml:"Rule"`
	}
	if !wellFormed(body) || xml.Unmarshal(body, &conf) != nil || len(conf.Rules) == 0 {
		return "MalformedXML", malformed
	}
	if len(conf.Rules) > 1000 {
		return "InvalidRequest", "The number of lifecycle rules should not exceed allowed limit of 1000 rules"
	}
	var ids []string
	for _, r := range conf.Rules {
		switch {
		case r.Status != "Enabled" && r.Status != "Disabled":
			return "MalformedXML", malformed
		case r.Prefix == nil && r.Filter == nil:
			return "MalformedXML", malformed
		case len(r.ID) > 255:
			return "InvalidArgument", "ID length should not exceed allowed limit of 255"
		case r.ID != "" && slices.Contains(ids, r.ID):
			return "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"
		case len(r.Transitions) == 0 && r.Expiration == nil && len(r.NoncurrentVersionTransitions) == 0 &&
			r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil:
			return "InvalidRequest", "At least one action needs to be specified in a rule"
		}
		ids = append(ids, r.ID)
		for _, t := range r.Transitions {
			switch {
			case !slices.Contains([]string{"GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR"}, t.StorageClass):
				return "MalformedXML", malformed
			case (t.Days == nil) == (t.Date == nil), t.Days != nil && *t.Days < 0:
				return "MalformedXML", malformed
			case t.Days != nil && *t.Days < 30 && (t.StorageClass == "STANDARD_IA" || t.StorageClass == "ONEZONE_IA"):
				return "InvalidArgument", fmt.Sprintf("'Days' in Transition action must be greater than or equal to 30 for storageClass '%s'", t.StorageClass)
			}
		}
	}
	return "", ""
}

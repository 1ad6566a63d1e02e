package s3test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Requests S3 refuses and gofakes3 takes:
//   - a storage class S3 does not know (400 InvalidStorageClass), on
//     PutObject, CopyObject and CreateMultipartUpload;
//   - a key of more than 1,024 bytes on CreateMultipartUpload (400
//     KeyTooLongError; gofakes3 checks PutObject and CopyObject only);
//   - more than one x-amz-checksum-* value, or one that is no base64
//     digest of its algorithm's length (400 InvalidRequest);
//   - a DeleteObjects without Content-MD5 or an x-amz-checksum-* header
//     (400 InvalidRequest), or of more than 1,000 keys (400 MalformedXML);
//   - a PutObject with If-Match of a key that holds no object (404
//     NoSuchKey; gofakes3 answers 412).

// storageClasses are the classes S3 takes in x-amz-storage-class.
var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "OUTPOSTS": true,
	"GLACIER_IR": true, "SNOW": true, "EXPRESS_ONEZONE": true, "FSX_OPENZFS": true, "FSX_ONTAP": true,
}

// keySizeLimit is the longest key S3 takes, in bytes.
const keySizeLimit = 1024

// maxDeleteKeys is the most keys one DeleteObjects takes.
const maxDeleteKeys = 1000

// checkRequest answers a request S3 would refuse before it acts on it, and
// reports whether it did.
func (s *Server) checkRequest(w http.ResponseWriter, r *http.Request, bucket, key string) bool {
	q := r.URL.Query()
	creates := key != "" && (r.Method == http.MethodPut && !q.Has("partNumber") && !q.Has("tagging") && !q.Has("acl") &&
		!q.Has("retention") && !q.Has("legal-hold") || r.Method == http.MethodPost && q.Has("uploads"))
	if c := r.Header.Get("X-Amz-Storage-Class"); creates && c != "" && !storageClasses[c] {
		WriteError(w, r, http.StatusBadRequest, "InvalidStorageClass", "The storage class you specified is not valid")
		return true
	}
	if r.Method == http.MethodPost && q.Has("uploads") && len(key) > keySizeLimit {
		WriteError(w, r, http.StatusBadRequest, "KeyTooLongError", "Your key is too long")
		return true
	}
	if r.Method == http.MethodPut && key != "" && r.Header.Get("If-Match") != "" && !q.Has("partNumber") && !s.exists(bucket, key) {
		WriteError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return true
	}
	if r.Method == http.MethodPost && key == "" && q.Has("delete") {
		if r.Header.Get("Content-Md5") == "" && !hasChecksum(r.Header) {
			WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
			return true
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct {
			Objects []struct{} `xml:"Object"`
		}
		if xml.Unmarshal(body, &req) == nil && len(req.Objects) > maxDeleteKeys {
			WriteError(w, r, http.StatusBadRequest, "MalformedXML",
				"The XML you provided was not well-formed or did not validate against our published schema")
			return true
		}
	}
	return false
}

// checksumHeaders are the x-amz-checksum-* headers of values, with the
// length of their digests.
var checksumHeaders = map[string]int{
	"X-Amz-Checksum-Crc32": 4, "X-Amz-Checksum-Crc32c": 4, "X-Amz-Checksum-Crc64nvme": 8,
	"X-Amz-Checksum-Sha1": 20, "X-Amz-Checksum-Sha256": 32,
}

// checksumForm answers 400 InvalidRequest, as S3 does, for a request with
// more than one x-amz-checksum-* value or a value that is no base64 digest
// of its algorithm's length, and reports whether it did.
func checksumForm(w http.ResponseWriter, r *http.Request) bool {
	n := 0
	for k, v := range r.Header {
		size, ok := checksumHeaders[k]
		if !ok {
			continue
		}
		n++
		raw, err := base64.StdEncoding.DecodeString(strings.Join(v, ""))
		if err != nil || len(raw) != size {
			WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "Value for "+strings.ToLower(k)+" header is invalid.")
			return true
		}
	}
	if n > 1 {
		WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		return true
	}
	return false
}

// partChecksum answers 400 InvalidRequest, as S3 does, for a part whose
// checksum does not follow its upload: a part of an upload created
// without a checksum algorithm carries none, a part of a COMPOSITE upload
// carries its algorithm's (a FULL_OBJECT upload takes parts without).
// It reports whether it answered.
func partChecksum(w http.ResponseWriter, r *http.Request, st *mpuState) bool {
	got := ""
	for k := range r.Header {
		if _, ok := checksumHeaders[k]; ok {
			got = strings.ToLower(strings.TrimPrefix(k, "X-Amz-Checksum-"))
		}
	}
	want := strings.ToLower(st.algo)
	if got == want || got == "" && st.typ == "FULL_OBJECT" {
		return false
	}
	name := func(a string) string {
		if a == "" {
			return "null"
		}
		return a
	}
	WriteError(w, r, http.StatusBadRequest, "InvalidRequest",
		"Checksum Type mismatch occurred, expected checksum Type: "+name(want)+", actual checksum Type: "+name(got))
	return true
}

var copyRange = regexp.MustCompile(`^bytes=([0-9]+)-([0-9]+)$`)

// checkCopyRange checks x-amz-copy-source-range as S3 does: bytes=first-last,
// within a source of size bytes; else 400 InvalidArgument. It reports
// whether it answered.
func checkCopyRange(w http.ResponseWriter, r *http.Request, size int64) bool {
	rng := r.Header.Get("X-Amz-Copy-Source-Range")
	if rng == "" {
		return false
	}
	m := copyRange.FindStringSubmatch(rng)
	if m == nil {
		WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "The x-amz-copy-source-range value must be of the form "+
			"bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		return true
	}
	first, err1 := strconv.ParseInt(m[1], 10, 64)
	last, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil || first > last || last >= size {
		WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Range specified is not valid for source object of size: "+strconv.FormatInt(size, 10))
		return true
	}
	return false
}

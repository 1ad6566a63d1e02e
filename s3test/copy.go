package s3test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
)

// Server-side copies, as S3 answers them and gofakes3 does not: the
// x-amz-copy-source header is decoded as S3 decodes it (a query-string
// unescape: "%2B" is '+', a raw '+' is a space, a bad escape is 400
// InvalidArgument), x-amz-copy-source-if-match is checked (412
// PreconditionFailed), an archived source cannot be copied (403
// InvalidObjectState), and UploadPartCopy, which gofakes3 lacks, copies a
// range of the source into a part.

// serveCopy answers CopyObject and UploadPartCopy.
func (s *Server) serveCopy(w http.ResponseWriter, r *http.Request, bucket, key string) {
	srcBucket, srcKey, ok := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	if !ok {
		WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Invalid copy source encoding")
		return
	}
	s.mu.Lock()
	archived, _ := s.archivedLocked(srcBucket, srcKey)
	s.mu.Unlock()
	if archived {
		WriteError(w, r, http.StatusForbidden, "InvalidObjectState", "The source object of the COPY action is not in the active tier")
		return
	}
	head := httptest.NewRequest(http.MethodHead, "/", nil)
	head.URL.Path = "/" + srcBucket + "/" + srcKey
	rec := httptest.NewRecorder()
	s.serveObjectHeaders(rec, head, srcBucket, srcKey)
	if rec.Code != http.StatusOK {
		code := "NoSuchKey"
		if rec.Code != http.StatusNotFound {
			code = http.StatusText(rec.Code)
		}
		WriteError(w, r, rec.Code, code, "The specified key does not exist.")
		return
	}
	if m := r.Header.Get("X-Amz-Copy-Source-If-Match"); m != "" && strings.Trim(m, `"`) != strings.Trim(rec.Header().Get("ETag"), `"`) {
		WriteError(w, r, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	if r.URL.Query().Has("partNumber") {
		size, _ := strconv.ParseInt(rec.Header().Get("Content-Length"), 10, 64)
		if checkCopyRange(w, r, size) {
			return
		}
		s.uploadPartCopy(w, r, srcBucket, srcKey)
		return
	}
	// gofakes3 splits its copy source at the first '/' and query-unescapes
	// the key: give it the key in a form that survives that unchanged.
	r.Header.Set("X-Amz-Copy-Source", "/"+srcBucket+"/"+url.QueryEscape(srcKey))
	rec = httptest.NewRecorder()
	s.fake.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		s.setClass(bucket, key, r.Header.Get("X-Amz-Storage-Class"))
		// The copy of a multipart object is one part, with the full-object
		// CRC32C of its bytes where the source had a CRC32C.
		s.mu.Lock()
		src := s.sums[srcBucket+"/"+srcKey]
		s.mu.Unlock()
		if src != nil {
			sums := &objectSums{}
			if m := etagTag.FindSubmatch(rec.Body.Bytes()); m != nil {
				sums.etag = xmlText(m[1])
			}
			if src.checksum != "" {
				sums.checksum, sums.typ = crcOf(s.objectData(bucket, key)), "FULL_OBJECT"
			}
			s.mu.Lock()
			s.sums[bucket+"/"+key] = sums
			s.mu.Unlock()
		}
	}
	copyResponse(w, rec)
}

// parseCopySource decodes x-amz-copy-source ("[/]bucket/key[?versionId=..]")
// as S3 does.
func parseCopySource(v string) (bucket, key string, ok bool) {
	v, _, _ = strings.Cut(v, "?")
	dec, err := url.QueryUnescape(strings.TrimPrefix(v, "/"))
	if err != nil {
		return "", "", false
	}
	bucket, key, ok = strings.Cut(dec, "/")
	return bucket, key, ok && bucket != "" && key != ""
}

// uploadPartCopy copies x-amz-copy-source-range of the source into a part,
// as a ranged GET of the source and an UploadPart of what it returned.
func (s *Server) uploadPartCopy(w http.ResponseWriter, r *http.Request, srcBucket, srcKey string) {
	get := httptest.NewRequest(http.MethodGet, "/", nil)
	get.URL.Path = "/" + srcBucket + "/" + srcKey
	if rng := r.Header.Get("X-Amz-Copy-Source-Range"); rng != "" {
		get.Header.Set("Range", rng)
	}
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, get)
	if rec.Code != http.StatusPartialContent && rec.Code != http.StatusOK {
		copyResponse(w, rec)
		return
	}
	body := rec.Body.Bytes()
	put := httptest.NewRequest(http.MethodPut, r.URL.String(), bytes.NewReader(body))
	put.URL.Path = r.URL.Path
	put.Header.Set("Content-Length", strconv.Itoa(len(body)))
	rec = httptest.NewRecorder()
	s.fake.ServeHTTP(rec, put)
	if rec.Code != http.StatusOK {
		copyResponse(w, rec)
		return
	}
	sum := crcOf(body)
	s.notePart(r.URL.Query(), sum, int64(len(body)))
	s.mu.Lock()
	st := s.uploads[r.URL.Query().Get("uploadId")]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/xml")
	if st == nil || st.algo != "CRC32C" {
		// S3 answers the part's checksum in the upload's algorithm only.
		fmt.Fprintf(w, `<CopyPartResult><ETag>%s</ETag></CopyPartResult>`, xmlEscape(rec.Header().Get("ETag")))
		return
	}
	fmt.Fprintf(w, `<CopyPartResult><ETag>%s</ETag><ChecksumCRC32C>%s</ChecksumCRC32C></CopyPartResult>`,
		xmlEscape(rec.Header().Get("ETag")), sum)
}

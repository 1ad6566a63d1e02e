package s3test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"
)

// verifyBody checks an upload's body against the x-amz-checksum-* header it
// carries, as S3 does and gofakes3 does not (it stores and echoes the
// header): a mismatch is 400 BadDigest and nothing is stored. It reports
// whether the request may go on, with its body restored.
func verifyBody(w http.ResponseWriter, r *http.Request) bool {
	var checks []struct {
		name, want string
		h          hash.Hash
	}
	for _, c := range []struct {
		header string
		h      func() hash.Hash
	}{
		{"X-Amz-Checksum-Crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
		{"X-Amz-Checksum-Crc32", func() hash.Hash { return crc32.NewIEEE() }},
		{"X-Amz-Checksum-Crc64nvme", func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) }},
		{"X-Amz-Checksum-Sha256", sha256.New},
		{"X-Amz-Checksum-Sha1", sha1.New},
	} {
		if v := r.Header.Get(c.header); v != "" {
			checks = append(checks, struct {
				name, want string
				h          hash.Hash
			}{c.header, v, c.h()})
		}
	}
	if len(checks) == 0 {
		return true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteError(w, r, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return false
	}
	for _, c := range checks {
		c.h.Write(body)
		if base64.StdEncoding.EncodeToString(c.h.Sum(nil)) != c.want {
			WriteError(w, r, http.StatusBadRequest, "BadDigest", "The "+c.name[len("X-Amz-Checksum-"):]+" you specified did not match the calculated checksum.")
			return false
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return true
}

// echoChecksums answers an upload's checksum headers back on success, as S3
// does: a client reads in the echo that the server checked them.
func echoChecksums(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	return &headerFix{ResponseWriter: w, fix: func(h http.Header, code int) {
		if code != http.StatusOK {
			return
		}
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Amz-Checksum-") && k != "X-Amz-Checksum-Algorithm" {
				h[k] = v
			}
		}
	}}
}

// verifyPost answers damaged POST bodies as S3 does and gofakes3 does not:
// a body that is no well-formed XML document is 400 MalformedXML (gofakes3
// skips text before the first element, so a damaged '<' made the first
// child the root: a DeleteObjects of nothing answered 200), and a body that
// does not match its Content-MD5 or x-amz-checksum-* header is 400
// BadDigest. Complete's checksum header is the object's, not the body's.
// It reports whether the request may go on, with its body restored.
func verifyPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.ContentLength == 0 {
		return true
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil || len(body) == 0 {
		return true
	}
	if !wellFormed(body) {
		WriteError(w, r, http.StatusBadRequest, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema.")
		return false
	}
	if sum := r.Header.Get("Content-Md5"); sum != "" {
		h := md5.Sum(body)
		if base64.StdEncoding.EncodeToString(h[:]) != sum {
			WriteError(w, r, http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
			return false
		}
	}
	if r.URL.Query().Has("uploadId") {
		return true
	}
	return verifyBody(w, r)
}

// wellFormed reports whether body is one XML document: an optional
// declaration, one root element, nothing else but white space.
func wellFormed(body []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return roots == 1 && depth == 0
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return false
			}
		}
	}
}

// hasChecksum reports whether a request carries an x-amz-checksum-* value.
func hasChecksum(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, "X-Amz-Checksum-") && k != "X-Amz-Checksum-Algorithm" && k != "X-Amz-Checksum-Type" {
			return true
		}
	}
	return false
}

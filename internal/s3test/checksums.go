package s3test

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
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

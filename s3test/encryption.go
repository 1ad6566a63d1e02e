package s3test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
)

// Server-side encryption, as S3 answers it and gofakes3 does not: the fake
// stores no ciphertext, but it remembers how each object was encrypted,
// checks the headers S3 checks and answers them back. SSE-S3 and SSE-KMS
// need nothing to read. SSE-C (a key the client sends) is refused over
// plain HTTP, as S3 refuses it (NewTLSServer serves HTTPS), and every
// request that reads the object, or a part of its upload, must carry the
// same key: without it 400 InvalidRequest, with another 403 AccessDenied.
// The key itself is never stored or answered back.

type encState struct {
	typ    string // AES256, aws:kms, aws:kms:dsse; "SSE-C" for a customer key
	kmsKey string
	keyMD5 string // SSE-C: base64 MD5 of the key
}

const (
	hSSE    = "X-Amz-Server-Side-Encryption"
	hKMSKey = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hCAlg   = "X-Amz-Server-Side-Encryption-Customer-Algorithm"
	hCKey   = "X-Amz-Server-Side-Encryption-Customer-Key"
	hCMD5   = "X-Amz-Server-Side-Encryption-Customer-Key-Md5"
	hCopyC  = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"
)

// customerKey reads the SSE-C headers starting with prefix: the key's
// base64 MD5, "" when there are none; a non-empty code when they are
// malformed.
func customerKey(h http.Header, prefix string) (keyMD5, code, msg string) {
	alg, key, sum := h.Get(prefix+"Algorithm"), h.Get(prefix+"Key"), h.Get(prefix+"Key-Md5")
	if alg == "" && key == "" && sum == "" {
		return "", "", ""
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	switch {
	case alg != "AES256":
		return "", "InvalidArgument", "The encryption algorithm specified is not valid."
	case err != nil || len(raw) != 32:
		return "", "InvalidArgument", "The secret key was invalid for the specified algorithm."
	}
	want := md5.Sum(raw)
	if sum != base64.StdEncoding.EncodeToString(want[:]) {
		return "", "InvalidArgument", "The calculated MD5 hash of the key did not match the hash that was provided."
	}
	return sum, "", ""
}

const customerPrefix = "X-Amz-Server-Side-Encryption-Customer-"

// newEncryption reads the encryption a write asks for (PUT, copy, create).
func newEncryption(r *http.Request) (st *encState, code, msg string) {
	sse, kms := r.Header.Get(hSSE), r.Header.Get(hKMSKey)
	keyMD5, code, msg := customerKey(r.Header, customerPrefix)
	switch {
	case code != "":
		return nil, code, msg
	case sse != "" && keyMD5 != "":
		return nil, "InvalidArgument", "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
	case sse != "" && sse != "AES256" && sse != "aws:kms" && sse != "aws:kms:dsse":
		return nil, "InvalidArgument", "The encryption method specified is not supported"
	case kms != "" && !strings.HasPrefix(sse, "aws:kms"):
		return nil, "InvalidArgument", "x-amz-server-side-encryption-aws-kms-key-id header is not valid without aws:kms"
	case keyMD5 != "":
		return &encState{typ: "SSE-C", keyMD5: keyMD5}, "", ""
	case sse != "":
		return &encState{typ: sse, kmsKey: kms}, "", ""
	}
	return nil, "", ""
}

// checkKey checks that a request reading an object encrypted as st
// carries its key (headers with prefix), as S3 does.
func checkKey(r *http.Request, st *encState, prefix string) (status int, code, msg string) {
	keyMD5, code, msg := customerKey(r.Header, prefix)
	switch {
	case code != "":
		return http.StatusBadRequest, code, msg
	case (st == nil || st.typ != "SSE-C") && keyMD5 != "":
		return http.StatusBadRequest, "InvalidRequest", "The encryption parameters are not applicable to this object."
	case st != nil && st.typ == "SSE-C" && keyMD5 == "":
		return http.StatusBadRequest, "InvalidRequest",
			"The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."
	case st != nil && st.typ == "SSE-C" && keyMD5 != st.keyMD5:
		return http.StatusForbidden, "AccessDenied", "Access Denied"
	}
	return 0, "", ""
}

// stripEncryption removes the encryption headers before gofakes3 sees the
// request: it would keep them as metadata and answer the key back.
func stripEncryption(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, hSSE) || strings.HasPrefix(k, hCopyC) {
			delete(h, k)
		}
	}
}

// answerEncryption adds st's headers to an answer, as S3 does.
func answerEncryption(h http.Header, st *encState) {
	switch {
	case st == nil:
	case st.typ == "SSE-C":
		h.Set(hCAlg, "AES256")
		h.Set(hCMD5, st.keyMD5)
	default:
		h.Set(hSSE, st.typ)
		if st.kmsKey != "" {
			h.Set(hKMSKey, st.kmsKey)
		}
	}
}

// serveEncryption checks and strips the encryption headers of a request
// and arranges its answer; it returns the writer to answer through, and
// false when it answered the request itself (an error).
func (s *Server) serveEncryption(w http.ResponseWriter, r *http.Request, bucket, key string) (http.ResponseWriter, *http.Request, bool) {
	if key == "" {
		return w, r, true
	}
	q := r.URL.Query()
	fail := func(status int, code, msg string) (http.ResponseWriter, *http.Request, bool) {
		WriteError(w, r, status, code, msg)
		return w, r, false
	}
	hasC := func(prefix string) bool {
		return r.Header.Get(prefix+"Algorithm") != "" || r.Header.Get(prefix+"Key") != ""
	}
	if r.TLS == nil && (hasC(customerPrefix) || hasC(hCopyC)) {
		return fail(http.StatusBadRequest, "InvalidRequest",
			"Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
	}
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" && r.Method == http.MethodPut {
		sb, sk, _ := parseCopySource(src)
		s.mu.Lock()
		st := s.enc[sb+"/"+sk]
		s.mu.Unlock()
		if status, code, msg := checkKey(r, st, hCopyC); status != 0 {
			return fail(status, code, msg)
		}
	}
	s.mu.Lock()
	obj := s.enc[bucket+"/"+key]
	up := s.uploads[q.Get("uploadId")]
	s.mu.Unlock()
	var upEnc *encState
	if up != nil {
		upEnc = up.enc
	}
	var answer *encState
	var record func(code int)
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber"): // UploadPart, UploadPartCopy
		if status, code, msg := checkKey(r, upEnc, customerPrefix); status != 0 {
			return fail(status, code, msg)
		}
		answer = upEnc
	case r.Method == http.MethodPut || r.Method == http.MethodPost && q.Has("uploads"): // a new object
		st, code, msg := newEncryption(r)
		if code != "" {
			return fail(http.StatusBadRequest, code, msg)
		}
		answer = st
		if r.Method == http.MethodPut {
			record = func(int) { s.enc[bucket+"/"+key] = st }
		} else {
			r = r.WithContext(context.WithValue(r.Context(), encKey{}, st)) // for createUpload
		}
	case r.Method == http.MethodPost && q.Has("uploadId"): // Complete
		if status, code, msg := checkKey(r, upEnc, customerPrefix); status != 0 && upEnc != nil {
			return fail(status, code, msg)
		}
		answer = upEnc
		record = func(int) { s.enc[bucket+"/"+key] = upEnc }
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && !q.Has("retention") && !q.Has("legal-hold") &&
		!q.Has("tagging") && !q.Has("acl") && !q.Has("uploadId"):
		if status, code, msg := checkKey(r, obj, customerPrefix); status != 0 {
			return fail(status, code, msg)
		}
		answer = obj
	case r.Method == http.MethodDelete && !q.Has("uploadId"):
		record = func(int) { delete(s.enc, bucket+"/"+key) }
	}
	stripEncryption(r.Header)
	return &headerFix{ResponseWriter: w, fix: func(h http.Header, code int) {
		if code/100 != 2 {
			return
		}
		answerEncryption(h, answer)
		if record != nil {
			s.mu.Lock()
			record(code)
			s.mu.Unlock()
		}
	}}, r, true
}

// encKey carries the encryption a CreateMultipartUpload asked for to
// createUpload.
type encKey struct{}

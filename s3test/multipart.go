package s3test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
)

// Multipart uploads and object checksums as S3 answers them and gofakes3
// does not:
//   - the checksum type CreateMultipartUpload asks for decides the object's
//     checksum: FULL_OBJECT CRC32C is the CRC32C of the whole object (one
//     given to Complete is checked: BadDigest), COMPOSITE is the CRC32C of
//     the part CRC32Cs followed by "-N", none is none;
//   - Complete answers that checksum, and a part checksum it names must be
//     the one the part was sent with (InvalidPart);
//   - the object's ETag is the MD5 of the part MD5s followed by "-N" on
//     HEAD, GET and in listings (gofakes3 answers the MD5 of the whole
//     object there);
//   - HEAD ?partNumber=N answers that part's length and
//     x-amz-mp-parts-count;
//   - checksums are answered to HEAD and to whole-object GETs that send
//     x-amz-checksum-mode: ENABLED only (gofakes3 answers them always);
//   - a bucket without uploads lists none (gofakes3 answers NoSuchUpload).

// mpuState is an upload in progress.
type mpuState struct {
	algo, typ string // x-amz-checksum-algorithm and -type of Create
	class     string // x-amz-storage-class of Create
	enc       *encState
	parts     map[int]partState
}

type partState struct {
	crc  string // the part's CRC32C as sent, "" if none
	size int64
}

// objectSums is what S3 reports of an object whose checksum or ETag the
// fake decides (multipart objects, copies of them).
type objectSums struct {
	checksum string  // CRC32C, base64; "-N" when composite; "" for none
	typ      string  // FULL_OBJECT or COMPOSITE
	etag     string  // quoted
	parts    []int64 // part sizes; nil for a single-part object
}

var (
	uploadIDTag = regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`)
	etagTag     = regexp.MustCompile(`<ETag>([^<]*)</ETag>`)
)

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	class := r.Header.Get("X-Amz-Storage-Class") // the object's once the upload completes
	algo := strings.ToUpper(r.Header.Get("X-Amz-Checksum-Algorithm"))
	typ := strings.ToUpper(r.Header.Get("X-Amz-Checksum-Type"))
	if algo != "" && typ == "" {
		typ = "COMPOSITE"
	}
	// gofakes3 keeps every X-Amz-* header as metadata and answers it back.
	r.Header.Del("X-Amz-Checksum-Algorithm")
	r.Header.Del("X-Amz-Checksum-Type")
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, r)
	if m := uploadIDTag.FindSubmatch(rec.Body.Bytes()); rec.Code == http.StatusOK && m != nil {
		s.mu.Lock()
		enc, _ := r.Context().Value(encKey{}).(*encState)
		s.uploads[xmlText(m[1])] = &mpuState{algo: algo, typ: typ, class: class, enc: enc, parts: map[int]partState{}}
		s.mu.Unlock()
		if algo != "" { // answered back, as S3 does
			rec.Header().Set("X-Amz-Checksum-Algorithm", algo)
			rec.Header().Set("X-Amz-Checksum-Type", typ)
		}
	}
	copyResponse(w, rec)
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.uploads[r.URL.Query().Get("uploadId")]
	s.mu.Unlock()
	if st != nil && partChecksum(w, r, st) {
		return
	}
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK {
		s.notePart(r.URL.Query(), r.Header.Get("X-Amz-Checksum-Crc32c"), r.ContentLength)
	}
	copyResponse(w, rec)
}

func (s *Server) notePart(q map[string][]string, crc string, size int64) {
	n, _ := strconv.Atoi(strings.Join(q["partNumber"], ""))
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.uploads[strings.Join(q["uploadId"], "")]; st != nil {
		st.parts[n] = partState{crc: crc, size: size}
	}
}

type completeRequest struct {
	Parts []struct {
		PartNumber     int
		ETag           string
		ChecksumCRC32C string
	} `xml:"Part"`
}

func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	id := r.URL.Query().Get("uploadId")
	body, _ := io.ReadAll(r.Body)
	var req completeRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		WriteError(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed")
		return
	}
	s.mu.Lock()
	st := s.uploads[id]
	s.mu.Unlock()
	if s.checkParts(w, r, st, req) {
		return
	}
	if r.Header.Get("If-None-Match") == "*" && st != nil && s.exists(bucket, key) {
		// S3 refuses to complete over an existing object; the upload
		// stays, to be aborted or completed elsewhere.
		WriteError(w, r, http.StatusPreconditionFailed, "PreconditionFailed",
			"At least one of the pre-conditions you specified did not hold")
		return
	}
	var crcs []byte
	var sizes []int64
	for _, p := range req.Parts {
		var part partState
		if st != nil {
			part = st.parts[p.PartNumber]
			if p.ChecksumCRC32C != "" && p.ChecksumCRC32C != part.crc {
				WriteError(w, r, http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found or the checksum did not match")
				return
			}
		}
		raw, _ := base64.StdEncoding.DecodeString(part.crc)
		crcs = append(crcs, raw...)
		sizes = append(sizes, part.size)
	}
	if v := r.Header.Get("X-Amz-Mp-Object-Size"); v != "" && st != nil {
		var total int64
		for _, n := range sizes {
			total += n
		}
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n != total {
			WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "The provided 'x-amz-mp-object-size' header value "+v+
				" does not match what was computed: "+strconv.FormatInt(total, 10))
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		copyResponse(w, rec)
		return
	}
	class := ""
	if st != nil {
		class = st.class
	}
	s.setClass(bucket, key, class) // a new object: its class, no restore, no old checksum
	sums := &objectSums{parts: sizes}
	if m := etagTag.FindSubmatch(rec.Body.Bytes()); m != nil {
		sums.etag = xmlText(m[1])
	}
	if st != nil && st.algo == "CRC32C" {
		sums.typ = st.typ
		switch st.typ {
		case "FULL_OBJECT":
			sums.checksum = crcOf(s.objectData(bucket, key))
			if given := r.Header.Get("X-Amz-Checksum-Crc32c"); given != "" && given != sums.checksum {
				s.deleteObject(bucket, key)
				WriteError(w, r, http.StatusBadRequest, "BadDigest", "The CRC32C you specified did not match the calculated checksum.")
				return
			}
		default:
			sums.checksum = crcOf(crcs) + "-" + strconv.Itoa(len(req.Parts))
		}
	}
	s.mu.Lock()
	delete(s.uploads, id)
	s.sums[bucket+"/"+key] = sums
	s.mu.Unlock()
	out := rec.Body.Bytes()
	if sums.checksum != "" {
		extra := "<ChecksumCRC32C>" + sums.checksum + "</ChecksumCRC32C><ChecksumType>" + sums.typ + "</ChecksumType>"
		out = bytes.Replace(out, []byte("</CompleteMultipartUploadResult>"), []byte(extra+"</CompleteMultipartUploadResult>"), 1)
	}
	rec.Header().Set("Content-Length", strconv.Itoa(len(out)))
	copyHeader(w.Header(), rec.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// checkParts checks the parts a Complete lists as S3 does, and answers
// when they are refused: none is 400 MalformedXML; part numbers out of
// ascending order, or one twice, 400 InvalidPartOrder; a part but the
// last smaller than 5 MiB (SetMinPartSize) 400 EntityTooSmall; a COMPOSITE
// CRC32C upload's part without its checksum 400 InvalidRequest. It
// reports whether it answered.
func (s *Server) checkParts(w http.ResponseWriter, r *http.Request, st *mpuState, req completeRequest) bool {
	if len(req.Parts) == 0 {
		WriteError(w, r, http.StatusBadRequest, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema")
		return true
	}
	for i := 1; i < len(req.Parts); i++ {
		if req.Parts[i].PartNumber <= req.Parts[i-1].PartNumber {
			WriteError(w, r, http.StatusBadRequest, "InvalidPartOrder",
				"The list of parts was not in ascending order. Parts must be ordered by part number.")
			return true
		}
	}
	if st == nil {
		return false // gofakes3 answers NoSuchUpload
	}
	minSize := s.minPart.Load()
	if minSize <= 0 {
		minSize = 5 << 20
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range req.Parts[:len(req.Parts)-1] {
		if part, ok := st.parts[p.PartNumber]; ok && part.size < minSize {
			WriteError(w, r, http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
			return true
		}
	}
	if st.algo == "CRC32C" && st.typ == "COMPOSITE" {
		for _, p := range req.Parts {
			if p.ChecksumCRC32C == "" {
				WriteError(w, r, http.StatusBadRequest, "InvalidRequest", "The upload was created using a crc32c checksum. "+
					"The complete request must include the checksum for each part. It was missing for part "+
					strconv.Itoa(p.PartNumber)+" in the request.")
				return true
			}
		}
	}
	return false
}

// listUploads answers an empty listing where gofakes3 answers NoSuchUpload
// for a bucket that never had an upload.
func (s *Server) listUploads(w http.ResponseWriter, r *http.Request, bucket string) {
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, r)
	if rec.Code == http.StatusNotFound && bytes.Contains(rec.Body.Bytes(), []byte("NoSuchUpload")) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>`+xmlEscape(bucket)+
			`</Bucket><Prefix>`+xmlEscape(r.URL.Query().Get("prefix"))+`</Prefix><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`)
		return
	}
	copyResponse(w, rec)
}

// headPart answers HEAD ?partNumber=N: the part's length, and the number of
// parts of a multipart object.
func (s *Server) headPart(w http.ResponseWriter, r *http.Request, bucket, key string) {
	n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
	q := r.URL.Query()
	q.Del("partNumber")
	r.URL.RawQuery = q.Encode()
	rec := httptest.NewRecorder()
	s.serveObjectHeaders(rec, r, bucket, key)
	s.mu.Lock()
	sums := s.sums[bucket+"/"+key]
	s.mu.Unlock()
	switch {
	case rec.Code != http.StatusOK:
	case err != nil || n < 1 || sums == nil && n > 1 || sums != nil && sums.parts != nil && n > len(sums.parts):
		WriteError(w, r, http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
		return
	case sums != nil && sums.parts != nil:
		rec.Header().Set("Content-Length", strconv.FormatInt(sums.parts[n-1], 10))
		rec.Header().Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(sums.parts)))
		rec.Header().Del("X-Amz-Checksum-Crc32c")
		rec.Header().Del("X-Amz-Checksum-Type")
	}
	copyResponse(w, rec)
}

// serveObjectHeaders serves a HEAD or GET with the ETag and checksum S3
// would answer.
func (s *Server) serveObjectHeaders(w http.ResponseWriter, r *http.Request, bucket, key string) {
	s.mu.Lock()
	sums := s.sums[bucket+"/"+key]
	s.mu.Unlock()
	whole := r.Header.Get("Range") == ""
	withSums := whole && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED")
	hf := &headerFix{ResponseWriter: w, fix: func(h http.Header, code int) {
		if code != http.StatusOK && code != http.StatusPartialContent {
			return
		}
		if sums != nil {
			h.Set("ETag", sums.etag)
			for k := range h {
				if strings.HasPrefix(k, "X-Amz-Checksum-") {
					h.Del(k)
				}
			}
			if sums.checksum != "" {
				h.Set("X-Amz-Checksum-Crc32c", sums.checksum)
				h.Set("X-Amz-Checksum-Type", sums.typ)
			}
		}
		if !withSums {
			for k := range h {
				if strings.HasPrefix(k, "X-Amz-Checksum-") {
					h.Del(k)
				}
			}
		}
	}}
	s.fake.ServeHTTP(hf, r)
	if !hf.wroteHeader { // a HEAD answer: net/http would send 200 now
		hf.WriteHeader(http.StatusOK)
	}
}

// headerFix lets fix change the headers of an answer before they go out.
type headerFix struct {
	http.ResponseWriter
	fix         func(h http.Header, code int)
	wroteHeader bool
}

func (f *headerFix) WriteHeader(code int) {
	if f.wroteHeader {
		return // net/http would ignore it too, noisily
	}
	f.fix(f.Header(), code)
	f.wroteHeader = true
	f.ResponseWriter.WriteHeader(code)
}

func (f *headerFix) Write(b []byte) (int, error) {
	if !f.wroteHeader {
		f.WriteHeader(http.StatusOK)
	}
	return f.ResponseWriter.Write(b)
}

// objectData reads an object as stored.
func (s *Server) objectData(bucket, key string) []byte {
	get := httptest.NewRequest(http.MethodGet, "/", nil)
	get.URL.Path = "/" + bucket + "/" + key
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, get)
	return rec.Body.Bytes()
}

// exists reports whether an object is stored under key.
func (s *Server) exists(bucket, key string) bool {
	head := httptest.NewRequest(http.MethodHead, "/", nil)
	head.URL.Path = "/" + bucket + "/" + key
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, head)
	return rec.Code == http.StatusOK
}

func (s *Server) deleteObject(bucket, key string) {
	del := httptest.NewRequest(http.MethodDelete, "/", nil)
	del.URL.Path = "/" + bucket + "/" + key
	s.fake.ServeHTTP(httptest.NewRecorder(), del)
	s.setClass(bucket, key, "")
}

func crcOf(b []byte) string {
	sum := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

// xmlText decodes the character data of an element.
func xmlText(b []byte) string {
	var v string
	if err := xml.Unmarshal([]byte("<v>"+string(b)+"</v>"), &v); err != nil {
		return string(b)
	}
	return v
}

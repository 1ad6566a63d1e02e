// Package s3test runs an in-process S3 server for tests: a program that
// stores its backups with s3dest tests itself against it without an
// account or a network.
//
//	srv := s3test.NewServer()
//	defer srv.Close()
//	if err := srv.CreateBucket("backups"); err != nil { ... }
//	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"))
//
// It is gofakes3 (in memory, on 127.0.0.1, plain HTTP) behind a layer that
// answers as S3 does where gofakes3 does not: full-object and composite
// CRC32C checksums, checked on upload and answered back; multipart ETags
// (the MD5 of the part MD5s); storage classes in listings and HEAD, the
// class of the last write; archive tiers (Archive): GET of an archived
// object is 403 InvalidObjectState until a restore (POST ?restore)
// completes, HEAD answers x-amz-restore and listings RestoreStatus;
// UploadPartCopy; If-None-Match on PutObject and CompleteMultipartUpload;
// BucketAlreadyOwnedByYou; server-side encryption headers checked and
// answered, SSE-C keys required on every read and refused over plain HTTP
// (NewTLSServer serves HTTPS); lifecycle configurations (GET, PUT and
// DELETE ?lifecycle), kept and checked but never applied: Archive does
// what a transition would; versioning (EnableVersioning): old versions
// and delete markers kept, listed newest first, read, archived and
// restored by version id, each with its own storage class, checksum and
// key; requests S3 refuses (rules.go, list.go): unknown storage classes,
// malformed or several checksum headers, part checksums that do not follow
// their upload, parts out of order or under 5 MiB (SetMinPartSize) but
// for the last, copy ranges outside the source, DeleteObjects without a
// checksum or of more than 1,000 keys; listings paged as S3 pages them.
// Its clock (Now) stamps what it stores, so a test can move time
// between writes. It checks no signature (any credentials pass, AccessKey
// and SecretKey make the SDK sign), knows one region and no redirects,
// keeps no object lock, stores no ciphertext (under
// SSE-KMS and SSE-C its ETags stay MD5s, where S3's are not), and holds
// every object in memory. SetHook puts a handler in front of it
// for what a test needs beyond that: errors, stalls, mangled answers.
package s3test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials the fake accepts (it checks no signature; these only make the
// SDK sign).
const (
	AccessKey = "AKIAS3DESTFAKE"
	SecretKey = "s3dest-fake-secret-0123456789"
)

// A Hook sees each request before the fake does. It returns true when it
// answered the request itself.
type Hook func(w http.ResponseWriter, r *http.Request) bool

// Request is what the server saw of one request.
type Request struct {
	Method string
	Host   string
	Path   string // bucket and key, path-style, decoded
	Query  url.Values
	Header http.Header
}

// Server is a running fake S3 server.
type Server struct {
	Endpoint string // "http://127.0.0.1:PORT"
	Addr     string // "127.0.0.1:PORT"

	srv  *httptest.Server
	fake http.Handler
	mem  *s3mem.Backend // gofakes3's storage, for what the layer reads directly (versions.go)

	// RestorePolls is how many polls (HEADs, or listings that report the
	// object) see a restore as ongoing before it completes; the poll after
	// them sees it done. Default 1.
	RestorePolls int
	// Now is the server's clock (default time.Now): the LastModified of
	// what it stores and the expiry dates of restores follow it. Requests
	// are checked against the machine's clock, which signs them, not Now.
	Now func() time.Time
	// RejectRestoreStatus makes listings that ask for RestoreStatus fail
	// with 400 InvalidArgument, as some S3-compatible servers do.
	RejectRestoreStatus bool

	conns   atomic.Int64 // connections accepted
	minPart atomic.Int64 // SetMinPartSize's; 0: S3's 5 MiB

	mu       sync.Mutex
	hook     Hook
	reqs     []Request
	classes  map[string]string        // "bucket/key" -> storage class, as AWS would report it
	restores map[string]*restoreState // "bucket/key" -> archive state
	uploads  map[string]*mpuState     // uploads in progress, by upload ID
	sums     map[string]*objectSums   // what the fake decides of objects: "bucket/key" -> checksum, ETag, parts
	enc      map[string]*encState     // "bucket/key" -> how it was encrypted

	lifecycles map[string]lifecycleConf // bucket -> its lifecycle configuration (lifecycle.go)
}

// NewServer starts a server on a free loopback port, over plain HTTP.
// Close stops it.
func NewServer() *Server { return newServer(false) }

// NewTLSServer is NewServer over HTTPS, with a certificate of its own for
// 127.0.0.1, which HTTPClient trusts: open a Destination on it with
// s3dest.WithHTTPClient(srv.HTTPClient()). S3 takes customer keys (SSE-C)
// over HTTPS only, and so does the fake.
func NewTLSServer() *Server { return newServer(true) }

func newServer(useTLS bool) *Server {
	s := &Server{classes: map[string]string{}, restores: map[string]*restoreState{},
		uploads: map[string]*mpuState{}, sums: map[string]*objectSums{}, enc: map[string]*encState{}}
	clock := serverTime{s}
	s.mem = s3mem.New(s3mem.WithTimeSource(clock))
	s.fake = headVersions(gofakes3.New(replacingBackend{s.mem}, gofakes3.WithLogger(gofakes3.DiscardLog()),
		gofakes3.WithTimeSource(clock), gofakes3.WithTimeSkewLimit(0)).Server()) // clock.go, versions.go
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.Endpoint = s.srv.URL
	s.Addr = s.srv.Listener.Addr().String()
	return s
}

// TB is the part of testing.TB that New uses; taking it instead of
// importing testing keeps the testing package out of the programs (the
// examples) that run the fake.
type TB interface {
	Helper()
	Cleanup(func())
}

// New starts a fake server that stops when the test ends.
func New(t TB) *Server {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetHook installs h in front of the fake (nil removes it).
func (s *Server) SetHook(h Hook) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Conns returns how many connections the server has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// ResetRequests forgets the requests seen so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// URL returns an s3dest URL of the bucket and prefix on this server, for
// s3dest.Open: its endpoint, use-ssl=false and the credentials it takes.
func (s *Server) URL(bucket, prefix string) string {
	q := url.Values{}
	q.Set("s3-server-name", s.Endpoint)
	q.Set("use-ssl", strconv.FormatBool(s.srv.TLS != nil))
	q.Set("aws-access-key-id", AccessKey)
	q.Set("aws-secret-access-key", SecretKey)
	u := url.URL{Scheme: "s3", Host: bucket, Path: "/" + strings.Trim(prefix, "/"), RawQuery: q.Encode()}
	return u.String()
}

// CreateBucket creates a bucket directly, for test setup.
func (s *Server) CreateBucket(name string) error {
	req := httptest.NewRequest(http.MethodPut, "/"+name, nil)
	rec := httptest.NewRecorder()
	s.fake.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("create bucket %s: %d %s", name, rec.Code, rec.Body.String())
	}
	return nil
}

// HTTPClient returns a client that sends every request, whatever its host,
// to this server (over HTTPS, trusting its certificate, for NewTLSServer;
// else over plain HTTP). With it a Destination configured for AWS
// (s3.eu-west-1.amazonaws.com, virtual-hosted buckets) talks to the fake,
// and Request.Host shows where it meant to go.
func (s *Server) HTTPClient() *http.Client {
	dialer := &net.Dialer{}
	t := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.Addr)
		},
	}
	if s.srv.TLS != nil {
		t.TLSClientConfig = s.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		t.TLSClientConfig.ServerName = "127.0.0.1"
	}
	return &http.Client{Transport: t}
}

// SigningRegion returns the region a SigV4 Authorization header signs for.
func SigningRegion(h http.Header) string {
	m := credScope.FindStringSubmatch(h.Get("Authorization"))
	if m == nil {
		return ""
	}
	return m[1]
}

var credScope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/s3/aws4_request`)

// WriteError answers with an S3 XML error (HEAD answers carry no body, as
// on S3).
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>s3test</RequestId></Error>`,
		code, xmlEscape(msg))
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// virtualHost matches AWS virtual-hosted-style hosts: the bucket comes before
// ".s3." or ".s3-".
var virtualHost = regexp.MustCompile(`^(.+)\.s3[.-].*amazonaws\.com(\.cn)?(:[0-9]+)?$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if m := virtualHost.FindStringSubmatch(r.Host); m != nil {
		r.URL.Path = "/" + m[1] + r.URL.Path
		r.URL.RawPath = ""
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	s.ServeFake(w, r)
}

// ServeFake passes the request to gofakes3 (hooks call it to alter a real
// answer) and mends what it gets wrong
// about storage classes: it lists every object as STANDARD and keeps an old
// class on overwrite or copy, where AWS reports the class of the last write.
func (s *Server) ServeFake(w http.ResponseWriter, r *http.Request) {
	if skewed(w, r) {
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	w = blankMetadata(w)
	if s.serveLifecycle(w, r, bucket, key) {
		return
	}
	if s.checkRequest(w, r, bucket, key) || (r.Method == http.MethodPut || r.Method == http.MethodPost) && checksumForm(w, r) {
		return
	}
	if r.Method == http.MethodPut && key != "" && r.Header.Get("X-Amz-Copy-Source") == "" {
		if !verifyBody(w, r) {
			return
		}
		w = echoChecksums(w, r)
	}
	if r.Method == http.MethodPost && !verifyPost(w, r) {
		return
	}
	key, done := s.serveVersions(w, r, bucket, key) // an old version's books are under a key of its own
	if done {
		return
	}
	w, r, ok := s.serveEncryption(w, r, bucket, key)
	if !ok {
		return
	}
	if s.serveArchive(w, r, bucket, key) {
		return
	}
	s.serveClasses(w, r, bucket, key)
}

func (s *Server) serveClasses(w http.ResponseWriter, r *http.Request, bucket, key string) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && key != "" && r.Header.Get("X-Amz-Copy-Source") != "":
		s.serveCopy(w, r, bucket, key)
	case r.Method == http.MethodPut && key != "" && q.Has("partNumber"):
		s.uploadPart(w, r)
	case r.Method == http.MethodPut && key != "":
		rec := httptest.NewRecorder()
		s.fake.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			s.setClass(bucket, key, r.Header.Get("X-Amz-Storage-Class"))
			if !hasChecksum(r.Header) {
				// gofakes3 merges the old object's metadata into the new
				// one, checksum headers included: S3 keeps none.
				s.mu.Lock()
				s.sums[bucket+"/"+key] = &objectSums{etag: rec.Header().Get("ETag")}
				s.mu.Unlock()
			}
		}
		copyResponse(w, rec)
	case r.Method == http.MethodPut && key == "" && len(q) == 0:
		// CreateBucket. gofakes3 answers BucketAlreadyExists for a bucket
		// of its own; S3 answers its owner BucketAlreadyOwnedByYou (all
		// of the fake's buckets are the caller's).
		rec := httptest.NewRecorder()
		s.fake.ServeHTTP(rec, r)
		if rec.Code == http.StatusConflict && bytes.Contains(rec.Body.Bytes(), []byte("BucketAlreadyExists")) {
			WriteError(w, r, http.StatusConflict, "BucketAlreadyOwnedByYou",
				"Your previous request to create the named bucket succeeded and you already own it.")
			return
		}
		copyResponse(w, rec)
	case r.Method == http.MethodPost && key != "" && q.Has("uploadId"):
		s.completeUpload(w, r, bucket, key)
	case r.Method == http.MethodPost && key != "" && q.Has("uploads"):
		s.createUpload(w, r, bucket, key)
	case r.Method == http.MethodDelete && key != "" && q.Has("uploadId"):
		s.mu.Lock()
		delete(s.uploads, q.Get("uploadId"))
		s.mu.Unlock()
		s.fake.ServeHTTP(w, r)
	case r.Method == http.MethodHead && key != "" && q.Has("partNumber"):
		s.headPart(w, r, bucket, key)
	case r.Method == http.MethodHead && key != "":
		rec := httptest.NewRecorder()
		s.serveObjectHeaders(rec, r, bucket, key)
		if rec.Code == http.StatusOK {
			if c := s.Class(bucket, key); c != "STANDARD" {
				rec.Header().Set("X-Amz-Storage-Class", c)
			} else {
				rec.Header().Del("X-Amz-Storage-Class")
			}
		}
		copyResponse(w, rec)
	case r.Method == http.MethodGet && key == "" && q.Has("uploads"):
		s.listUploads(w, r, bucket)
	case r.Method == http.MethodGet && key == "" && !q.Has("location"):
		wantRestore := strings.Contains(r.Header.Get("X-Amz-Optional-Object-Attributes"), "RestoreStatus")
		if wantRestore && s.RejectRestoreStatus {
			WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Invalid attribute name specified.")
			return
		}
		rec := httptest.NewRecorder()
		body, done := []byte(nil), false
		if isListing(q) {
			body, done = s.listObjects(rec, r, bucket)
		}
		if done && body == nil { // an error, answered
			copyResponse(w, rec)
			return
		}
		if !done {
			s.fake.ServeHTTP(rec, r)
			body = rec.Body.Bytes()
		} else {
			rec.Header().Set("Content-Type", "application/xml")
		}
		if rec.Code == http.StatusOK {
			body = s.fixListing(bucket, body)
			if wantRestore {
				body = s.restoreStatus(bucket, body)
			}
		}
		rec.Header().Set("Content-Length", strconv.Itoa(len(body)))
		copyHeader(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	case r.Method == http.MethodGet && key != "" && !q.Has("uploadId"):
		s.serveObjectHeaders(w, r, bucket, key)
	case r.Method == http.MethodDelete && key != "" && len(q) == 0:
		s.setClass(bucket, key, "")
		s.fake.ServeHTTP(w, r)
	default:
		s.fake.ServeHTTP(w, r)
	}
}

// Class returns the storage class AWS would report for an object.
func (s *Server) Class(bucket, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.classes[bucket+"/"+key]; c != "" {
		return c
	}
	return "STANDARD"
}

func (s *Server) setClass(bucket, key, class string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.restores, bucket+"/"+key) // a new object: no restore, no tier
	delete(s.sums, bucket+"/"+key)
	if class == "" {
		delete(s.classes, bucket+"/"+key)
		return
	}
	s.classes[bucket+"/"+key] = class
}

var (
	listEntry = regexp.MustCompile(`(?s)<Contents>.*?</Contents>`)
	listKey   = regexp.MustCompile(`<Key>(.*?)</Key>`)
	listClass = regexp.MustCompile(`<StorageClass>.*?</StorageClass>`)
)

// eachEntry rewrites each <Contents> entry of a listing with fn, which gets
// the entry's decoded key.
func eachEntry(body []byte, fn func(entry []byte, key string) []byte) []byte {
	return listEntry.ReplaceAllFunc(body, func(entry []byte) []byte {
		m := listKey.FindSubmatch(entry)
		if m == nil {
			return entry
		}
		var key string
		if err := xml.Unmarshal([]byte("<k>"+string(m[1])+"</k>"), &key); err != nil {
			return entry
		}
		return fn(entry, key)
	})
}

// fixListing writes each object's storage class, and the ETag S3 gives
// multipart objects, into a listing.
func (s *Server) fixListing(bucket string, body []byte) []byte {
	return eachEntry(body, func(entry []byte, key string) []byte {
		s.mu.Lock()
		sums := s.sums[bucket+"/"+key]
		s.mu.Unlock()
		if sums != nil {
			entry = etagTag.ReplaceAll(entry, []byte("<ETag>"+xmlEscape(sums.etag)+"</ETag>"))
		}
		class := "<StorageClass>" + xmlEscape(s.Class(bucket, key)) + "</StorageClass>"
		if listClass.Match(entry) {
			return listClass.ReplaceAll(entry, []byte(class))
		}
		return bytes.Replace(entry, []byte("</Contents>"), []byte(class+"</Contents>"), 1)
	})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	copyHeader(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = io.Copy(w, rec.Body)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// SetMinPartSize sets the smallest part, but for the last, that
// CompleteMultipartUpload takes (S3's is 5 MiB, the default): a test that
// has s3dest cut smaller parts lowers it to match, and no further. Any
// goroutine may call it.
func (s *Server) SetMinPartSize(n int64) { s.minPart.Store(n) }

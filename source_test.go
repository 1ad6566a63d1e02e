package s3dest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/s3dest/s3dest"
)

// lenLies is a reader that is not seekable and whose Len reports n, whatever
// it holds.
type lenLies struct {
	r io.Reader
	n int
}

func (l lenLies) Read(p []byte) (int, error) { return l.r.Read(p) }
func (l lenLies) Len() int                   { return l.n }

// A reader that delivers more than its Len said must fail Put: storing the
// first Len bytes and returning nil loses the rest without a word.
func TestPutRefusesReaderLongerThanItsLen(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for _, tc := range []struct {
		name      string
		size, len int
	}{
		{"single request", 200, 100},
		{"multipart", 3 << 20, 3<<20 - 1},
		{"multipart, announced within one part", 3 << 20, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
			err := d.Put(t.Context(), "vol", lenLies{bytes.NewReader(randomBytes(tc.size, 3)), tc.len})
			if err == nil {
				t.Fatalf("Put of %d bytes announced as %d = nil", tc.size, tc.len)
			}
			if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
				t.Errorf("Stat after the refused Put: %v, want ErrObjectNotFound", err)
			}
		})
	}
}

// Nil readers and writers, typed or not, are ErrInvalid, never a panic.
func TestNilReaderAndWriterAreInvalid(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "vol", "data")
	for name, r := range map[string]io.Reader{"nil": nil, "nil *bytes.Reader": (*bytes.Reader)(nil), "nil *os.File": (*os.File)(nil)} {
		if err := d.Put(t.Context(), "new", r); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("Put with a %s reader = %v, want ErrInvalid", name, err)
		}
	}
	for name, w := range map[string]io.Writer{"nil": nil, "nil *bytes.Buffer": (*bytes.Buffer)(nil)} {
		if err := d.Get(t.Context(), "vol", w); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("Get with a %s writer = %v, want ErrInvalid", name, err)
		}
		if err := d.GetRange(t.Context(), "vol", 0, 2, w); !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("GetRange with a %s writer = %v, want ErrInvalid", name, err)
		}
	}
}

// stuckReader delivers n bytes, then blocks until the test ends.
type stuckReader struct {
	n       int
	release <-chan struct{}
}

func (s *stuckReader) Read(p []byte) (int, error) {
	if s.n == 0 {
		<-s.release
		return 0, io.EOF
	}
	m := min(len(p), s.n)
	clear(p[:m])
	s.n -= m
	return m, nil
}

func stuck(t *testing.T, n int) *stuckReader {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return &stuckReader{n: n, release: release}
}

// emptyReads returns (0, nil) forever.
type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }

// Put returns when ctx ends, whatever the reader does: a Read that blocks
// inside a part, or never delivers, does not hold it. The bound is loose:
// before, these Puts never returned.
func TestPutStopsWhateverTheReaderDoes(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for _, tc := range []struct {
		name string
		r    func(t *testing.T) io.Reader
	}{
		{"blocked in the first part", func(t *testing.T) io.Reader { return stuck(t, 1000) }},
		{"blocked in a later part", func(t *testing.T) io.Reader { return stuck(t, 3<<20+1000) }},
		{"blocked at once", func(t *testing.T) io.Reader { return stuck(t, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- d.Put(ctx, "vol", tc.r(t)) }()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Put = %v, want context.DeadlineExceeded", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Put did not return after its context ended")
			}
			if left := uploadsLeft(t, d); len(left) != 0 {
				t.Errorf("uploads left behind: %v", left)
			}
		})
	}
	t.Run("no progress", func(t *testing.T) {
		d := newDest(t, withBucket(t))
		done := make(chan error, 1)
		go func() { done <- d.Put(t.Context(), "vol", emptyReads{}) }()
		select {
		case err := <-done:
			if !errors.Is(err, io.ErrNoProgress) {
				t.Errorf("Put of a reader that returns (0, nil) forever = %v, want io.ErrNoProgress", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Put spins on a reader that returns (0, nil) forever")
		}
	})
}

// A known length over what 10,000 parts of at most WithMaxPartSize hold is
// refused before any request, naming the option to raise.
func TestMaxPartSizeRefusesTooLargeObjects(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(64<<10), s3dest.WithMaxPartSize(64<<10))
	srv.ResetRequests()
	err := d.Put(t.Context(), "vol", lenLies{bytes.NewReader(nil), 10001 * 64 << 10})
	if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "WithMaxPartSize") {
		t.Errorf("Put of more than 10,000 capped parts = %v, want ErrInvalid naming WithMaxPartSize", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	if _, err := s3dest.New(t.Context(), bucket, creds, s3dest.WithPartSize(16<<20), s3dest.WithMaxPartSize(8<<20)); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("New with a max part size below the part size = %v, want ErrInvalid", err)
	}
}

// forwardSeeker seeks forward by skipping bytes, as seekers over network
// bodies or decompressors do, and refuses to seek back.
type forwardSeeker struct {
	r   io.Reader
	pos int64
}

func (f *forwardSeeker) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.pos += int64(n)
	return n, err
}

func (f *forwardSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		n, _ := io.Copy(io.Discard, f.r)
		f.pos += n
		return f.pos + off, nil
	}
	if off < f.pos {
		return f.pos, errors.New("cannot seek backwards")
	}
	n, _ := io.CopyN(io.Discard, f.r, off-f.pos)
	f.pos += n
	return f.pos, nil
}

// A seeker that cannot seek back after finding its length has lost its
// data: Put fails, where it stored an empty object and returned nil.
func TestPutForwardOnlySeeker(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	err := d.Put(t.Context(), "vol", &forwardSeeker{r: strings.NewReader("important backup data")})
	if !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("Put of a forward-only seeker = %v, want ErrInvalid", err)
	}
	if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat after the refused Put = %v, want ErrObjectNotFound", err)
	}
}

// A reader that goes on past its announced length is stopped there, not
// after 10,000 parts.
func TestPutStopsAtTheAnnouncedLength(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
	srv.ResetRequests()
	done := make(chan error, 1)
	go func() { done <- d.Put(t.Context(), "vol", lenLies{endless{}, 3<<20 + 1}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("Put of a reader longer than its Len = %v, want an error saying so", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Put read on past the announced length")
	}
	parts := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut && r.Query.Has("partNumber") {
			parts++
		}
	}
	if parts > 4 {
		t.Errorf("%d parts sent for 3 MiB + 1 announced, want at most 4", parts)
	}
	if left := uploadsLeft(t, d); len(left) != 0 {
		t.Errorf("uploads left: %v", left)
	}
}

// Cleaning up after a cancelled Put (aborting its upload) must not hold the
// call when the server stalls: the abort goes on in the background.
func TestPutReturnsPromptlyWhenCleanupStalls(t *testing.T) {
	srv := withBucket(t)
	var stalled atomic.Bool
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploads") || !stalled.Load() {
			return false
		}
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return true
	})
	d := newDest(t, srv, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20),
		s3dest.WithTimeouts(s3dest.Timeouts{Short: 5 * time.Second}), s3dest.WithRetryMaxAttempts(1))
	stalled.Store(true)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := d.Put(ctx, "vol", noise(4, 3<<20))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Put returned %v after its start, with a 300 ms deadline: the stalled abort held it", took.Round(time.Millisecond))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put = %v, want context.DeadlineExceeded", err)
	}
	stalled.Store(false)
	s3dest.WaitCleanupsForTest(d)
}

// panicReader panics on its first Read.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("reader on fire") }

// panicFile is a file of 1000 bytes whose ReadAt panics.
type panicFile struct{ stuckFile }

func (*panicFile) ReadAt([]byte, int64) (int, error) { panic("reader on fire") }

// A reader that panics does so on the caller's goroutine, where the caller
// can recover it, not on one of s3dest's, where it would end the program:
// a stream, and a file, whose Put runs on a goroutine of its own.
func TestPutReaderPanicReachesTheCaller(t *testing.T) {
	d := newDest(t, withBucket(t))
	for _, r := range []io.Reader{panicReader{}, &panicFile{stuckFile{size: 1000}}} {
		func() {
			defer func() {
				if p := recover(); p != "reader on fire" {
					t.Errorf("%T: recovered %v, want the reader's panic", r, p)
				}
			}()
			_ = d.Put(t.Context(), "vol", r)
			t.Errorf("%T: Put returned after its reader panicked", r)
		}()
	}
}

// panicsAfter delivers n bytes, then panics.
type panicsAfter struct{ n int }

func (p *panicsAfter) Read(b []byte) (int, error) {
	if p.n == 0 {
		panic("reader on fire")
	}
	m := min(len(b), p.n)
	clear(b[:m])
	p.n -= m
	return m, nil
}

// A reader that panics once parts are on their way still panics on the
// caller's goroutine, and its multipart upload is aborted first: the
// panic must not leave a billed upload behind.
func TestPutReaderPanicMidUploadLeavesNoUpload(t *testing.T) {
	d := newDest(t, withBucket(t), s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
	func() {
		defer func() {
			if p := recover(); p != "reader on fire" {
				t.Errorf("recovered %v, want the reader's panic", p)
			}
		}()
		_ = d.Put(t.Context(), "vol", &panicsAfter{n: 3<<20 + 1000})
		t.Error("Put returned after its reader panicked")
	}()
	if left := uploadsLeft(t, d); len(left) != 0 {
		t.Errorf("uploads left behind by a reader that panicked: %v", left)
	}
}

// A reader that fails with io.ErrUnexpectedEOF has lost the end of its
// data: a gzip stream cut short, an HTTP body whose connection closed
// before its Content-Length. Put must fail, not store what came before
// the cut as the whole object.
func TestPutReaderUnexpectedEOFIsAFailure(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for _, size := range []int{1000, 100 << 10, 3<<20 + 5} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			d := newDest(t, withBucket(t), limits, s3dest.WithPartSize(1<<20))
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			_, _ = zw.Write(randomBytes(size, 5))
			_ = zw.Close()
			zr, err := gzip.NewReader(bytes.NewReader(z.Bytes()[:z.Len()*9/10])) // cut short
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Put(t.Context(), "vol", zr); err == nil {
				fi, _ := d.Stat(t.Context(), "vol")
				t.Errorf("Put of a gzip stream cut short = nil; stored %d of its %d bytes", fi.Size, size)
			}
			if left := uploadsLeft(t, d); len(left) != 0 {
				t.Errorf("uploads left behind: %v", left)
			}
		})
	}
}

// failsOnce delivers data, its last bytes with err, then io.EOF: a reader
// whose failure is not repeated on the next Read.
type failsOnce struct {
	data   []byte
	err    error
	failed bool
}

func (f *failsOnce) Read(p []byte) (int, error) {
	if f.failed {
		return 0, io.EOF
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	if len(f.data) == 0 {
		f.failed = true
		return n, f.err
	}
	return n, nil
}

// An error a Read returns with bytes that happen to fill Put's buffer is
// still the reader's failure, not dropped for the io.EOF that follows.
func TestPutReaderErrorWithItsLastBytes(t *testing.T) {
	d := newDest(t, withBucket(t))
	for _, size := range []int{32 << 10, 16 << 20} { // the probe, a part
		errBroken := errors.New("source volume went away")
		err := d.Put(t.Context(), "vol", &failsOnce{data: randomBytes(size, 6), err: errBroken})
		if !errors.Is(err, errBroken) {
			t.Errorf("Put of %d bytes whose last Read failed = %v, want the reader's error", size, err)
		}
	}
	if left := uploadsLeft(t, d); len(left) != 0 {
		t.Errorf("uploads left behind: %v", left)
	}
}

// stuckFile is a file of size bytes whose reads block until the test ends,
// as a file on a network mount that stopped answering: it has Seek and
// ReadAt, so Put sends it from where it is, without a copy.
type stuckFile struct {
	size    int64
	pos     int64
	release <-chan struct{}
}

func (f *stuckFile) Read(p []byte) (int, error) { <-f.release; return 0, io.EOF }

func (f *stuckFile) ReadAt(p []byte, off int64) (int, error) { <-f.release; return 0, io.EOF }

func (f *stuckFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		off += f.size
	}
	f.pos = off
	return off, nil
}

// Put returns when ctx ends whatever a seekable reader does too: a ReadAt
// that blocks does not hold it, small object or large.
func TestPutStopsWhenReadAtBlocks(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for _, size := range []int64{1000, 3 << 20} { // one PutObject, parts
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			d := newDest(t, withBucket(t), limits, s3dest.WithPartSize(1<<20))
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- d.Put(ctx, "vol", &stuckFile{size: size, release: release}) }()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Put = %v, want context.DeadlineExceeded", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Put did not return after its context ended: a blocked ReadAt holds it")
			}
		})
	}
}

// stallingFile reads as zeros until reads bytes were read, then blocks
// until the test ends: a file on a network mount that stops answering
// while Put sends it.
type stallingFile struct {
	stuckFile
	mu    sync.Mutex
	reads int64
}

func (f *stallingFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	ok := f.reads < f.size
	if ok {
		f.reads += int64(len(p))
	}
	f.mu.Unlock()
	if !ok {
		<-f.release
		return 0, io.EOF
	}
	n := copy(p, make([]byte, max(f.size-off, 0)))
	if off+int64(n) >= f.size {
		return n, io.EOF
	}
	return n, nil
}

// A file whose reads block once its request is on its way does not hold
// Put past its context either.
func TestPutStopsWhenTheBodyStalls(t *testing.T) {
	t.Run("signed payload", func(t *testing.T) {
		testPutStopsWhenTheBodyStalls(t, newDest(t, withBucket(t), s3dest.WithRetryMaxAttempts(1)))
	})
	t.Run("unsigned payload", func(t *testing.T) {
		testPutStopsWhenTheBodyStalls(t, openFake(t, withBucket(t), "s3-disable-payload-signing=true&s3-ext-maxerrorretry=0"))
	})
}

func testPutStopsWhenTheBodyStalls(t *testing.T, d *s3dest.Destination) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	f := &stallingFile{stuckFile: stuckFile{size: 1 << 20, release: release}}
	go func() { done <- d.Put(ctx, "vol", f) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Put = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Put did not return after its context ended: a read of its body blocked")
	}
}

// secondPassFails is a file of size bytes, all zero, whose reads fail
// with err from its second pass on: Put's hash pass reads it, the send
// fails.
type secondPassFails struct {
	stuckFile
	passes atomic.Int32
	err    error
}

func (f *secondPassFails) ReadAt(p []byte, off int64) (int, error) {
	if off == 0 {
		f.passes.Add(1)
	}
	if f.passes.Load() > 1 {
		return 0, f.err
	}
	n := copy(p, make([]byte, max(f.size-off, 0)))
	if off+int64(n) >= f.size {
		return n, io.EOF
	}
	return n, nil
}

// failsAfter delivers n zero bytes, then fails with err.
type failsAfter struct {
	n   int
	err error
}

func (r *failsAfter) Read(b []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	m := min(len(b), r.n)
	clear(b[:m])
	r.n -= m
	return m, nil
}

// The caller's reader failing is no answer of the server: an error of its
// own that reads as a wrong region (a reader of another bucket's object)
// must neither be reported as ErrWrongRegion nor move the Destination to
// that region.
func TestPutReaderErrorIsNotTheServers(t *testing.T) {
	errRead := errors.New("the source failed")
	apiErr := fmt.Errorf("%w: %w", errRead, &smithy.GenericAPIError{Code: "AuthorizationHeaderMalformed",
		Message: "the region 'us-east-1' is wrong; expecting 'eu-west-1'"})
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"file, failing as it is sent", &secondPassFails{stuckFile: stuckFile{size: 1000}, err: apiErr}},
		{"stream, one PutObject", &failsAfter{n: 1000, err: apiErr}},
		{"stream, in parts", &failsAfter{n: 3<<20 + 1000, err: apiErr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDest(t, withBucket(t), s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
			err := d.Put(t.Context(), "vol", tc.r)
			if !errors.Is(err, errRead) {
				t.Errorf("Put = %v, want the reader's error", err)
			}
			if errors.Is(err, s3dest.ErrWrongRegion) {
				t.Errorf("Put = %v: a reader's error is ErrWrongRegion", err)
			}
			if r := d.Client().Options().Region; r != "us-east-1" {
				t.Errorf("a reader's error moved the Destination to region %s", r)
			}
		})
	}
}

// memFile is a caller's in-memory ReaderAt + Seeker that is neither a
// *bytes.Reader nor a *strings.Reader; its first ReadAt calls onFirst.
type memFile struct {
	*bytes.Reader
	once    sync.Once
	onFirst func()
	after   atomic.Int32 // ReadAt calls begun once ret is set
	ret     *atomic.Bool
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if m.ret.Load() {
		m.after.Add(1) // begun after Put returned
	}
	m.once.Do(m.onFirst)
	return m.Reader.ReadAt(p, off)
}

// Once Put returned, it reads the caller's reader no more: ctx ending
// during the hash pass of a reader it sends from where it is (run aside,
// as a file's reads may block) leaves at most the Read under way, not the
// rest of the pass, nor the passes after it.
func TestPutReadsNothingAfterItReturned(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	var returned atomic.Bool
	f := &memFile{Reader: bytes.NewReader(make([]byte, 4<<20)), ret: &returned}
	f.onFirst = func() {
		cancel()
		time.Sleep(200 * time.Millisecond) // Put returns meanwhile
	}
	err := d.Put(ctx, "vol", f)
	returned.Store(true)
	time.Sleep(500 * time.Millisecond)
	if err == nil {
		t.Fatal("Put with ctx cancelled: nil")
	}
	if n := f.after.Load(); n > 0 {
		t.Errorf("Put returned (%v), then read the caller's reader %d more times", err, n)
	}
}

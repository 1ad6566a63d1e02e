package s3dest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// slowHash is an MD5 that takes a while over every write and counts the
// writes under way at once.
type slowHash struct {
	hash.Hash
	active, most *atomic.Int32
}

func (h *slowHash) Write(p []byte) (int, error) {
	n := h.active.Add(1)
	for m := h.most.Load(); n > m && !h.most.CompareAndSwap(m, n); m = h.most.Load() {
	}
	time.Sleep(time.Millisecond)
	h.active.Add(-1)
	return h.Hash.Write(p)
}

// partsVerifierForTest is a verifier of the MD5 of the part MD5s of parts
// of the given sizes, whose hash counts the writes under way at once, and
// the digest it must find in data.
func partsVerifierForTest(data []byte, sizes []int64) (v *verifier, want string, most *atomic.Int32) {
	var active atomic.Int32
	most = new(atomic.Int32)
	newH := func() hash.Hash { return &slowHash{Hash: md5.New(), active: &active, most: most} }
	v = &verifier{what: "test", newH: newH, h: newH(), encode: hex.EncodeToString, sizes: sizes, left: sizes[0], trusted: true}
	var sums []byte
	for _, n := range sizes {
		s := md5.Sum(data[:n])
		sums, data = append(sums, s[:]...), data[n:]
	}
	outer := md5.Sum(sums)
	return v, hex.EncodeToString(outer[:]) + "-" + strconv.Itoa(len(sizes)), most
}

// The parts of a multipart ETag are hashed on several goroutines at once,
// at most hashWorkers, and their digests are put together in part order;
// w gets every byte in order.
func TestPartsHashInParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	data := make([]byte, 5<<20+300<<10+7)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	v, want, most := partsVerifierForTest(data, []int64{1 << 20, 1 << 20, 1<<20 + 5, 1 << 20, 1 << 20, 300<<10 + 2})
	var w bytes.Buffer
	n, err := copyBody(&w, bytes.NewReader(data), v, &idleTimer{}, nil)
	if err != nil || n != int64(len(data)) || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("copyBody = %d, %v; w differs: %v", n, err, !bytes.Equal(w.Bytes(), data))
	}
	if got := v.got(); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
	if m := most.Load(); m < 2 || m > int32(hashWorkers()) {
		t.Errorf("at most %d parts hashed at once, want 2 to %d", m, hashWorkers())
	}
}

// A damaged byte changes the digest whatever part it falls in; a body cut
// short in a part leaves that part out; a writer that panics or fails and
// a body that breaks off leave no hashing goroutine behind.
func TestPartsHashEnds(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	data := make([]byte, 3<<20+11)
	for i := range data {
		data[i] = byte(i*13 + i>>10)
	}
	sizes := []int64{1 << 20, 1 << 20, 1 << 20, 11}
	before := runtime.NumGoroutine()
	for _, at := range []int{5, 1 << 20, 2<<20 + 99, len(data) - 1} {
		bad := bytes.Clone(data)
		bad[at] ^= 1
		v, want, _ := partsVerifierForTest(data, sizes)
		if _, err := copyBody(io.Discard, bytes.NewReader(bad), v, &idleTimer{}, nil); err != nil {
			t.Fatal(err)
		}
		if v.got() == want {
			t.Errorf("byte %d damaged: the digest is the intact object's", at)
		}
	}
	v, want, _ := partsVerifierForTest(data, sizes)
	if _, err := copyBody(io.Discard, bytes.NewReader(data[:2<<20+5]), v, &idleTimer{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := v.got(); got == want || len(v.sums) != 2*md5.Size {
		t.Errorf("cut short in part 3: %d part digests, %s", len(v.sums)/md5.Size, got)
	}
	v, _, _ = partsVerifierForTest(data, sizes)
	broken := io.MultiReader(bytes.NewReader(data[:1<<20+7]), errReader{})
	if _, err := copyBody(io.Discard, broken, v, &idleTimer{}, nil); !errors.Is(err, errBroken) {
		t.Errorf("copyBody of a broken body = %v", err)
	}
	v, _, _ = partsVerifierForTest(data, sizes)
	if _, err := copyBody(failWriter{}, bytes.NewReader(data), v, &idleTimer{}, nil); !errors.Is(err, errBroken) {
		t.Errorf("copyBody to a failing writer = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the writer's panic was lost")
			}
		}()
		v, _, _ = partsVerifierForTest(data, sizes)
		_, _ = copyBody(&panicAfter{n: 6}, bytes.NewReader(data), v, &idleTimer{}, nil)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting, not asserting
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left, %d before", n, before)
	}
}

var errBroken = errors.New("broken")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errBroken }

// panicAfter panics on its nth write.
type panicAfter struct{ n int }

func (w *panicAfter) Write(p []byte) (int, error) {
	if w.n--; w.n == 0 {
		panic("writer full")
	}
	return len(p), nil
}

// The buffers in flight are half a part a worker, 8 MiB at most, and
// never fewer than two a worker.
func TestPartBufs(t *testing.T) {
	for _, tc := range []struct {
		largest       int64
		workers, want int
	}{
		{16 << 20, 2, 64},
		{5 << 20, 2, 20},
		{5 << 30, 4, 128},
		{64 << 10, 2, 4},
	} {
		if got := partBufs(tc.largest, tc.workers); got != tc.want {
			t.Errorf("partBufs(%d, %d) = %d, want %d", tc.largest, tc.workers, got, tc.want)
		}
	}
}

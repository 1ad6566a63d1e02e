package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dest/s3dest/internal/faults"
)

// The injector arms one faults.Fault per kind on a faults.Transport. The
// Transport asks each fault's Match in order, under its lock, for every
// request; the first Match of a request draws the request's fate once, and
// each fault's Match answers whether it is that fault. So every request
// gets at most one fault, drawn at random among the kinds that can act on
// it, and the draw sequence follows the seed.

type kind int

const (
	kReset kind = iota
	k500
	k503
	kCut
	kCorrupt
	kFlip
	kLose
	kStall
	k200 // 200 with an <Error> body, as S3 answers Complete and Copy
	nKinds
	kNone kind = -1
)

var kindNames = [nKinds]string{"Reset", "500 InternalError", "503 SlowDown", "CutBody", "Corrupt", "FlipRequest", "LoseAnswer", "Stall",
	"200 InternalError"}

// shortNames name the kinds in -except.
var shortNames = [nKinds]string{"Reset", "500", "503", "CutBody", "Corrupt", "FlipRequest", "LoseAnswer", "Stall", "200"}

// cutLengths are the CutBody variants: inside XML answers, inside small and
// large object bodies.
var cutLengths = []int{1, 300, 40 << 10, 3 << 20}

type injector struct {
	ft    *faults.Transport
	armed atomic.Bool
	rate  float64

	mu        sync.Mutex
	rng       *rand.Rand
	last      *http.Request
	choice    kind
	cut       int // CutBody variant of the current choice
	draws     int
	byKind    [nKinds]int
	byOp      map[string]*[nKinds]int
	requests  map[string]int
	stallsMax int
	stalls    int
	lastStall time.Time
	stallGap  time.Duration
	// stallCleanup lets stalls hit AbortMultipartUpload and
	// ListMultipartUploads, which s3dest sends only to clean up, on a
	// context of its own: the stall then outlasts the operation's deadline
	// and ends only at s3dest's short timeout, with the upload left (and
	// logged).
	stallCleanup bool
	except       map[string]bool // "Op:Kind" pairs never injected
}

func newInjector(ft *faults.Transport, seed uint64, rate float64, stalls int, stallGap time.Duration) *injector {
	in := &injector{ft: ft, rate: rate, rng: rand.New(rand.NewPCG(seed, 0x5eed)), byOp: map[string]*[nKinds]int{},
		requests: map[string]int{}, stallsMax: stalls, stallGap: stallGap, choice: kNone}
	add := func(f faults.Fault, k kind, cut int) {
		f.Match = func(r *http.Request) bool { return in.is(r, k, cut) }
		ft.Add(f)
	}
	add(faults.Fault{Reset: true}, kReset, 0)
	add(faults.Fault{Status: http.StatusInternalServerError, Code: "InternalError"}, k500, 0)
	add(faults.Fault{Status: http.StatusServiceUnavailable, Code: "SlowDown"}, k503, 0)
	for _, n := range cutLengths {
		add(faults.Fault{CutBody: n}, kCut, n)
	}
	add(faults.Fault{Corrupt: true}, kCorrupt, 0)
	add(faults.Fault{FlipRequest: true}, kFlip, 0)
	add(faults.Fault{LoseAnswer: true}, kLose, 0)
	add(faults.Fault{Stall: true}, kStall, 0)
	add(faults.Fault{Status: http.StatusOK, Code: "InternalError"}, k200, 0)
	return in
}

// is answers one fault's Match: the first call for a request draws.
func (in *injector) is(r *http.Request, k kind, cut int) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if r != in.last {
		in.last = r
		in.draw(r)
	}
	return in.choice == k && in.cut == cut
}

// draw picks the fate of request r (called with in.mu held).
func (in *injector) draw(r *http.Request) {
	in.draws++
	op := faults.OpName(r)
	in.requests[op]++
	in.choice, in.cut = kNone, 0
	if !in.armed.Load() || in.rng.Float64() >= in.rate {
		return
	}
	var can []kind
	for k := range nKinds {
		if applies(k, op, r) && !in.except[op+":"+shortNames[k]] {
			can = append(can, k)
		}
	}
	if in.stalls >= in.stallsMax || time.Since(in.lastStall) < in.stallGap || in.rng.IntN(20) != 0 ||
		(op == "AbortMultipartUpload" || op == "ListMultipartUploads") && !in.stallCleanup {
		can = remove(can, kStall) // a few, spread over the run
	}
	if len(can) == 0 {
		return
	}
	in.choice = can[in.rng.IntN(len(can))]
	if in.choice == kCut {
		in.cut = cutLengths[in.rng.IntN(len(cutLengths))]
	}
	if in.choice == kStall {
		in.stalls++
		in.lastStall = time.Now()
	}
	in.byKind[in.choice]++
	if in.byOp[op] == nil {
		in.byOp[op] = new([nKinds]int)
	}
	in.byOp[op][in.choice]++
	if t, ok := r.Context().Value(traceKey{}).(*trace); ok {
		t.add(op, in.choice, in.cut)
	}
}

func remove(ks []kind, k kind) []kind {
	out := ks[:0:0]
	for _, x := range ks {
		if x != k {
			out = append(out, x)
		}
	}
	return out
}

// applies says whether a fault of kind k can act on a request: a body to
// damage on the way out, an answer with a body to cut or flip.
func applies(k kind, op string, r *http.Request) bool {
	switch k {
	case k200:
		return op == "CompleteMultipartUpload" || op == "CopyObject" || op == "UploadPartCopy"
	case kFlip:
		return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	case kCut, kCorrupt:
		switch op {
		case "HeadObject", "HeadBucket", "PutObject", "UploadPart", "DeleteObject", "AbortMultipartUpload":
			return false // no answer body (or an empty one)
		}
	}
	return true
}

// trace records the faults injected into the requests of one operation
// (found through the request's context, which keeps the operation's
// values, also on the fresh contexts s3dest cleans up with).
type trace struct {
	desc   string        // the operation, set before it starts
	start  time.Time     // when its deadline started
	took   time.Duration // how long the s3dest call took
	result string        // its outcome, set when it ends
	mu     sync.Mutex
	faults []string
	kinds  [nKinds]int
	getCut bool // a GetObject answer was cut or flipped
}

type traceKey struct{}

func withTrace(ctx context.Context, t *trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

func (t *trace) add(op string, k kind, cut int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := op + ":" + kindNames[k]
	if k == kCut {
		s += fmt.Sprintf("(%d)", cut)
	}
	t.faults = append(t.faults, s)
	t.kinds[k]++
	if op == "GetObject" && (k == kCut || k == kCorrupt) {
		t.getCut = true
	}
}

// damagedGet reports whether a GetObject answer of the operation was cut
// or had a byte flipped.
func (t *trace) damagedGet() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.getCut
}

func (t *trace) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.faults) == 0 {
		return "no faults"
	}
	return "faults " + strings.Join(t.faults, ", ")
}

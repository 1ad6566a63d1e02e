package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3dest/s3dest"
)

// run is one load test: the destination under faults, the ledger and the
// figures.
type run struct {
	d         *s3dest.Destination
	l         *ledger
	g         generator
	st        *stats
	inj       *injector
	wire      *counting
	opTimeout time.Duration
	partSize  int64
	nextID    atomic.Uint64
	done      atomic.Int64
	slowest   time.Duration // guarded by st.mu
	slowestOp string
	reported  map[string]uint64 // name -> epoch List reported it at (guarded by st.mu)
	byCRC     sync.Map          // CRC32C -> *version, to name the content a stray checksum belongs to
	grace     time.Duration     // how long names stay locked after an operation ended with its context
}

// weights of the operations, per hundred.
var opWeights = []struct {
	name string
	w    int
}{
	{"Put bytes", 22}, {"Put stream", 14}, {"Get", 18}, {"GetRange", 10}, {"Stat", 10},
	{"List", 2}, {"Rename", 10}, {"Delete", 6}, {"DeleteMany", 8},
}

func (r *run) worker(seed uint64, w int, claimed *atomic.Int64, total int64) {
	rng := rand.New(rand.NewPCG(seed, uint64(w)+1))
	sk := newSink()
	for claimed.Add(1) <= total {
		x, op := rng.IntN(100), ""
		for _, o := range opWeights {
			if x -= o.w; x < 0 {
				op = o.name
				break
			}
		}
		r.one(op, rng, sk)
	}
}

// one runs one operation under its own deadline and trace, and turns a
// panic into a finding.
func (r *run) one(op string, rng *rand.Rand, sk *sink) {
	t := &trace{start: time.Now()}
	ctx := withTrace(context.Background(), t)
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			r.st.find(vPanics, "%s: %v (%v)\n%s", op, p, t, debug.Stack())
		}
		el := t.took
		r.st.mu.Lock()
		if el > r.slowest {
			r.slowest, r.slowestOp = el, fmt.Sprintf("%s = %s; %v", t.desc, t.result, t)
		}
		r.st.mu.Unlock()
		r.done.Add(1)
	}()
	name := r.l.names[rng.IntN(len(r.l.names))]
	t.desc = fmt.Sprintf("%s %q at %s", op, name, start.Format("15:04:05.000"))
	switch op {
	case "Put bytes", "Put stream":
		r.put(ctx, t, op, rng, name)
	case "Get":
		r.get(ctx, t, rng, sk, name, 0, -1, "Get")
	case "GetRange":
		r.getRange(ctx, t, rng, sk, name)
	case "Stat":
		r.stat(ctx, t, name)
	case "List":
		r.list(ctx, t)
	case "Rename":
		to := r.l.names[rng.IntN(len(r.l.names))]
		for to == name {
			to = r.l.names[rng.IntN(len(r.l.names))]
		}
		r.rename(ctx, t, name, to)
	case "Delete":
		r.delete(ctx, t, name)
	case "DeleteMany":
		names := []string{name}
		for range 1 + rng.IntN(5) {
			names = append(names, r.l.names[rng.IntN(len(r.l.names))])
		}
		r.deleteMany(ctx, t, names)
	}
}

// size draws an object size around the part size.
func (r *run) size(rng *rand.Rand) int64 {
	p := r.partSize
	switch x := rng.IntN(100); {
	case x < 12:
		return 0
	case x < 56:
		return 1 + rng.Int64N(64<<10)
	case x < 68:
		return p - 1 - rng.Int64N(4096) // just under: one PutObject
	case x < 73:
		return p // exactly one part
	case x < 85:
		return p + 1 + rng.Int64N(4096) // just over: two parts, the last tiny
	}
	return 2*p + rng.Int64N(p) // three parts
}

func (r *run) put(ctx context.Context, t *trace, op string, rng *rand.Rand, name string) {
	size, id := r.size(rng), r.nextID.Add(1)
	var body io.Reader
	how := "bytes"
	if op == "Put stream" {
		how = "stream"
		body = newStream(r.g, id, size, rand.New(rand.NewPCG(rng.Uint64(), id)))
	} else {
		body = bytes.NewReader(r.g.bytes(id, size))
	}
	v := r.g.newVersion(id, size, how)
	r.byCRC.Store(v.crc, v)
	defer r.l.acquire(name)()
	ctx, cancel := r.begin(ctx, t)
	defer cancel()
	err := r.d.Put(ctx, name, body)
	r.st.op(op, err)
	defer r.holdAfter(err)
	defer func() { r.record(fmt.Sprintf("%s(%q, %v)", op, name, v), err, t, name) }()
	if err == nil {
		r.l.set(name, "put", v)
		r.st.addBytes(size, 0)
		return
	}
	// It may have stored v, kept the old object, or deleted a corrupt upload.
	r.l.widen(name, "failed put", v, nil)
}

// get reads [off, off+length) of name (0, -1: Get, or GetRange of the whole)
// and checks what a nil answer delivered against the ledger.
func (r *run) get(ctx context.Context, t *trace, _ *rand.Rand, sk *sink, name string, off, length int64, op string) {
	defer r.l.acquire(name)()
	ctx, cancel := r.begin(ctx, t)
	defer cancel()
	cands := r.l.get(name)
	sk.reset()
	var err error
	if op == "Get" {
		err = r.d.Get(ctx, name, sk)
	} else {
		err = r.d.GetRange(ctx, name, off, length, sk)
	}
	r.st.op(op, err)
	defer r.holdAfter(err)
	defer func() {
		r.record(fmt.Sprintf("%s(%q, %d, %d) got %d B", op, name, off, length, sk.buf.Len()), err, t, name)
	}()
	whole := off == 0 && length == -1
	switch {
	case err == nil:
		n := int64(sk.buf.Len())
		var matched []*version
		for _, v := range present(cands) {
			ok := whole && sk.matches(v) ||
				!whole && sk.matchesRange(r.g, v, off) && (length == -1 && off+n == v.size || n == length)
			if ok {
				matched = append(matched, v)
			}
		}
		r.st.addBytes(0, n)
		if len(matched) > 0 {
			if len(matched) < len(cands) {
				r.l.set(name, "read", matched...)
			}
			return
		}
		detail := fmt.Sprintf("%s(%q, %d, %d) returned nil: %s; the ledger holds %s (%s); %v",
			op, name, off, length, sk.diff(r.g, first(cands), off), describe(cands), r.l.how(name), t)
		switch {
		case len(present(cands)) == 0:
			r.findn(name, vContradict, "%s", detail)
		case !whole && t.damagedGet():
			r.findn(name, vRangeInfo, "%s", detail)
		default:
			r.findn(name, vWrongNil, "%s", detail)
		}
	case errors.Is(err, s3dest.ErrObjectNotFound):
		r.notFound(op, name, cands, t)
	case errors.Is(err, s3dest.ErrInvalid) && !whole:
		// The object exists and the range runs past its end.
		var fit []*version
		for _, v := range present(cands) {
			if length == -1 && off >= v.size || length != -1 && off+length > v.size {
				fit = append(fit, v)
			}
		}
		if len(fit) == 0 {
			r.findn(name, vContradict, "%s(%q, %d, %d) = ErrInvalid, but every candidate of %s holds the range; %v: %v",
				op, name, off, length, describe(cands), t, err)
		} else if len(fit) < len(cands) {
			r.l.set(name, "read", fit...)
		}
	}
}

func first(vs []*version) *version {
	if p := present(vs); len(p) > 0 {
		return p[0]
	}
	return nil
}

// notFound applies "not found" to the ledger: the object is absent.
func (r *run) notFound(op, name string, cands []*version, t *trace) {
	if !hasAbsent(cands) {
		r.findn(name, vContradict, "%s(%q): not found, but the ledger holds %s (%s); %v", op, name, describe(cands), r.l.how(name), t)
		return
	}
	if len(cands) > 1 {
		r.l.set(name, "read", nil)
	}
}

func (r *run) getRange(ctx context.Context, t *trace, rng *rand.Rand, sk *sink, name string) {
	size := int64(1000)
	if p := present(r.l.get(name)); len(p) > 0 {
		size = p[rng.IntN(len(p))].size
	}
	var off, length int64
	switch x := rng.IntN(10); {
	case x == 0 || size == 0:
		off, length = 0, -1
	case x == 1:
		off, length = rng.Int64N(size), -1
	case x == 2:
		off, length = size+rng.Int64N(3), 1+rng.Int64N(100) // past the end: ErrInvalid
	default:
		off = rng.Int64N(size)
		length = 1 + rng.Int64N(min(size-off, 2<<20))
	}
	r.get(ctx, t, rng, sk, name, off, length, "GetRange")
}

func (r *run) stat(ctx context.Context, t *trace, name string) {
	defer r.l.acquire(name)()
	ctx, cancel := r.begin(ctx, t)
	defer cancel()
	cands := r.l.get(name)
	fi, err := r.d.Stat(ctx, name)
	r.st.op("Stat", err)
	defer r.holdAfter(err)
	defer func() { r.record(fmt.Sprintf("Stat(%q) = %d B %s", name, fi.Size, fi.Checksum), err, t, name) }()
	switch {
	case err == nil:
		var matched []*version
		for _, v := range present(cands) {
			if fi.Size == v.size && (fi.Checksum == "" || fi.Checksum == "CRC32C:"+v.crc) {
				matched = append(matched, v)
			}
		}
		if len(matched) == 0 && anySize(cands, fi.Size) && r.knownSum(fi.Checksum) != nil {
			r.findn(name, vFakeSum, "Stat(%q) = %d bytes, %s, the checksum of %v; the ledger holds %s (%s); %v",
				name, fi.Size, fi.Checksum, r.knownSum(fi.Checksum), describe(cands), r.l.how(name), t)
			return
		}
		if len(matched) == 0 {
			r.findn(name, vContradict, "Stat(%q) = %d bytes, %s; the ledger holds %s (%s); %v",
				name, fi.Size, fi.Checksum, describe(cands), r.l.how(name), t)
			return
		}
		if len(matched) < len(cands) {
			r.l.set(name, "stat", matched...)
		}
	case errors.Is(err, s3dest.ErrObjectNotFound):
		r.notFound("Stat", name, cands, t)
	}
}

// begin starts an operation's deadline, once it holds its names.
func (r *run) begin(ctx context.Context, t *trace) (context.Context, context.CancelFunc) {
	t.start = time.Now()
	return context.WithTimeout(ctx, r.opTimeout)
}

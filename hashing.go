package s3dest

import (
	"runtime"
	"slices"
	"sync"
)

// hashing is a verifier fed by a goroutine of its own; hashDepth buffers
// circulate between the reader and it.
type hashing struct {
	v      *verifier
	free   chan *[]byte
	chunks chan hashChunk
	done   chan struct{}
}

// hashChunk is a chunk handed to a hashing goroutine, and the pooled
// buffer that holds it, which goes back once the chunk is hashed.
type hashChunk struct {
	bp    *[]byte
	chunk []byte
}

// hashDepth is how many buffers circulate between the reader and the
// hashing goroutine.
const hashDepth = 4

// startHashing starts the goroutine that feeds v.
func startHashing(v *verifier) *hashing {
	h := &hashing{v: v, free: make(chan *[]byte, hashDepth), chunks: make(chan hashChunk, hashDepth), done: make(chan struct{})}
	for range hashDepth {
		h.free <- copyBufs.Get().(*[]byte)
	}
	go func() {
		defer close(h.done)
		for c := range h.chunks {
			_, _ = h.v.Write(c.chunk)
			h.free <- c.bp
		}
	}()
	return h
}

// buffer waits for a buffer the hash is done with.
func (h *hashing) buffer() (*[]byte, []byte) {
	bp := <-h.free
	return bp, *bp
}

// hash hands a chunk to the hashing goroutine, or its buffer back when it
// holds nothing to hash.
func (h *hashing) hash(bp *[]byte, chunk []byte) {
	if len(chunk) == 0 {
		h.free <- bp
		return
	}
	h.chunks <- hashChunk{bp, chunk}
}

// stop waits until every chunk handed over is hashed and returns the
// buffers that came back; one the reader held when the caller's writer
// panicked is left to the collector (waiting for it would hang).
func (h *hashing) stop() {
	close(h.chunks)
	<-h.done
	poolAll(h.free)
}

// hashWorkers is how many parts of a multipart digest are hashed at once:
// one a core, up to 4 (MD5 runs at about 0.7 GB/s a core, 4 of them are
// past what most links carry).
func hashWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// maxPartBufs is the most buffers (of copyBufSize) each worker of
// partHashing may add to those in flight: 8 MiB.
const maxPartBufs = 32

// partBufs is how many buffers partHashing may have in flight for parts
// of at most largest bytes: half a part a worker, which lets the parts
// hash in parallel at full speed once the transfer outruns them (each
// part then still hashes while the next arrives), and at most maxPartBufs
// a worker.
func partBufs(largest int64, workers int) int {
	return workers * int(max(2, min(largest/2/copyBufSize, maxPartBufs)))
}

// partHashing feeds a multipart verifier on up to hashWorkers goroutines,
// a goroutine a part: the reader hands each part's chunks, in order, to
// its part's goroutine and moves on to the next part while the earlier
// ones still hash. A chunk never spans two parts (buffer reads no further
// than the current part's end). The digests are put together in part
// order once all are done (stop).
//
// Its memory is the buffers in flight, taken from the pool only as the
// hashing lags behind the transfer, and no more than partBufs, however
// large the parts: past that the reader waits for one. Where the transfer
// outruns MD5, a part overlaps the next for as many bytes as those buffers
// hold, so the larger a share of a part they are, the more the parts hash
// in parallel (docs/BENCHMARKS.md).
type partHashing struct {
	v     *verifier
	free  chan *[]byte   // the buffers no part's goroutine holds
	made  int            // buffers taken from the pool, at most cap(free)
	slots chan struct{}  // a token for each part's goroutine running
	part  int            // the part being read; len(v.sizes) past the last
	left  int64          // the bytes of it still to read
	cur   chan hashChunk // its goroutine's chunks; nil before its first
	sums  [][]byte       // each part's digest, set by its goroutine
	wg    sync.WaitGroup // the parts' goroutines
}

// startPartHashing sets up the hashing of v's parts; their goroutines
// start as the reader reaches them.
func startPartHashing(v *verifier) *partHashing {
	workers := hashWorkers()
	return &partHashing{v: v, free: make(chan *[]byte, partBufs(slices.Max(v.sizes), workers)), slots: make(chan struct{}, workers),
		left: v.sizes[0], sums: make([][]byte, len(v.sizes))}
}

// buffer returns a buffer a part's goroutine is done with, one more from
// the pool while fewer than cap(free) are in flight, or else waits for
// one; and the part of it to read into: no further than the current part.
func (h *partHashing) buffer() (*[]byte, []byte) {
	var bp *[]byte
	select {
	case bp = <-h.free:
	default:
		if h.made < cap(h.free) {
			h.made++
			bp = copyBufs.Get().(*[]byte)
		} else {
			bp = <-h.free
		}
	}
	if h.part < len(h.v.sizes) && h.left < int64(len(*bp)) {
		return bp, (*bp)[:h.left]
	}
	return bp, *bp
}

// hash hands a chunk to its part's goroutine, started with the part's
// first chunk once fewer than hashWorkers run, or its buffer back when
// there is nothing to hash: no bytes, or bytes past the parts (the length
// check reports those).
func (h *partHashing) hash(bp *[]byte, chunk []byte) {
	if len(chunk) == 0 || h.part >= len(h.v.sizes) {
		h.free <- bp
		return
	}
	if h.cur == nil {
		// Waits for a running goroutine to end: all had their last chunk.
		h.slots <- struct{}{}
		h.cur = make(chan hashChunk, cap(h.free))
		h.wg.Add(1)
		go h.hashPart(h.part, h.cur)
	}
	h.cur <- hashChunk{bp, chunk}
	if h.left -= int64(len(chunk)); h.left == 0 {
		close(h.cur)
		h.cur = nil
		if h.part++; h.part < len(h.v.sizes) {
			h.left = h.v.sizes[h.part]
		}
	}
}

// hashPart is the goroutine of part i: it hashes the chunks as they come
// and gives their buffers back.
func (h *partHashing) hashPart(i int, chunks <-chan hashChunk) {
	defer h.wg.Done()
	defer func() { <-h.slots }()
	d := h.v.newH()
	for c := range chunks {
		_, _ = d.Write(c.chunk)
		h.free <- c.bp
	}
	h.sums[i] = d.Sum(nil)
}

// stop waits until every chunk handed over is hashed, gives v the digests
// of the parts read to their end, in part order, and returns the buffers
// that came back; one the reader held when the caller's writer panicked
// is left to the collector (waiting for it would hang). A part cut short
// has no digest, as v.Write leaves it.
func (h *partHashing) stop() {
	if h.cur != nil {
		close(h.cur)
	}
	h.wg.Wait()
	h.v.sums = h.v.sums[:0]
	for _, s := range h.sums[:h.part] {
		h.v.sums = append(h.v.sums, s...)
	}
	h.v.part = h.part
	poolAll(h.free)
}

// poolAll puts the buffers waiting in free back in the pool.
func poolAll(free chan *[]byte) {
	for {
		select {
		case bp := <-free:
			copyBufs.Put(bp)
		default:
			return
		}
	}
}

package s3dest

import (
	"cmp"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3's multipart limits (REFERENCE §4) and s3dest's defaults, measured in
// docs/BENCHMARKS.md.
const (
	maxPartSize        = 5 << 30
	maxParts           = 10000
	maxObjectSize      = 5 << 40
	defaultPartSize    = 16 << 20
	defaultConcurrency = 4
	maxConcurrency     = 64
	// partsPerSize is how many parts of one size an upload of unknown
	// length sends before doubling it: from the 5 MiB minimum, 11 sizes of
	// 900 parts reach 5 TiB by part 9,900.
	partsPerSize = 900
)

// sizeLimits are S3's sizes that tests lower (WithLimitsForTest in
// export_test.go) to reach the large-object paths with little data.
type sizeLimits struct {
	minPart  int64 // the smallest part S3 takes, but for the last
	maxCopy  int64 // the largest object CopyObject takes
	copyPart int64 // the smallest part of a multipart copy
}

// validateTransfer applies S3's size limits where no test lowered them and
// checks the transfer options; New calls it.
func validateTransfer(c *config) error {
	limits := &c.limits
	limits.minPart = cmp.Or(limits.minPart, 5<<20)
	limits.maxCopy = cmp.Or(limits.maxCopy, maxSinglePut)
	limits.copyPart = cmp.Or(limits.copyPart, 512<<20)
	if c.partSize != 0 && (c.partSize < limits.minPart || c.partSize > maxPartSize) {
		return fmt.Errorf("part size %d is outside S3's limits: give %d (5 MiB) to %d (5 GiB)", c.partSize, limits.minPart, int64(maxPartSize))
	}
	if c.concurrency < 0 || c.concurrency > maxConcurrency {
		return fmt.Errorf("concurrency %d: give 1 to %d", c.concurrency, maxConcurrency)
	}
	return nil
}

func (d *Destination) partSize() int64 {
	if d.cfg.partSize > 0 {
		return d.cfg.partSize
	}
	return defaultPartSize
}

func (d *Destination) concurrency() int {
	if d.cfg.concurrency > 0 {
		return d.cfg.concurrency
	}
	return defaultConcurrency
}

// cleanupTimeout bounds the requests that clean up after a failure, which
// run on a fresh context since the caller's may be cancelled.
func (d *Destination) cleanupTimeout() time.Duration {
	if d.cfg.timeouts.Short > 0 {
		return d.cfg.timeouts.Short
	}
	return 30 * time.Second
}

// partSizeAt returns the size of part n (from 1) of an upload that starts
// with parts of base bytes: base, doubled after every partsPerSize parts,
// at most 5 GiB.
func partSizeAt(base int64, n int) int64 {
	size := base
	for i := (n - 1) / partsPerSize; i > 0 && size < maxPartSize; i-- {
		size *= 2
	}
	return min(size, maxPartSize)
}

// upload is one streaming multipart upload.
type upload struct {
	d        *Destination
	key      string
	class    types.StorageClass // WithStorageClass, or WithStorageClassFunc of name and size
	lock     bool               // lock it as WithLockOnUpload says
	id       string
	base     int64   // first part size
	fixed    bool    // the length is known: all parts are base bytes
	sums     sumMode // what the server took at create
	addMD5   atomic.Bool
	idle     *idleTimer
	progress *reporter
	src      *source // what Put reads; nil for a copy

	ctx    context.Context // ends at the first failure
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	slots  chan struct{} // one per part in flight
	free   chan []byte   // buffers not in use
	nbuf   int           // buffers allocated (touched only by the reading goroutine)

	mu    sync.Mutex
	parts []types.CompletedPart
	crcs  []uint32
	sizes []int64
	err   error
}

// putStream uploads what src reads: in one PutObject when it ends within the
// first part, else in parts. size is the length r announced, -1 if none.
func (d *Destination) putStream(ctx context.Context, p *putReq, src *source, size int64) error {
	conc, key := d.concurrency(), p.key
	u := &upload{d: d, key: key, class: p.class, lock: p.lock, base: d.partSize(), idle: p.idle, progress: d.reporter(p.name, size),
		src: src, slots: make(chan struct{}, conc), free: make(chan []byte, conc+1)}
	if size >= 0 {
		// Fixed parts, large enough for 10,000 to hold the whole object.
		const mib = 1 << 20
		u.base = max(u.base, (size+maxParts*mib-1)/(maxParts*mib)*mib)
		u.fixed = true
	}
	buf := u.buffer(1)
	if size >= 0 && size < int64(len(buf)) {
		buf = buf[:size]
	}
	n, err := src.fill(ctx, buf)
	if ctx.Err() != nil {
		return d.wrap("put", key, context.Cause(ctx))
	}
	if err == nil && int64(n) == size {
		// All the bytes r announced: it must end here.
		var one [1]byte
		switch m, err2 := src.fill(ctx, one[:]); {
		case m > 0:
			err = fmt.Errorf("the reader delivers more than the %d bytes it announced (Len, Size or Seek)", size)
		case err2 == io.EOF:
			err = io.EOF
		case ctx.Err() != nil:
			return d.wrap("put", key, context.Cause(ctx))
		default:
			err = err2
		}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		defer u.release(buf)
		if size >= 0 && int64(n) != size {
			return d.wrap("put", key, fmt.Errorf("the reader ended after %d of the %d bytes it announced", n, size))
		}
		return d.putBytes(ctx, p, buf[:n])
	}
	defer u.release(nil) // after the parts' senders have all returned their buffers
	if err != nil {
		return d.wrap("put", key, fmt.Errorf("reading the data to upload: %w", err))
	}
	if err := u.create(ctx); err != nil {
		return err
	}
	u.ctx, u.cancel = context.WithCancelCause(ctx)
	defer u.cancel(nil)
	total := u.stream(buf, size)
	u.wg.Wait()
	if err := u.failure(ctx); err != nil {
		u.abort(ctx)
		return d.wrap("put", key, err)
	}
	if err := u.complete(ctx, total); err != nil {
		return err
	}
	u.progress.finish(total)
	return nil
}

// stream reads the source part by part, starting with first (part 1, full),
// and starts an upload of each. It returns the bytes read; a failure is in
// u.err.
func (u *upload) stream(part []byte, size int64) int64 {
	var total int64
	probe := make([]byte, 32<<10)
	last := false
	for n := 1; ; n++ {
		if n > maxParts {
			u.fail(fmt.Errorf("more than %d parts: the object is over S3's size limit", maxParts))
			return total
		}
		select {
		case u.slots <- struct{}{}:
		case <-u.ctx.Done():
			return total
		}
		if u.ctx.Err() != nil { // both were ready: select chose at random
			<-u.slots
			return total
		}
		total += int64(len(part))
		u.wg.Add(1)
		go u.send(int32(n), part)
		if last {
			break
		}
		// Probe for more data before taking a buffer, so that the end of
		// the stream costs no buffer.
		k, err := u.src.fill(u.ctx, probe)
		if u.ctx.Err() != nil {
			return total
		}
		if k == 0 && err == io.EOF {
			break
		}
		if err == nil || err == io.ErrUnexpectedEOF {
			next := u.buffer(n + 1)
			copy(next, probe[:k])
			var m int
			if err == nil {
				m, err = u.src.fill(u.ctx, next[k:])
				if u.ctx.Err() != nil {
					return total
				}
			}
			part, last = next[:k+m], err != nil
			k += m
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = nil
			}
		}
		if err != nil {
			u.fail(fmt.Errorf("reading the data to upload, after %d bytes: %w", total+int64(k), err))
			return total
		}
	}
	if size >= 0 && total != size {
		u.fail(fmt.Errorf("the reader delivered %d bytes, not the %d it announced", total, size))
	}
	return total
}

// buffer returns a buffer for part n: a free one when there is one, else a
// new one. The reading goroutine holds at most one and each part in flight
// one, so there are never more than concurrency + 1.
func (u *upload) buffer(n int) []byte {
	size := u.base
	if !u.fixed {
		size = partSizeAt(u.base, n)
	}
	select {
	case b := <-u.free:
		if int64(cap(b)) >= size {
			return b[:size]
		}
		u.nbuf-- // too small now that parts have grown: let it go
	default:
	}
	u.nbuf++
	if p, ok := u.d.parts.Get().(*[]byte); ok && int64(cap(*p)) >= size {
		return (*p)[:size]
	}
	return make([]byte, size)
}

// release gives the upload's buffers to the Destination for later uploads:
// memory once touched is cheaper to reuse than fresh memory (page faults).
func (u *upload) release(extra []byte) {
	if extra != nil && !u.src.lost.Load() { // else the abandoned Read may still write to it
		u.d.parts.Put(&extra)
	}
	for {
		select {
		case b := <-u.free:
			u.d.parts.Put(&b)
		default:
			return
		}
	}
}

// send uploads one part; it returns the buffer, then the slot.
func (u *upload) send(n int32, part []byte) {
	defer u.wg.Done()
	err := u.sendPart(n, part)
	if err != nil {
		u.fail(err) // before the slot frees, so that no further part starts
	}
	u.free <- part[:0]
	<-u.slots
}

func (u *upload) sendPart(n int32, part []byte) error {
	d := u.d
	crc := crc32.Checksum(part, crc32cTable)
	in := &s3.UploadPartInput{
		Bucket: &d.bucket, Key: &u.key, UploadId: &u.id, PartNumber: aws.Int32(n),
		ContentLength: aws.Int64(int64(len(part))),
	}
	if u.sums != sumNone {
		in.ChecksumCRC32C = aws.String(crcBase64(crc))
	}
	if u.sums == sumNone || u.addMD5.Load() {
		in.ContentMD5 = aws.String(md5Base64(part))
	}
	var out *s3.UploadPartOutput
	send := d.resendDamaged(u.key, func() error {
		u.idle.begin()
		defer u.idle.end()
		return d.do(u.ctx, "put", u.key, 0, func(ctx context.Context, c *s3.Client) error {
			in.Body = &sliceBody{data: part, it: u.idle}
			var err error
			out, err = c.UploadPart(ctx, in)
			return err
		})
	})
	err := send()
	if code, _ := errorCode(err); code == "MissingContentMD5" && in.ContentMD5 == nil {
		if !u.addMD5.Swap(true) && d.putSums.CompareAndSwap(putCRC, putCRCAndMD5) {
			d.log.Info("s3dest: the server requires Content-MD5; sending it with every part", "key", u.key)
		}
		in.ContentMD5 = aws.String(md5Base64(part))
		err = send()
	}
	if err != nil {
		return partError(n, err)
	}
	u.mu.Lock()
	for int(n) > len(u.parts) {
		u.parts = append(u.parts, types.CompletedPart{})
		u.crcs = append(u.crcs, 0)
		u.sizes = append(u.sizes, 0)
	}
	u.parts[n-1] = types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32C: in.ChecksumCRC32C}
	u.crcs[n-1], u.sizes[n-1] = crc, int64(len(part))
	u.mu.Unlock()
	u.progress.add(int64(len(part)))
	return nil
}

// partError names the part in the cause of an *Error.
func partError(n int32, err error) error {
	if e, ok := err.(*Error); ok {
		e.Err = fmt.Errorf("part %d: %w", n, e.Err)
		return e
	}
	return fmt.Errorf("part %d: %w", n, err)
}

// fail records the first failure and stops the upload.
func (u *upload) fail(err error) {
	u.mu.Lock()
	if u.err == nil {
		u.err = err
	}
	u.mu.Unlock()
	u.cancel(err)
}

// failure returns why the upload failed: the caller's context's end (or
// the idle timeout), else the first failure.
func (u *upload) failure(parent context.Context) error {
	if err := context.Cause(parent); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return u.err
	}
	return context.Cause(u.ctx)
}

// abort removes the upload and its parts, on a fresh context: the caller's
// may be the reason for the failure.
func (u *upload) abort(ctx context.Context) {
	d := u.d
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cleanupTimeout())
	defer cancel()
	_, err := d.Client().AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &d.bucket, Key: &u.key, UploadId: &u.id})
	if code, _ := errorCode(err); err != nil && code != "NoSuchUpload" {
		d.log.Warn("s3dest: could not abort a failed upload: CleanupUploads will remove it", "key", u.key, "upload", u.id, "error", err)
	}
}

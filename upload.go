package s3dest

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// upload is one streaming multipart upload: Put reads its source part by
// part and sends the parts concurrently into one mpu.
type upload struct {
	*mpu
	req      *putReq
	base     int64 // first part size
	limit    int64 // the largest part (WithMaxPartSize)
	fixed    bool  // the length is known: all parts are base bytes
	idle     *idleTimer
	progress *reporter
	src      *source // what Put reads

	ctx    context.Context // ends at the first failure
	cancel context.CancelCauseFunc
	sends  errgroup.Group // the parts in flight, at most concurrency
	free   chan []byte    // buffers not in use
	nbuf   int            // buffers allocated (touched only by the reading goroutine)
	held   int64          // their weight in the Destination's memory budget

	errMu sync.Mutex
	err   error // the first failure
}

// putStream uploads what src reads: in one PutObject when it ends within the
// first part, else in parts. size is the length r announced, -1 if none.
func (d *Destination) putStream(ctx context.Context, p *putReq, src *source, size int64) error {
	conc, key := d.concurrency(), p.key
	u := &upload{mpu: &mpu{d: d, op: "put", key: key}, req: p, base: d.partSize(), limit: d.maxPart(), idle: p.idle, progress: d.reporter(p.name, size),
		src: src, free: make(chan []byte, conc+1)}
	u.sends.SetLimit(conc)
	if size >= 0 {
		// Fixed parts, large enough for 10,000 to hold the whole object.
		const mib = 1 << 20
		u.base = max(u.base, (size+maxParts*mib-1)/(maxParts*mib)*mib)
		u.fixed = true
		if u.base > u.limit {
			return invalid("put", d.bucket, key, "%d bytes need parts of %d bytes (S3 takes 10,000 parts), over "+
				"WithMaxPartSize's %d: raise it", size, u.base, u.limit)
		}
	}
	// Read a little before taking a part buffer from the Destination's
	// budget: a small object, or a reader that waits for its producer,
	// holds none.
	pp := copyBufs.Get().(*[]byte) // pooled: small streamed Puts allocate no probe
	defer func() {
		if !src.lost.Load() { // else the abandoned Read may still write to it
			copyBufs.Put(pp)
		}
	}()
	probe := (*pp)[:probeSize]
	if size >= 0 && size < probeSize {
		probe = probe[:size]
	}
	n, err := u.fillFirst(ctx, probe, 0, size)
	if err == io.EOF {
		return d.putBytes(ctx, p, probe[:n])
	}
	if err != nil {
		return d.wrap("put", key, err)
	}
	buf, err := u.buffer(ctx, 1)
	if err != nil {
		return d.wrap("put", key, err)
	}
	multipart := false
	defer func() {
		if multipart {
			u.release(nil) // after the parts' senders have all returned their buffers
		} else {
			u.release(buf)
		}
	}()
	if size >= 0 && size < int64(len(buf)) {
		buf = buf[:size]
	}
	copy(buf, probe[:n])
	if n, err = u.fillFirst(ctx, buf, n, size); err == io.EOF {
		return d.putBytes(ctx, p, buf[:n])
	}
	if err != nil {
		return d.wrap("put", key, err)
	}
	multipart = true
	if err := u.start(ctx); err != nil {
		return err
	}
	u.ctx, u.cancel = context.WithCancelCause(ctx)
	defer u.cancel(nil)
	streamed := false
	defer func() {
		if !streamed {
			// The reader panicked (source.fill raises its panic on this
			// goroutine): end the parts in flight and abort the upload
			// before the panic goes on to the caller.
			u.cancel(errors.New("the reader panicked"))
			_ = u.sends.Wait()
			u.abort(ctx)
		}
	}()
	total := u.stream(buf, size)
	streamed = true
	_ = u.sends.Wait() // sends report their failure to u.fail
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

// probeSize is what Put reads of a stream before it takes a part buffer,
// and what it reads ahead of each next part.
const probeSize = 32 << 10

// fillFirst fills b from u's source, its first k bytes already read, and
// returns io.EOF when the stream ended within b: then the n bytes read are
// the whole object. A known length must end exactly there. Any other error
// is the reason to fail, ctx's end included.
func (u *upload) fillFirst(ctx context.Context, b []byte, k int, size int64) (int, error) {
	m, err := u.src.fill(ctx, b[k:])
	n := k + m
	if ctx.Err() != nil {
		return n, context.Cause(ctx)
	}
	if err == nil && int64(n) == size {
		// All the bytes r announced: it must end here.
		var one [1]byte
		switch m, err2 := u.src.fill(ctx, one[:]); {
		case m > 0:
			return n, fmt.Errorf("the reader delivers more than the %d bytes it announced (Len, Size or Seek)", size)
		case err2 == io.EOF:
			err = io.EOF
		case ctx.Err() != nil:
			return n, context.Cause(ctx)
		default:
			err = err2
		}
	}
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if size >= 0 && int64(n) != size {
			return n, fmt.Errorf("the reader ended after %d of the %d bytes it announced", n, size)
		}
		return n, io.EOF
	case err != nil:
		return n, fmt.Errorf("reading the data to upload: %w", err)
	}
	return n, nil
}

// stream reads the source part by part, starting with first (part 1, full),
// and starts an upload of each. It returns the bytes read; a failure is in
// u.err.
func (u *upload) stream(part []byte, size int64) int64 {
	var total int64
	probe := make([]byte, probeSize)
	last := false
	for n := 1; ; n++ {
		if n > maxParts {
			err := fmt.Errorf("the stream is longer than the %d bytes that S3's 10,000 parts hold here (parts of at most %d bytes): "+
				"give its length (Len, Size or a seekable reader), or raise WithMaxPartSize", total, u.limit)
			u.fail(&Error{Op: "put", Bucket: u.d.bucket, Key: u.key, kind: ErrInvalid, Err: err})
			return total
		}
		if u.ctx.Err() != nil {
			return total
		}
		total += int64(len(part))
		// Waits for a free slot: the sends in flight end soon after a
		// failure, which cancels them all.
		num, buf := int32(n), part // the loop reuses part
		u.sends.Go(func() error {
			u.send(num, buf)
			return nil
		})
		if last {
			break
		}
		// Probe for more data before taking a buffer, so that the end of
		// the stream costs no buffer. A known length is read no further
		// than announced, and must end there.
		want := int64(len(probe))
		if size >= 0 {
			want = max(min(want, size-total), 1)
		}
		k, err := u.src.fill(u.ctx, probe[:want])
		if u.ctx.Err() != nil {
			return total
		}
		if k == 0 && err == io.EOF {
			break
		}
		if size >= 0 && total >= size {
			u.fail(fmt.Errorf("the reader delivers more than the %d bytes it announced (Len, Size or Seek)", size))
			return total
		}
		if err == nil || err == io.ErrUnexpectedEOF {
			next, berr := u.buffer(u.ctx, n+1)
			if berr != nil {
				return total // the upload failed, or ctx ended
			}
			if size >= 0 {
				next = next[:min(int64(len(next)), size-total)]
			}
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

// buffer returns a buffer for part n (partBuffer). The reading goroutine
// holds at most one and each part in flight one, so there are never more
// than concurrency + 1, and fewer when the Destination's memory limit is
// reached.
func (u *upload) buffer(ctx context.Context, n int) ([]byte, error) {
	size := u.base
	if !u.fixed {
		size = partSizeAt(u.base, u.limit, n)
	}
	return u.partBuffer(ctx, size)
}

// release gives the upload's buffers to the Destination for later uploads:
// memory once touched is cheaper to reuse than fresh memory (page faults).
func (u *upload) release(extra []byte) {
	defer func() { u.d.mem.give(u.held); u.held = 0 }()
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

// send uploads one part, unless the upload has failed meanwhile, and
// returns its buffer before its slot frees.
func (u *upload) send(n int32, part []byte) {
	if u.ctx.Err() == nil {
		if err := u.sendPart(n, part); err != nil {
			u.fail(err) // before the slot frees, so that no further part starts
		}
	}
	u.free <- part[:0]
}

func (u *upload) sendPart(n int32, part []byte) error {
	d := u.d
	crc := crc32.Checksum(part, crc32cTable)
	in := &s3.UploadPartInput{
		Bucket: &d.bucket, Key: &u.key, UploadId: &u.id, PartNumber: aws.Int32(n),
		ContentLength: aws.Int64(int64(len(part))),
	}
	d.withCustomerKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	if u.sums != sumNone {
		in.ChecksumCRC32C = aws.String(crcBase64(crc))
	}
	if u.sums == sumNone || u.md5.Load() {
		in.ContentMD5 = aws.String(partMD5(part))
	}
	var out *s3.UploadPartOutput
	send := d.resendDamaged(u.key, func() error {
		u.idle.begin()
		defer u.idle.end()
		return d.do(u.ctx, "put", u.key, NoTimeout, func(ctx context.Context, c *s3.Client) error {
			in.Body = &sliceBody{data: part, it: u.idle}
			var err error
			out, err = d.uploadPartCall(ctx, c, in)
			return err
		})
	})
	err := send()
	if code, _ := errorCode(err); code == "MissingContentMD5" && in.ContentMD5 == nil {
		if !u.md5.Swap(true) && d.putSums.CompareAndSwap(putCRC, putCRCAndMD5) {
			d.log.Info("s3dest: the server requires Content-MD5; sending it with every part", "key", u.key)
		}
		in.ContentMD5 = aws.String(partMD5(part))
		err = send()
	}
	if err == nil && in.ChecksumCRC32C != nil && in.ContentMD5 == nil && aws.ToString(out.ChecksumCRC32C) == "" {
		// The server did not answer the CRC32C back, as S3 does: it may
		// not have checked it. This part, and the next ones, go with
		// Content-MD5.
		if !u.md5.Swap(true) && d.putSums.CompareAndSwap(putCRC, putCRCAndMD5) {
			d.log.Info("s3dest: the server does not answer part checksums back; sending Content-MD5 with every part", "key", u.key)
		}
		in.ContentMD5 = aws.String(partMD5(part))
		err = send()
	}
	if err != nil {
		return partError(n, err)
	}
	if got := aws.ToString(out.ChecksumCRC32C); in.ChecksumCRC32C != nil && sumsDiffer(got, *in.ChecksumCRC32C) {
		// The server stored other bytes than were sent (one that hashes
		// what it got rather than checking the header), as a single
		// PutObject's answer is checked.
		return partError(n, d.corrupt("put", u.key, fmt.Errorf("the server stored CRC32C %s, we sent %s", got, *in.ChecksumCRC32C)))
	}
	u.addPart(n, out.ETag, &crc, int64(len(part)))
	u.progress.add(int64(len(part)))
	return nil
}

// start creates the upload with its class, lock and metadata.
func (u *upload) start(ctx context.Context) error {
	d := u.d
	in := &s3.CreateMultipartUploadInput{
		Bucket: &d.bucket, Key: &u.key, ContentType: aws.String("application/octet-stream"),
		StorageClass: u.req.class,
		// How the parts are cut, for Get to check the object's composite
		// checksum or ETag on servers without full-object checksums.
		Metadata: maps.Clone(u.req.meta),
	}
	if in.Metadata == nil {
		in.Metadata = map[string]string{}
	}
	in.Metadata[partsMeta] = d.layoutMeta(u.base, u.limit, u.fixed)
	u.putID = newPutID()
	in.Metadata[putIDMeta] = u.putID
	d.encryptNew(&in.ServerSideEncryption, &in.SSEKMSKeyId, &in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	u.ifAbsent = u.req.ifAbsent
	if u.req.lock {
		in.ObjectLockMode, in.ObjectLockRetainUntilDate = d.uploadLock()
	}
	if u.req.lock || d.putSums.Load() != putCRC {
		// Lock buckets on servers without flexible checksums want
		// Content-MD5 on parts, as do servers that asked for it before.
		u.md5.Store(true)
	}
	return u.create(ctx, in, sumFull)
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
	u.errMu.Lock()
	if u.err == nil {
		u.err = err
	}
	u.errMu.Unlock()
	u.cancel(err)
}

// failure returns why the upload failed: the caller's context's end (or
// the idle timeout), else the first failure.
func (u *upload) failure(parent context.Context) error {
	if err := context.Cause(parent); err != nil {
		return err
	}
	u.errMu.Lock()
	defer u.errMu.Unlock()
	if u.err != nil {
		return u.err
	}
	return context.Cause(u.ctx)
}

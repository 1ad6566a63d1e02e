package s3dest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Put stores r as the object name, with the destination's storage class,
// streaming: it never holds more than part size × (concurrency + 1) bytes of
// r in memory (see WithPartSize), and never leaves a partial object behind.
//
// When r's length is known (Len, Size, a seekable reader or a regular
// *os.File, from its current offset) and at most the part size, or when a
// reader of unknown length ends within its first part, the object goes up
// in one PutObject. Otherwise Put uploads it in parts, concurrently, and any
// failure (reading r, sending a part, ctx ending) aborts the upload.
//
// Every request carries a CRC32C of its body that the server verifies, and a
// multipart object records the CRC32C of the whole object, so that Stat and
// Get see one whole-object checksum whatever the part size (see
// docs/INTEGRITY.md for servers without flexible checksums). A known length
// that r does not deliver, or exceeds, is an error. Put returns as soon as
// ctx ends or the read-write timeout expires, whatever r does: a Read or
// ReadAt of r that blocks is abandoned (it returns later; Put reads and
// sends nothing more), and a reader that keeps returning no bytes and no
// error fails after 100 such reads. A nil reader is ErrInvalid.
//
// Options change one Put: IfAbsent, PutStorageClass, PutMetadata.
func (d *Destination) Put(ctx context.Context, name string, r io.Reader, opts ...PutOption) error {
	key, err := validateName("put", d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	if err := d.readOnly("put", key); err != nil {
		return err
	}
	if isNil(r) {
		return invalid("put", d.bucket, key, "the reader is nil")
	}
	var pc putConfig
	for _, o := range opts {
		if o != nil {
			o(&pc)
		}
	}
	meta, err := checkMetadata(pc.meta)
	if err != nil {
		return invalid("put", d.bucket, key, "%v", err)
	}
	size, section, err := sizeOf(r)
	if err != nil {
		return invalid("put", d.bucket, key, "%v", err)
	}
	class, err := d.classFor(name, size)
	if pc.class != nil {
		class, err = types.StorageClass(*pc.class), checkHeaderValue("storage class", *pc.class)
	}
	if err != nil {
		return invalid("put", d.bucket, key, "%v", err)
	}
	p := &putReq{key: key, name: name, class: class, lock: d.cfg.lockFor > 0, ifAbsent: pc.ifAbsent, meta: meta}
	return d.put(ctx, p, r, size, section)
}

// A PutOption changes one Put.
type PutOption func(*putConfig)

type putConfig struct {
	ifAbsent bool
	class    *string
	meta     map[string]string
}

// IfAbsent makes Put store the object only if no object has its name: the
// PutObject, or the CompleteMultipartUpload of a multipart upload, carries
// If-None-Match: *. When the name is taken the Put fails with
// ErrObjectExists and the existing object stays as it was. A Put whose
// first answer was lost, and whose retry finds the object it stored, still
// succeeds. Servers that ignore the header overwrite; see the package doc
// for the servers measured.
func IfAbsent() PutOption { return func(c *putConfig) { c.ifAbsent = true } }

// PutStorageClass sets this upload's storage class, over WithStorageClass
// and WithStorageClassFunc. Any class the server knows is passed through.
func PutStorageClass(class string) PutOption { return func(c *putConfig) { c.class = &class } }

// PutMetadata stores m as the object's user metadata (x-amz-meta-*); Stat
// returns it in FileInfo.Metadata, and Rename keeps it. Keys are
// case-insensitive (S3 keeps them lower-case), and keys and values travel
// as HTTP headers: printable ASCII, keys without spaces or separators, at
// most 2 KiB together (S3's limit). Keys starting "s3dest-" are s3dest's.
func PutMetadata(m map[string]string) PutOption {
	return func(c *putConfig) { c.meta = maps.Clone(m) }
}

// maxMetadata is S3's limit on user metadata: keys and values together.
const maxMetadata = 2 << 10

// checkMetadata returns m with lower-case keys, or why S3 would refuse it.
func checkMetadata(m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	total := 0
	for k, v := range m {
		lk := strings.ToLower(k)
		switch {
		case lk == "" || strings.IndexFunc(lk, func(r rune) bool { return !isTokenChar(r) }) >= 0:
			return nil, fmt.Errorf("metadata key %q: use letters, digits and -_.!#$%%&'*+^`|~ only", truncate(k, 40))
		case strings.HasPrefix(lk, "s3dest-"):
			return nil, fmt.Errorf("metadata key %q: keys starting \"s3dest-\" are s3dest's own", truncate(k, 40))
		case strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 || strings.TrimSpace(v) != v:
			return nil, fmt.Errorf("metadata %q: the value may hold printable ASCII only, without spaces at its ends", lk)
		}
		if _, dup := out[lk]; dup {
			return nil, fmt.Errorf("metadata key %q is given twice, in different cases", lk)
		}
		out[lk] = v
		total += len(lk) + len(v)
	}
	if total > maxMetadata {
		return nil, fmt.Errorf("metadata of %d bytes: S3 takes at most 2 KiB of keys and values together", total)
	}
	return out, nil
}

// isTokenChar reports a character of an HTTP header name (RFC 9110 tchar).
func isTokenChar(r rune) bool {
	return r < 0x7f && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

// putReq is one upload as decided before its first request.
type putReq struct {
	key, name string
	class     types.StorageClass // "": the server's default
	lock      bool               // lock it as WithLockOnUpload says
	ifAbsent  bool               // If-None-Match: *
	meta      map[string]string  // user metadata, keys lower-case
	idle      *idleTimer
}

// put uploads r, of size bytes (-1: unknown), from section when it can be
// read again (sizeOf).
func (d *Destination) put(ctx context.Context, p *putReq, r io.Reader, size int64, section *io.SectionReader) error {
	if size > maxObjectSize {
		return invalid("put", d.bucket, p.key, "%d bytes is more than S3's 5 TiB limit", size)
	}
	ctx, p.idle = d.idleTimeout(ctx)
	defer p.idle.stop()
	if section != nil && size <= d.partSize() {
		if !mayBlock(r) {
			return p.idle.result(d.putSection(ctx, p, section, size))
		}
		// A file's reads may block (a network mount that stopped
		// answering), and net/http waits for a Read of the body under way
		// before it gives up a request, even after ctx ended. So the Put of
		// a file runs aside and returns when ctx ends, whatever its reads
		// do; what runs aside ends when its Read returns, and sends nothing
		// more, its ctx being over.
		section := io.NewSectionReader(ctxReaderAt{ctx, section}, 0, size)
		return p.idle.result(d.aside(ctx, p.key, func() error { return d.putSection(ctx, p, section, size) }))
	}
	src := newSource(r)
	defer src.close()
	return p.idle.result(d.putStream(ctx, p, src, size))
}

// putSection uploads what is already in memory or in a file in one
// PutObject: it hashes it, then sends it from where it is, without a copy.
func (d *Destination) putSection(ctx context.Context, p *putReq, section *io.SectionReader, size int64) error {
	h := crc32.New(crc32cTable)
	bp := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(h, section, *bp)
	copyBufs.Put(bp)
	if err != nil {
		return d.wrap("put", p.key, fmt.Errorf("reading the data to upload: %w", &callerError{err}))
	}
	body := func() io.ReadSeeker { return &idleReader{io.NewSectionReader(section, 0, size), p.idle} }
	return d.putObject(ctx, p, body, size, h.Sum32())
}

// mayBlock reports whether a Read of r may block: anything but the
// standard library's readers of memory.
func mayBlock(r io.Reader) bool {
	switch r.(type) {
	case *bytes.Reader, *strings.Reader:
		return false
	}
	return true
}

// ctxReaderAt fails its reads once ctx ended: a Put that returned reads no
// more of the caller's reader than the ReadAt under way.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if c.ctx.Err() != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.ReadAt(p, off)
}

// aside runs fn on a goroutine of its own and returns its result, or the
// end of ctx as soon as it comes, whatever fn is blocked in. A panic of fn
// is raised again here while the caller waits; one after ctx ended is
// logged, as nobody waits for it.
func (d *Destination) aside(ctx context.Context, key string, fn func() error) error {
	done := make(chan fillResult, 1)
	var gone atomic.Bool // the caller returned: nobody takes a result
	go func() {
		defer func() {
			if p := recover(); p != nil {
				if gone.Load() {
					d.log.Warn("s3dest: the reader panicked after its Put ended", "key", key, "panic", p)
				}
				done <- fillResult{panic: p}
			}
		}()
		done <- fillResult{err: fn()}
	}()
	var r fillResult
	select {
	case r = <-done:
	case <-ctx.Done():
		select {
		case r = <-done: // it ended too: its result
		default:
			gone.Store(true)
			return d.wrap("put", key, context.Cause(ctx))
		}
	}
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// putBytes stores data in one PutObject.
func (d *Destination) putBytes(ctx context.Context, p *putReq, data []byte) error {
	body := func() io.ReadSeeker { return &sliceBody{data: data, it: p.idle} }
	return d.putObject(ctx, p, body, int64(len(data)), crc32.Checksum(data, crc32cTable))
}

// putObject sends one PutObject with our CRC32C, falling back to
// Content-MD5 when the server refuses the checksum (checksumFallback).
func (d *Destination) putObject(ctx context.Context, p *putReq, body func() io.ReadSeeker, size int64, crc uint32) error {
	key, idle := p.key, p.idle
	sum := crcBase64(crc)
	in := &s3.PutObjectInput{
		Bucket:         &d.bucket,
		Key:            &key,
		ContentLength:  aws.Int64(size),
		ChecksumCRC32C: aws.String(sum),
		ContentType:    aws.String("application/octet-stream"),
	}
	in.StorageClass, in.Metadata = p.class, p.meta
	var putID string
	if p.ifAbsent {
		// Shows after a lost answer whether the object is this Put's.
		putID = newPutID()
		in.Metadata = maps.Clone(p.meta)
		if in.Metadata == nil {
			in.Metadata = map[string]string{}
		}
		in.Metadata[putIDMeta] = putID
	}
	d.encryptNew(&in.ServerSideEncryption, &in.SSEKMSKeyId, &in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	if p.ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	if err := d.lockPut(in, p.lock, body); err != nil {
		return d.wrap("put", key, err)
	}
	var out *s3.PutObjectOutput
	var attempts atomic.Int32
	send := d.resendDamaged(key, func() error {
		idle.begin()
		defer idle.end()
		return d.do(ctx, "put", key, NoTimeout, func(ctx context.Context, c *s3.Client) error {
			in.Body = body()
			var err error
			out, err = d.putObjectCall(ctx, c, in, &attempts)
			return err
		})
	})
	addMD5 := func(dropCRC bool) error {
		if in.ContentMD5 == nil {
			sum, err := contentMD5(body())
			if err != nil {
				return err
			}
			in.ContentMD5 = &sum
		}
		if dropCRC {
			in.ChecksumCRC32C = nil
		}
		return nil
	}
	// What an earlier Put learned about this server: no refused request
	// per upload.
	if m := d.putSums.Load(); m != putCRC {
		if err := addMD5(m == putMD5Only); err != nil {
			return d.wrap("put", key, err)
		}
	}
	err := send()
	if needMD5, dropCRC := checksumFallback(err); needMD5 && !d.lockRefused(err) && (in.ContentMD5 == nil || dropCRC && in.ChecksumCRC32C != nil) {
		if rerr := addMD5(dropCRC); rerr != nil {
			return err
		}
		if err = send(); err == nil {
			mode := map[bool]int32{false: putCRCAndMD5, true: putMD5Only}[dropCRC]
			if d.putSums.Swap(mode) != mode {
				d.log.Info("s3dest: the server refused the CRC32C checksum alone; uploads now send Content-MD5",
					"bucket", d.bucket, "crc32c", !dropCRC)
			}
		}
	}
	if err == nil && in.ChecksumCRC32C != nil && in.ContentMD5 == nil && aws.ToString(out.ChecksumCRC32C) == "" {
		// The server did not answer the CRC32C back, as S3 does: it may
		// not have checked it. Send once more with Content-MD5, and so
		// from now on.
		if rerr := addMD5(false); rerr != nil {
			return d.wrap("put", key, rerr)
		}
		if in.IfNoneMatch != nil {
			// The object is there now, ours: replace it, and only it.
			in.IfNoneMatch, in.IfMatch = nil, out.ETag
		}
		if err = send(); err == nil && d.putSums.CompareAndSwap(putCRC, putCRCAndMD5) {
			d.log.Info("s3dest: the server does not answer checksums back; uploads now send Content-MD5", "bucket", d.bucket)
		}
	}
	if in.IfNoneMatch != nil && preconditionFailed(err) {
		if attempts.Load() > 1 && d.storedIs(ctx, key, putID) {
			// The first try stored it and its answer was lost.
			d.log.Info("s3dest: the answer to an If-None-Match PutObject was lost; the object stored is the one uploaded", "key", key)
			d.reporter(p.name, size).finish(size)
			return nil
		}
		return d.objectExists("put", key, err)
	}
	if err != nil {
		return err
	}
	if got := aws.ToString(out.ChecksumCRC32C); got != "" && in.ChecksumCRC32C != nil && sumsDiffer(got, sum) {
		return d.discardCorrupt(ctx, "put", key, fmt.Errorf("the server stored CRC32C %s, we sent %s", got, sum))
	}
	d.reporter(p.name, size).finish(size)
	return nil
}

// What single PutObjects send, as learned from the server (Destination.putSums).
const (
	putCRC       int32 = iota // our CRC32C header
	putCRCAndMD5              // and Content-MD5 (MissingContentMD5)
	putMD5Only                // Content-MD5 only: no flexible checksums (B2)
)

// discardCorrupt deletes an object the server reports it stored wrongly and
// returns an ErrCorrupt error.
func (d *Destination) discardCorrupt(ctx context.Context, op, key string, cause error) error {
	d.cleanup(ctx, func(ctx context.Context) {
		if _, err := d.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &key}); err != nil {
			d.log.Warn("s3dest: could not delete a corrupt upload", "key", key, "error", err)
		}
	})
	return d.corrupt(op, key, cause)
}

// sizeOf returns how many bytes r holds from its current position, -1 when
// that is unknown, and a reader of exactly those bytes when r can be read
// again without being consumed (io.ReaderAt). A seeker that finds its end
// but cannot seek back to where it was has lost its place: an error, never
// an upload from its end.
func sizeOf(r io.Reader) (int64, *io.SectionReader, error) {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return -1, nil, nil // pipes, devices: no meaningful size
		}
	}
	if s, ok := r.(io.Seeker); ok {
		if cur, err := s.Seek(0, io.SeekCurrent); err == nil {
			if end, err := s.Seek(0, io.SeekEnd); err == nil {
				if _, err := s.Seek(cur, io.SeekStart); err != nil {
					return 0, nil, fmt.Errorf("the reader found its length but cannot seek back to offset %d "+
						"(a forward-only seeker): give a reader that is not an io.Seeker: %w", cur, err)
				}
				if end >= cur {
					if ra, ok := r.(io.ReaderAt); ok {
						return end - cur, io.NewSectionReader(ra, cur, end-cur), nil
					}
					return end - cur, nil, nil
				}
			}
		}
	}
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), nil, nil
	case interface{ Size() int64 }:
		return v.Size(), nil, nil
	}
	return -1, nil, nil
}

// idleReader is an upload body read from a file or the caller's reader; it
// reports progress to the idle timer and keeps Seek, so that the SDK can
// rewind it for a retry.
type idleReader struct {
	io.ReadSeeker
	it *idleTimer
}

// WriteTo sends the body through a pooled buffer: the SDK hashes it
// (SHA-256 payload signing over plain HTTP) and net/http sends it with
// io.Copy, which would otherwise allocate a 32 KiB buffer each.
func (r *idleReader) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	var n int64
	for {
		m, rerr := r.ReadSeeker.Read(*bp)
		r.it.touch()
		if m > 0 {
			k, werr := w.Write((*bp)[:m])
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, &callerError{rerr}
		}
	}
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.ReadSeeker.Read(p)
	r.it.touch()
	if err != nil && err != io.EOF {
		err = &callerError{err} // the caller's reader failed, not the server
	}
	return n, err
}

// sliceBody is an upload body in memory. Besides Read and Seek it has
// WriteTo, so that net/http sends it in large writes straight from the
// slice (a body without WriteTo goes out 32 KiB at a time through a buffer,
// measurably slower on fast links), touching the idle timer after each.
type sliceBody struct {
	data []byte
	off  int64
	it   *idleTimer
}

func (b *sliceBody) Read(p []byte) (int, error) {
	if b.off >= int64(len(b.data)) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += int64(n)
	b.it.touch()
	return n, nil
}

func (b *sliceBody) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += int64(len(b.data))
	}
	if offset < 0 {
		return 0, errors.New("seek before the start")
	}
	b.off = offset
	return offset, nil
}

func (b *sliceBody) Len() int { return max(len(b.data)-int(b.off), 0) }

func (b *sliceBody) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for b.off < int64(len(b.data)) {
		m, err := w.Write(b.data[b.off:min(b.off+1<<20, int64(len(b.data)))])
		b.off += int64(m)
		n += int64(m)
		b.it.touch()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// preconditionFailed reports a conditional write refused: 412
// PreconditionFailed, the object exists (If-None-Match) or changed
// (If-Match).
func preconditionFailed(err error) bool {
	code, status := errorCode(err)
	return status == http.StatusPreconditionFailed || code == "PreconditionFailed"
}

// objectExists is the error of an IfAbsent Put that found the name taken.
func (d *Destination) objectExists(op, key string, err error) error {
	if e, ok := err.(*Error); ok {
		err = e.Err // d.do's: its cause, not its words twice
	}
	code, _ := errorCode(err)
	return &Error{Op: op, Bucket: d.bucket, Key: key, Code: code, kind: ErrObjectExists, Err: err, secret: d.scrub,
		Hint: "another object has this name; IfAbsent left it as it was"}
}

// storedIs reports whether the object stored under key is the one an
// IfAbsent PutObject stored: it carries the Put's id.
func (d *Destination) storedIs(ctx context.Context, key, putID string) bool {
	head, err := d.head(ctx, "put", key)
	if err != nil {
		return false
	}
	mine, _ := ownership(head, putID)
	return mine
}

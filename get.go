package s3dest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Get writes the object's content to w, and checks what it delivered: the
// length against Content-Length and the bytes against the object's
// whole-object checksum (CRC32C, or any other S3 records). A mismatch is an
// error that errors.Is ErrCorrupt, and what was written to w must then be
// discarded. Objects without a whole-object checksum (a composite multipart
// checksum, or none) are checked for length only. An archived object fails
// at once with ErrObjectArchived.
func (d *Destination) Get(ctx context.Context, name string, w io.Writer) error {
	key, err := validateName("get", d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	return d.get(ctx, "get", key, name, nil, nil, w)
}

// GetRange writes length bytes of the object from offset on to w, or fails:
// it never returns nil having written fewer bytes than asked. A length of -1
// reads to the end. A range that starts at or runs past the end of the
// object is ErrInvalid, and nothing is written (Stat gives the size); a
// length of 0 writes nothing and sends no request. The length and the
// position of what arrives are checked, but not the content: a whole-object
// checksum cannot check part of an object, except for offset 0 and length
// -1, which read and verify the whole object as Get does.
func (d *Destination) GetRange(ctx context.Context, name string, offset, length int64, w io.Writer) error {
	key, err := validateName("get-range", d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	switch {
	case offset < 0 || length < -1:
		return invalid("get-range", d.bucket, key, "offset %d and length %d: want offset >= 0 and length >= -1", offset, length)
	case length > math.MaxInt64-offset:
		return invalid("get-range", d.bucket, key, "offset %d and length %d: the range ends beyond any object", offset, length)
	case length == 0:
		return nil
	case offset == 0 && length == -1:
		return d.get(ctx, "get-range", key, name, nil, nil, w)
	}
	return d.get(ctx, "get-range", key, name, nil, &byteRange{offset: offset, length: length}, w)
}

// byteRange is the part of an object GetRange asks for; length -1 means to
// the end.
type byteRange struct{ offset, length int64 }

func (r *byteRange) header() *string {
	h := "bytes=" + strconv.FormatInt(r.offset, 10) + "-"
	if r.length > 0 {
		h += strconv.FormatInt(r.offset+r.length-1, 10)
	}
	return &h
}

// get reads the version (nil: the current one, or in a view the one it
// sees) of key.
func (d *Destination) get(ctx context.Context, op, key, name string, version *string, rng *byteRange, w io.Writer) error {
	if isNil(w) {
		return invalid(op, d.bucket, key, "the writer is nil")
	}
	if version == nil {
		var err error
		if version, err = d.viewVersion(ctx, op, key); err != nil {
			return err
		}
	}
	ctx, idle := d.idleTimeout(ctx)
	defer idle.stop()
	// The body is read inside do, which runs fn again after an answer
	// that heals (a wrong region). A failure once the body began is final:
	// a second run would write the object to w after the bytes of the
	// first.
	var streamed error
	return idle.result(d.do(ctx, op, key, NoTimeout, func(ctx context.Context, c *s3.Client) error {
		if streamed != nil {
			return streamed
		}
		idle.begin()
		defer idle.end()
		b, err := d.open(ctx, c, op, key, name, version, rng)
		if err != nil {
			return err
		}
		defer b.body.Close()
		n, err := copyBody(w, b.body, b.v, idle, b.progress)
		if err != nil {
			streamed = b.failed(ctx, n, err)
			return streamed
		}
		if err := b.verdict(ctx, n); err != nil {
			streamed = err
			return err
		}
		b.progress.finish(n)
		return nil
	}))
}

// objectBody is a GetObject answer being read: what it must deliver, and
// how it is checked.
type objectBody struct {
	d        *Destination
	c        *s3.Client // for the HEADs a verdict may need
	op, key  string
	version  *string // the version read; nil: the current one
	body     io.ReadCloser
	want     int64     // bytes the body must have, -1 when unknown
	whole    bool      // the whole object was asked for
	etag     string    // the answer's ETag
	v        *verifier // nil: checked for length only
	progress *reporter
}

// open sends the GetObject of get and the readers: the range asked for, or
// the whole object with its checksum. The answer is checked before any
// byte of it is read: an archived object, a missing one or a wrong range
// fails here. version names the version to read, nil the current one.
func (d *Destination) open(ctx context.Context, c *s3.Client, op, key, name string, version *string, rng *byteRange) (*objectBody, error) {
	in := &s3.GetObjectInput{Bucket: &d.bucket, Key: &key, VersionId: version}
	d.withCustomerKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	if rng != nil {
		in.Range = rng.header()
	} else if !d.noChecksumMode.Load() {
		in.ChecksumMode = types.ChecksumModeEnabled
	}
	out, err := d.getObjectCall(ctx, c, in)
	if in.ChecksumMode != "" && refusesChecksumMode(err) {
		// B2 refuses x-amz-checksum-mode: read without asking for it,
		// and, if that is answered, never ask again.
		in.ChecksumMode = ""
		if out, err = d.getObjectCall(ctx, c, in); !refusesChecksumMode(err) {
			d.noChecksumMode.Store(true)
		}
	}
	if err != nil {
		return nil, d.versionReadError(op, key, version, err)
	}
	if err := d.sameVersion(op, key, version, out.VersionId); err != nil {
		out.Body.Close()
		return nil, err
	}
	b := &objectBody{d: d, c: c, op: op, key: key, version: version, body: out.Body, want: aws.ToInt64(out.ContentLength),
		whole: rng == nil, etag: aws.ToString(out.ETag)}
	if out.ContentLength == nil {
		b.want = -1 // a chunked answer: a range still says its length
	}
	if rng == nil {
		if n, err := d.checkWhole(op, key, out); err != nil {
			out.Body.Close()
			return nil, err
		} else if n >= 0 {
			b.want = n
		}
		b.v = d.bodyVerifier(ctx, c, key, version, out)
	} else if n, err := d.checkRange(op, key, out, rng); err != nil {
		out.Body.Close()
		return nil, err
	} else {
		b.want = n
	}
	b.progress = d.reporter(name, b.want)
	return b, nil
}

// failed is the error of a body that broke off after n bytes: ctx's end
// (the idle timeout), a body cut short (ErrCorrupt), or the read's error.
func (b *objectBody) failed(ctx context.Context, n int64, err error) error {
	var ce *callerError // the caller's writer: its io.ErrUnexpectedEOF is its own
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	} else if !errors.As(err, &ce) && errors.Is(err, io.ErrUnexpectedEOF) {
		return b.d.corrupt(b.op, b.key, fmt.Errorf("got %d bytes of %d: the body was cut short: %w", n, b.want, err))
	}
	return fmt.Errorf("after %d bytes: %w", n, err)
}

// verdict checks a body that ended after n bytes: its length, then its
// checksum. nil means every byte is as the server stored it.
func (b *objectBody) verdict(ctx context.Context, n int64) error {
	d, v := b.d, b.v
	if b.want >= 0 && n != b.want {
		return d.corrupt(b.op, b.key, fmt.Errorf("got %d bytes of %d: the body was cut short", n, b.want))
	}
	if b.want < 0 && b.whole && v == nil {
		return b.lengthVerdict(ctx, n)
	}
	if v != nil {
		got := v.got()
		// The verdict's HEADs move no data: the short timeout bounds
		// them, as the read-write timeout no longer watches.
		if got != v.want && d.verdictOf(ctx, b.c, b.key, b.version, v) {
			return d.corrupt(b.op, b.key, fmt.Errorf("%s of the %d bytes read is %s, the object's is %s", v.what, n, got, v.want))
		}
		if got == v.want && v.etagRule {
			d.learnETagRule(true)
		}
	}
	return nil
}

// lengthVerdict checks the length of a whole-object body that nothing
// else checks, and whose answer said none: one without Content-Length
// ends where its connection closes, and so does one cut short. The length
// is the one a HEAD of the same version answers.
func (b *objectBody) lengthVerdict(ctx context.Context, n int64) error {
	d := b.d
	hctx, cancel := d.withTimeout(ctx, d.cfg.timeouts.Short)
	defer cancel()
	out, err := d.headVersion(hctx, b.c, b.key, b.version)
	switch {
	case err != nil && context.Cause(ctx) != nil:
		return fmt.Errorf("after %d bytes: %w", n, context.Cause(ctx))
	case err != nil:
		// Not shown cut short, nor shown whole. %v, not %w: an API error
		// inside (a wrong region, say) would make do run get's fn again,
		// writing the object a second time.
		return fmt.Errorf("the answer gave no length, and asking for it after %d bytes failed: %v; "+
			"the data written may be incomplete", n, err)
	case b.etag != "" && aws.ToString(out.ETag) != "" && aws.ToString(out.ETag) != b.etag:
		return d.corrupt(b.op, b.key, errors.New("the answer gave no length, and the object changed during the read"))
	case out.ContentLength == nil:
		d.log.Warn("s3dest: the server answered neither GET nor HEAD with a length: the read is unchecked", "key", b.key, "bytes", n)
	case *out.ContentLength != n:
		return d.corrupt(b.op, b.key, fmt.Errorf("got %d bytes of %d: the body was cut short", n, *out.ContentLength))
	}
	return nil
}

func (d *Destination) corrupt(op, key string, err error) error {
	return &Error{Op: op, Bucket: d.bucket, Key: key, kind: ErrCorrupt, Err: err, secret: d.scrub,
		Hint: "the data written must be discarded; retrying may help"}
}

// checkWhole checks, before any byte is written, that an answer to a read
// of the whole object is no part of it: a cache or proxy may answer 206
// with a Content-Range, whose Content-Length is then the part's, and which
// only a checksum would otherwise catch. A Content-Range must span every
// byte of the object, and Content-Length agree with it. It returns the
// length the Content-Range gives, -1 without one.
func (d *Destination) checkWhole(op, key string, out *s3.GetObjectOutput) (int64, error) {
	if out.ContentRange == nil {
		return -1, nil
	}
	cr := *out.ContentRange
	first, last, total, ok := parseContentRange(cr)
	switch {
	case !ok || first != 0 || total < 0 || last != total-1:
		return 0, d.corrupt(op, key, fmt.Errorf("asked for the whole object, got Content-Range %q", cr))
	case out.ContentLength != nil && *out.ContentLength != total:
		return 0, d.corrupt(op, key, fmt.Errorf("Content-Range %q with Content-Length %d", cr, *out.ContentLength))
	}
	return total, nil
}

// checkRange checks, before any byte is written, that an answer is the
// range asked for: a server that ignores Range sends the whole object with
// 200, a cut or lying answer a shorter range. S3 answers a range that runs
// past the end of the object with the bytes up to the end: that is
// ErrInvalid here, since GetRange writes all the bytes asked for or none.
// It returns the length of the range, which the body must have.
func (d *Destination) checkRange(op, key string, out *s3.GetObjectOutput, r *byteRange) (int64, error) {
	cr := aws.ToString(out.ContentRange) // "bytes 10-19/100", or "bytes 10-19/*"
	first, last, total, ok := parseContentRange(cr)
	switch {
	case !ok || first != r.offset:
		return 0, d.corrupt(op, key, fmt.Errorf("asked for %s, got Content-Range %q", *r.header(), cr))
	case out.ContentLength != nil && *out.ContentLength != last-first+1:
		return 0, d.corrupt(op, key, fmt.Errorf("Content-Range %q with Content-Length %d", cr, *out.ContentLength))
	case r.length < 0:
		// An unknown total ("/*") cannot show that the range reaches the
		// end: a shorter one would pass for all the bytes asked for.
		if total < 0 || last != total-1 {
			return 0, d.corrupt(op, key, fmt.Errorf("asked for %s, got Content-Range %q", *r.header(), cr))
		}
		return last - first + 1, nil
	}
	switch want := r.offset + r.length - 1; {
	case last == want:
		return r.length, nil
	case last < want && last == total-1:
		return 0, invalid(op, d.bucket, key, "the object has %d bytes: %d bytes from offset %d run past its end "+
			"(ask for at most %d, or -1 for the rest)", total, r.length, r.offset, total-r.offset)
	}
	return 0, d.corrupt(op, key, fmt.Errorf("asked for %s, got Content-Range %q", *r.header(), cr))
}

// parseContentRange reads "bytes FIRST-LAST/TOTAL"; total is -1 for "*".
func parseContentRange(cr string) (first, last, total int64, ok bool) {
	spec, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, 0, 0, false
	}
	span, size, ok := strings.Cut(spec, "/")
	a, b, ok2 := strings.Cut(span, "-")
	if !ok || !ok2 {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	first, err1 = strconv.ParseInt(a, 10, 64)
	last, err2 = strconv.ParseInt(b, 10, 64)
	total = -1
	if size != "*" {
		total, err3 = strconv.ParseInt(size, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first || total >= 0 && last >= total {
		return 0, 0, 0, false
	}
	return first, last, total, true
}

// copyBufSize is the chunk Get reads, hashes and writes.
const copyBufSize = 256 << 10

// copyBufs holds Get's copy buffers between calls: a fresh 256 KiB buffer
// per Get was most of what a small Get allocated.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// copyBody copies body to w, feeding the verifier and the progress reports.
// A slow hash (MD5, SHA) runs alongside the transfer, on each chunk while
// the next is read and written: a Get then takes as long as the slower of
// the transfer and the hash, not their sum. The parts of a multipart
// digest are independent, and are hashed on up to hashWorkers goroutines
// at once (partHashing); a whole-object digest on one. w never keeps a
// buffer (io.Writer's contract), so they go back to the pool.
func copyBody(w io.Writer, body io.Reader, v *verifier, idle *idleTimer, p *reporter) (int64, error) {
	switch {
	case v != nil && v.slow() && len(v.sizes) > 1 && hashWorkers() > 1:
		h := startPartHashing(v)
		defer h.stop() // before the caller reads v.got()
		return copyChunks(w, body, idle, p, h.buffer, h.hash)
	case v != nil && v.slow():
		h := startHashing(v)
		defer h.stop()
		return copyChunks(w, body, idle, p, h.buffer, h.hash)
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	next := func() (*[]byte, []byte) { return bp, *bp }
	done := func(_ *[]byte, chunk []byte) {
		if v != nil {
			_, _ = v.Write(chunk)
		}
	}
	return copyChunks(w, body, idle, p, next, done)
}

// copyChunks reads body into the buffers next gives (a pooled buffer, and
// the part of it to read into), writes each chunk to w and hands it, and
// its buffer, to done.
func copyChunks(w io.Writer, body io.Reader, idle *idleTimer, p *reporter, next func() (*[]byte, []byte), done func(*[]byte, []byte)) (int64, error) {
	var n, reported int64
	for {
		bp, buf := next()
		m, rerr := body.Read(buf)
		chunk := buf[:m]
		if m > 0 {
			idle.touch()
			var werr error
			idle.hold(func() { _, werr = w.Write(chunk) })
			if werr != nil {
				done(bp, nil)
				return n, fmt.Errorf("writing: %w", &callerError{werr})
			}
			n += int64(m)
			if p != nil && n-reported >= 1<<20 {
				p.add(n - reported)
				reported = n
			}
		}
		done(bp, chunk)
		if rerr == io.EOF {
			return n, nil // the caller reports the end once the body is judged
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// verdictOf is corruptVerdict bounded by the short timeout.
func (d *Destination) verdictOf(ctx context.Context, c *s3.Client, key string, version *string, v *verifier) bool {
	ctx, cancel := d.withTimeout(ctx, d.cfg.timeouts.Short)
	defer cancel()
	return d.corruptVerdict(ctx, c, key, version, v)
}

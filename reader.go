package s3dest

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewReader opens the object for reading as a stream, checked as Get
// checks it: the Read that ends the stream returns an error that
// errors.Is ErrCorrupt, instead of io.EOF, when the bytes read are not the
// object's (its length, and its whole-object checksum where it has one),
// and what was read must then be discarded. An archived object fails here,
// before any byte, with ErrObjectArchived, as a missing one does with
// ErrObjectNotFound.
//
// The read-write timeout (Timeouts.ReadWrite) ends a Read that waits on
// the server that long without a byte; time between Reads is the caller's
// and does not count. ctx bounds the whole stream. Progress is reported as
// for Get. Close releases the connection, at any point of the stream; the
// caller must call it.
func (d *Destination) NewReader(ctx context.Context, name string) (io.ReadCloser, error) {
	key, err := validateName("new-reader", d.bucket, d.prefix, name)
	if err != nil {
		return nil, err
	}
	return d.newReader(ctx, "new-reader", key, name, nil)
}

// NewRangeReader opens length bytes of the object from offset on (-1: to
// the end) as a stream, with GetRange's rules: a range that starts at or
// runs past the end of the object is ErrInvalid here, and the stream
// delivers all the bytes asked for or ends with an error. Only offset 0
// with length -1 (the whole object) is checked against its checksum.
func (d *Destination) NewRangeReader(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	const op = "new-range-reader"
	key, err := validateName(op, d.bucket, d.prefix, name)
	if err != nil {
		return nil, err
	}
	switch {
	case offset < 0 || length < -1:
		return nil, invalid(op, d.bucket, key, "offset %d and length %d: want offset >= 0 and length >= -1", offset, length)
	case length > math.MaxInt64-offset:
		return nil, invalid(op, d.bucket, key, "offset %d and length %d: the range ends beyond any object", offset, length)
	case length == 0:
		return io.NopCloser(eofReader{}), nil
	case offset == 0 && length == -1:
		return d.newReader(ctx, op, key, name, nil)
	}
	return d.newReader(ctx, op, key, name, &byteRange{offset: offset, length: length})
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// reader is an open object stream (NewReader): the body, its checks, and
// the context and idle timer that live as long as it.
type reader struct {
	b      *objectBody
	ctx    context.Context
	cancel context.CancelFunc
	idle   *idleTimer

	mu       sync.Mutex // Read and Close may race; reads are serial
	n        int64      // bytes delivered
	reported int64      // bytes reported to progress
	err      error      // sticky: the stream's end, or its failure
	closed   bool
}

func (d *Destination) newReader(ctx context.Context, op, key, name string, rng *byteRange) (io.ReadCloser, error) {
	version, err := d.viewVersion(ctx, op, key) // nil outside a view
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	ctx, idle := d.idleTimeout(ctx)
	var b *objectBody
	err = d.do(ctx, op, key, NoTimeout, func(ctx context.Context, c *s3.Client) error {
		idle.begin()
		defer idle.end()
		var err error
		b, err = d.open(ctx, c, op, key, name, version, rng)
		return err
	})
	if err != nil {
		err = idle.result(err)
		idle.stop()
		cancel()
		return nil, err
	}
	return &reader{b: b, ctx: ctx, cancel: cancel, idle: idle}, nil
}

func (r *reader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	if r.closed {
		return 0, r.b.d.wrap(r.b.op, r.b.key, errReadAfterClose)
	}
	r.idle.begin()
	m, err := r.b.body.Read(p)
	if m > 0 {
		r.idle.touch()
	}
	r.idle.end()
	if m > 0 {
		if r.b.v != nil {
			_, _ = r.b.v.Write(p[:m])
		}
		r.n += int64(m)
		if pr := r.b.progress; pr != nil && r.n-r.reported >= 1<<20 {
			pr.add(r.n - r.reported)
			r.reported = r.n
		}
	}
	switch {
	case err == io.EOF:
		if err = r.b.verdict(r.ctx, r.n); err == nil {
			r.b.progress.finish(r.n)
			err = io.EOF
		}
	case err != nil:
		err = r.idle.result(r.b.d.wrap(r.b.op, r.b.key, r.b.failed(r.ctx, r.n, err)))
	}
	if err != nil {
		r.err = err
		r.idle.stop() // the stream is over: nothing left to watch
	}
	return m, err
}

// errReadAfterClose is the cause of a Read after Close.
var errReadAfterClose = errors.New("read after Close")

// Close releases the body and its connection; a stream not read to its end
// is not checked. It never fails.
func (r *reader) Close() error {
	r.cancel() // ends a Read under way, whose lock Close then takes
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.b.body.Close()
		r.idle.stop()
	}
	return nil
}

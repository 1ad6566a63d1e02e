package s3dest

import (
	"context"
	"errors"
	"io"
	"reflect"
	"sync/atomic"
)

// maxEmptyReads is how many Reads in a row may return no byte and no error
// before Put gives up on the reader, as io.ReadFull's users (bufio) do: a
// reader that does so forever would otherwise spin a CPU and never end.
const maxEmptyReads = 100

// source reads the caller's data for Put on a goroutine of its own, so that
// the caller's ctx and the idle timeout end a Put at once, whatever the
// reader does: a Read that blocks is abandoned (it returns later, into a
// buffer Put no longer uses), and a reader that keeps returning (0, nil) is
// an error. Between Reads the goroutine checks whether it was abandoned, so
// that it stops reading a fast source too.
type source struct {
	r       io.Reader
	req     chan []byte
	resp    chan fillResult
	started bool
	lost    atomic.Bool // a fill was abandoned: its buffer is not ours any more
}

type fillResult struct {
	n     int
	err   error
	panic any // the reader panicked: raised again on the caller's goroutine
}

func newSource(r io.Reader) *source {
	return &source{r: r, req: make(chan []byte), resp: make(chan fillResult, 1)}
}

// fill reads into buf until it is full, the reader ends (io.EOF, or
// io.ErrUnexpectedEOF after some bytes, as io.ReadFull) or fails, or ctx
// ends (its cause). After ctx ended, the source and buf must not be used.
func (s *source) fill(ctx context.Context, buf []byte) (int, error) {
	if s.lost.Load() {
		return 0, errors.New("s3dest: internal error: the source was abandoned")
	}
	if !s.started {
		s.started = true
		go s.run()
	}
	select {
	case s.req <- buf:
	case <-ctx.Done():
		s.abandon()
		return 0, context.Cause(ctx)
	}
	select {
	case r := <-s.resp:
		if r.panic != nil {
			s.lost.Store(true)
			panic(r.panic)
		}
		return r.n, r.err
	case <-ctx.Done():
		s.abandon()
		return 0, context.Cause(ctx)
	}
}

// abandon gives up on the source: its goroutine ends when the Read under
// way returns.
func (s *source) abandon() {
	if !s.lost.Swap(true) {
		close(s.req)
	}
}

// close ends the source's goroutine; the reader is not closed (it is the
// caller's).
func (s *source) close() { s.abandon() }

func (s *source) run() {
	defer func() {
		// A reader that panics: on the caller's goroutine, where a recover
		// of the caller's can see it, not here, where it would end the
		// program.
		if p := recover(); p != nil {
			s.resp <- fillResult{panic: p}
		}
	}()
	for buf := range s.req {
		n, err := s.readFull(buf)
		s.resp <- fillResult{n: n, err: err}
	}
}

// readFull is io.ReadFull with a bound on empty reads and a stop when the
// source is abandoned.
func (s *source) readFull(buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) && !s.lost.Load() {
		m, err := s.r.Read(buf[n:])
		if m < 0 || m > len(buf)-n {
			return n, errors.New("the reader returned an impossible byte count")
		}
		n += m
		if err != nil && err != io.EOF {
			// The reader's failure, no answer of the server. Its
			// io.ErrUnexpectedEOF too: its data was cut short (a gzip
			// stream, an HTTP body), never the end of the stream this
			// method reports with io.ErrUnexpectedEOF.
			err = &callerError{err}
		}
		switch {
		case n == len(buf) && (err == nil || err == io.EOF):
			return n, nil
		case err == io.EOF && n > 0:
			return n, io.ErrUnexpectedEOF
		case err != nil:
			return n, err
		case m == 0:
			if empty++; empty >= maxEmptyReads {
				return n, io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
	if n < len(buf) {
		return n, errors.New("abandoned")
	}
	return n, nil
}

// isNil reports whether v is nil or a nil pointer, map, slice, chan or
// func in an interface: a reader or writer that would panic on first use.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

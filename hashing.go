package s3dest

// hashing is a verifier fed by a goroutine of its own; hashDepth buffers
// circulate between the reader and it.
type hashing struct {
	v      *verifier
	free   chan *[]byte
	chunks chan hashChunk
	done   chan struct{}
}

type hashChunk struct {
	bp    *[]byte
	chunk []byte
}

const hashDepth = 4

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
func (h *hashing) buffer() *[]byte { return <-h.free }

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
	for {
		select {
		case bp := <-h.free:
			copyBufs.Put(bp)
		default:
			return
		}
	}
}

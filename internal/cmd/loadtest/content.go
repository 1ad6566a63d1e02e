package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
)

// Object contents are generated, not stored: a version is its id and size,
// and its bytes are a pure function of (run seed, id, offset), so that the
// ledger holds the exact bytes of every version in 48 bytes and any range
// of them can be regenerated to compare or to explain a mismatch.

const genBlock = 64 << 10 // generation granularity: random access in 64 KiB blocks

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// version is one content an object may hold.
type version struct {
	id   uint64
	size int64
	sum  [sha256.Size]byte
	crc  string // CRC32C, base64, as Stat reports it ("CRC32C:" + crc)
	put  string // how it was written: "bytes" or "stream"
}

func (v *version) String() string {
	if v == nil {
		return "absent"
	}
	return fmt.Sprintf("v%d(%d B)", v.id, v.size)
}

// same reports whether two candidates hold the same bytes (nil: absent).
func same(a, b *version) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.size == b.size && a.sum == b.sum
}

type generator struct{ seed uint64 }

// block fills p (at most genBlock bytes) with block b of version id.
func (g generator) block(id uint64, b int64, p []byte) {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[0:], g.seed)
	binary.LittleEndian.PutUint64(s[8:], id)
	binary.LittleEndian.PutUint64(s[16:], uint64(b))
	c := rand.NewChaCha8(s)
	_, _ = c.Read(p)
}

// readAt fills p with the bytes of version id from off on.
func (g generator) readAt(id uint64, off int64, p []byte) {
	var tmp [genBlock]byte
	for len(p) > 0 {
		b, in := off/genBlock, off%genBlock
		g.block(id, b, tmp[:])
		n := copy(p, tmp[in:])
		p, off = p[n:], off+int64(n)
	}
}

func (g generator) bytes(id uint64, size int64) []byte {
	p := make([]byte, size)
	g.readAt(id, 0, p)
	return p
}

// newVersion describes the content id of size bytes, with its digests.
func (g generator) newVersion(id uint64, size int64, how string) *version {
	h, c := sha256.New(), crc32.New(castagnoli)
	w := io.MultiWriter(h, c)
	var tmp [genBlock]byte
	for off := int64(0); off < size; off += genBlock {
		n := min(genBlock, size-off)
		g.block(id, off/genBlock, tmp[:n])
		_, _ = w.Write(tmp[:n])
	}
	v := &version{id: id, size: size, put: how}
	h.Sum(v.sum[:0])
	v.crc = base64.StdEncoding.EncodeToString(c.Sum(nil))
	return v
}

// stream delivers a version as a reader of unknown length (no Len, Seek,
// ReadAt, Size), in reads of random lengths, sometimes empty, sometimes
// with io.EOF on the last bytes, as pipes and decompressors do.
type stream struct {
	g        generator
	id       uint64
	size     int64
	off      int64
	rng      *rand.Rand
	buf      [genBlock]byte
	bufBlock int64
}

func newStream(g generator, id uint64, size int64, rng *rand.Rand) *stream {
	return &stream{g: g, id: id, size: size, rng: rng, bufBlock: -1}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.off >= s.size {
		return 0, io.EOF
	}
	if len(p) == 0 || s.rng.IntN(50) == 0 {
		return 0, nil // allowed, discouraged: Put must cope
	}
	want := len(p)
	switch s.rng.IntN(4) {
	case 0:
		want = 1 + s.rng.IntN(min(len(p), 512))
	case 1:
		want = 1 + s.rng.IntN(len(p))
	}
	n := 0
	for n < want && s.off < s.size {
		b, in := s.off/genBlock, s.off%genBlock
		if b != s.bufBlock {
			s.g.block(s.id, b, s.buf[:])
			s.bufBlock = b
		}
		end := min(int64(genBlock), in+int64(want-n), s.size-b*genBlock)
		m := copy(p[n:], s.buf[in:end])
		n += m
		s.off += int64(m)
	}
	if s.off >= s.size && s.rng.IntN(2) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// sink is what Get writes to: it keeps the bytes (to compare them, and to
// say where they differ) and hashes them.
type sink struct {
	buf bytes.Buffer
	h   hash.Hash
}

func newSink() *sink { return &sink{h: sha256.New()} }

func (s *sink) reset() { s.buf.Reset(); s.h.Reset() }

func (s *sink) Write(p []byte) (int, error) {
	s.h.Write(p)
	return s.buf.Write(p)
}

func (s *sink) sum() (out [sha256.Size]byte) {
	s.h.Sum(out[:0])
	return out
}

// matches reports whether the sink holds exactly version v.
func (s *sink) matches(v *version) bool {
	return v != nil && int64(s.buf.Len()) == v.size && s.sum() == v.sum
}

// matchesRange reports whether the sink holds bytes [off, off+len) of v.
func (s *sink) matchesRange(g generator, v *version, off int64) bool {
	if v == nil || off+int64(s.buf.Len()) > v.size {
		return false
	}
	want := make([]byte, s.buf.Len())
	g.readAt(v.id, off, want)
	return bytes.Equal(want, s.buf.Bytes())
}

// diff describes how the sink differs from v at off: the first differing
// offset and the bytes there.
func (s *sink) diff(g generator, v *version, off int64) string {
	if v == nil {
		return fmt.Sprintf("got %d bytes, the object must be absent", s.buf.Len())
	}
	got := s.buf.Bytes()
	n := min(int64(len(got)), v.size-off)
	if n < 0 {
		n = 0
	}
	want := make([]byte, n)
	g.readAt(v.id, off, want)
	for i := range want {
		if got[i] != want[i] {
			return fmt.Sprintf("vs %v: %d bytes, first difference at offset %d (got %#02x, want %#02x, xor %#02x)",
				v, len(got), off+int64(i), got[i], want[i], got[i]^want[i])
		}
	}
	return fmt.Sprintf("vs %v: %d bytes, want %d; the common bytes agree", v, len(got), v.size-off)
}

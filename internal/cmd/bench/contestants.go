package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
)

type bench struct {
	d                *s3dest.Destination
	opts             []s3dest.Option
	size, part       int64
	conc             int
	block            []byte // 1 MiB of random bytes; objects repeat it
	smallD, smallRaw *s3dest.Destination
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crcHeader(b []byte) *string {
	sum := crc32.Checksum(b, castagnoli)
	return aws.String(base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum)))
}

// stream delivers n bytes repeating block, with no Len, Seek or ReadAt:
// a stream of unknown length that allocates nothing.
type stream struct {
	block []byte
	off   int
	n     int64
}

func (s *stream) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	m := copy(p[:min(int64(len(p)), s.n)], s.block[s.off:])
	s.off = (s.off + m) % len(s.block)
	s.n -= int64(m)
	return m, nil
}

func (b *bench) key(name string) string { return b.d.Prefix() + name }

// puts runs the Put contestants; with setupOnly it only stores the object
// the Get contestants read.
func (b *bench) puts(ctx context.Context, round int, setupOnly bool) []result {
	mb := func(name, note string, fn func() (time.Duration, error)) contestant {
		return contestant{name: name, note: note, units: float64(b.size), unit: "MB/s", fn: fn}
	}
	fromMemory := mb("raw PutObject from memory, CRC32C", "holds the whole object", func() (time.Duration, error) {
		data := bytes.Repeat(b.block, int(b.size/int64(len(b.block))))
		start := time.Now()
		_, err := b.d.Client().PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(b.d.Bucket()), Key: aws.String(b.key("raw-put")), Body: bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))), ChecksumCRC32C: crcHeader(data),
		})
		return time.Since(start), err
	})
	if setupOnly {
		runAll("put", round, []contestant{fromMemory})
		return nil
	}
	raw := func(mode checksumMode) func() (time.Duration, error) {
		return timed(func() error {
			return b.rawMultipart(ctx, b.key("raw-multipart"), &stream{block: b.block, n: b.size}, mode)
		})
	}
	return runAll("put", round, []contestant{
		mb("s3dest Put, stream of unknown length", "", timed(func() error {
			return b.d.Put(ctx, "s3dest-put", &stream{block: b.block, n: b.size})
		})),
		mb("raw multipart loop, same parts, full-object CRC32C", "as s3dest", raw(crcFull)),
		mb("raw multipart loop, same parts, CRC32C", "composite checksum", raw(crcComposite)),
		mb("raw multipart loop, same parts, no checksum", "no integrity check", raw(crcNone)),
		fromMemory,
	})
}

type checksumMode int

const (
	crcNone      checksumMode = iota
	crcComposite              // CRC32C on each part, S3's default COMPOSITE type
	crcFull                   // and a FULL_OBJECT CRC32C computed while reading, as s3dest does
)

// rawMultipart is a plain multipart loop with the SDK: conc+1 reused
// buffers, conc parts in flight, each with a CRC32C unless mode is crcNone.
func (b *bench) rawMultipart(ctx context.Context, key string, r io.Reader, mode checksumMode) error {
	c := b.d.Client()
	bkt := aws.String(b.d.Bucket())
	in := &s3.CreateMultipartUploadInput{Bucket: bkt, Key: &key}
	withCRC := mode != crcNone
	if withCRC {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	}
	if mode == crcFull {
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	var full uint32
	created, err := c.CreateMultipartUpload(ctx, in)
	if err != nil {
		return err
	}
	id := created.UploadId
	bufs := make(chan []byte, b.conc+1)
	for range b.conc + 1 {
		bufs <- make([]byte, b.part)
	}
	sem := make(chan struct{}, b.conc)
	var mu sync.Mutex
	var parts []types.CompletedPart
	var first error
	var wg sync.WaitGroup
	for n := int32(1); ; n++ {
		buf := <-bufs
		m, err := io.ReadFull(r, buf)
		if m == 0 {
			bufs <- buf
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			first = err
			break
		}
		if mode == crcFull {
			full = crc32.Update(full, castagnoli, buf[:m])
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(n int32, part []byte) {
			defer func() { bufs <- buf; <-sem; wg.Done() }()
			in := &s3.UploadPartInput{Bucket: bkt, Key: &key, UploadId: id, PartNumber: aws.Int32(n),
				Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part)))}
			if withCRC {
				in.ChecksumCRC32C = crcHeader(part)
			}
			out, err := c.UploadPart(ctx, in)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				first = err
				return
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32C: in.ChecksumCRC32C})
		}(n, buf[:m])
		if m < len(buf) {
			break
		}
	}
	wg.Wait()
	if first != nil {
		_, _ = c.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: bkt, Key: &key, UploadId: id})
		return first
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	done := &s3.CompleteMultipartUploadInput{Bucket: bkt, Key: &key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
	if mode == crcFull {
		done.ChecksumType = types.ChecksumTypeFullObject
		done.ChecksumCRC32C = aws.String(base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, full)))
	}
	_, err = c.CompleteMultipartUpload(ctx, done)
	return err
}

// gets reads the object the raw PutObject stored (it has a CRC32C on every
// server) and the one s3dest stored in parts.
func (b *bench) gets(ctx context.Context, round int) []result {
	checksum := func(name string) string {
		fi, err := b.d.Stat(ctx, name)
		if err != nil {
			log.Fatal(err)
		}
		if fi.Checksum == "" {
			return "no whole-object checksum: length checked only"
		}
		return "verifies " + fi.Checksum[:strings.IndexByte(fi.Checksum, ':')]
	}
	mb := func(name, note string, fn func() error) contestant {
		return contestant{name: name, note: note, units: float64(b.size), unit: "MB/s", fn: timed(fn)}
	}
	rawGet := func(mode types.ChecksumMode) func() error {
		return func() error {
			out, err := b.d.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.d.Bucket()), Key: aws.String(b.key("raw-put")), ChecksumMode: mode})
			if err != nil {
				return err
			}
			defer out.Body.Close()
			n, err := io.Copy(io.Discard, out.Body)
			if err == nil && n != b.size {
				err = fmt.Errorf("read %d bytes of %d", n, b.size)
			}
			return err
		}
	}
	cs := []contestant{
		mb("s3dest Get (verified)", checksum("raw-put"), func() error { return b.d.Get(ctx, "raw-put", io.Discard) }),
		mb("raw GetObject + io.Copy", "no check", rawGet("")),
		mb("raw GetObject + io.Copy, SDK validation", "ChecksumMode ENABLED", rawGet(types.ChecksumModeEnabled)),
	}
	if _, err := b.d.Stat(ctx, "s3dest-put"); err == nil {
		cs = append(cs, mb("s3dest Get of its multipart object", checksum("s3dest-put"), func() error {
			return b.d.Get(ctx, "s3dest-put", io.Discard)
		}))
	}
	return runAll("get", round, cs)
}

func (b *bench) cleanup(ctx context.Context) {
	if err := b.d.DeleteMany(ctx, []string{"s3dest-put", "raw-multipart", "raw-put"}); err != nil {
		log.Fatal(err)
	}
}

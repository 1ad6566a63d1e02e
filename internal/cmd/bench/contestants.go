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
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"

	"github.com/s3dest/s3dest"
)

type bench struct {
	f     *fleet
	size  int64
	block []byte // 1 MiB of random bytes; objects repeat it

	// Small objects (small.go).
	names            []string
	fixture, smallD  *s3dest.Destination
	fixtureChecksum  string // what the fixture's HEAD reports
	fixtureMinioNote string
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

func (b *bench) stream() *stream { return &stream{block: b.block, n: b.size} }

// largeKey is the key of a large object; s3dest's Destinations have the
// prefix "bench/large/".
func largeKey(name string) string { return "bench/large/" + name }

// puts runs the large Put contestants of one configuration: "same" (every
// library parts of -part MiB, -concurrency in flight) or "defaults" (each
// library as it comes).
func (b *bench) puts(ctx context.Context, round int, cfg string) []result {
	f := b.f
	mb := func(fam, name, note string, fn func() (time.Duration, error)) contestant {
		return contestant{fam: fam, name: name, note: note, units: float64(b.size), unit: "MB/s", fn: fn}
	}
	bkt := aws.String(f.bucket)
	tmUpload := func(tm *transfermanager.Client) func() error {
		return func() error {
			_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: bkt, Key: aws.String(largeKey("tm-put")), Body: b.stream()})
			return err
		}
	}
	minioPut := func(opts minio.PutObjectOptions) func() error {
		return func() error {
			opts.ContentType = "application/octet-stream"
			opts.Checksum = minio.ChecksumFullObjectCRC32C
			opts.DisableContentSha256 = f.minioUnsigned
			info, err := f.mc.PutObject(ctx, f.bucket, largeKey("minio-put"), b.stream(), -1, opts)
			if err == nil && info.Size != b.size {
				err = fmt.Errorf("minio-go stored %d bytes of %d", info.Size, b.size)
			}
			return err
		}
	}
	unsigned := ""
	if f.minioUnsigned {
		unsigned = "; UNSIGNED-PAYLOAD"
	}
	var cs []contestant
	switch cfg {
	case "same":
		group := fmt.Sprintf("put %d MiB×%d", *partMiB, *conc)
		cs = []contestant{
			mb(famS3dest, "s3dest Put, stream of unknown length", "full-object CRC32C", timed(func() error {
				return f.large.Put(ctx, "s3dest-put", b.stream())
			})),
			mb(famSDK, "raw multipart loop, full-object CRC32C", "as s3dest, by hand", timed(func() error {
				return b.rawMultipart(ctx, largeKey("raw-multipart"), b.stream(), *partMiB*mib, *conc)
			})),
			mb(famTM, "transfer manager UploadObject, stream", "CRC32C per part (composite)", timed(tmUpload(f.tm))),
			mb(famMinio, "minio-go PutObject, size -1", "ConcurrentStreamParts; full-object CRC32C"+unsigned, timed(minioPut(minio.PutObjectOptions{
				PartSize: uint64(*partMiB * mib), NumThreads: uint(*conc), ConcurrentStreamParts: true}))),
			b.fromMemory(ctx),
		}
		return b.runAll(group, round, cs)
	case "defaults":
		cs = []contestant{
			mb(famS3dest, "s3dest Put, stream, defaults", "16 MiB × 4", timed(func() error {
				return f.largeDefault.Put(ctx, "s3dest-put", b.stream())
			})),
			mb(famTM, "transfer manager UploadObject, defaults", "8 MiB × 5", timed(tmUpload(f.tmDefault))),
			mb(famMinio, "minio-go PutObject, size -1, defaults", "one part buffer of ~560 MiB, parts one at a time"+unsigned, timed(minioPut(minio.PutObjectOptions{}))),
		}
		return b.runAll("put defaults", round, cs)
	}
	log.Fatalf("-configs: unknown configuration %q (want same, defaults)", cfg)
	return nil
}

// fromMemory is one PutObject of the whole object from memory: the object
// the Get contestants read.
func (b *bench) fromMemory(ctx context.Context) contestant {
	return contestant{fam: famSDK, name: "raw PutObject from memory, CRC32C", note: "holds the whole object",
		units: float64(b.size), unit: "MB/s", fn: func() (time.Duration, error) {
			data := bytes.Repeat(b.block, int(b.size/int64(len(b.block))))
			start := time.Now()
			_, err := b.f.sdk.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(b.f.bucket), Key: aws.String(largeKey("raw-put")), Body: bytes.NewReader(data),
				ContentLength: aws.Int64(int64(len(data))), ChecksumCRC32C: crcHeader(data),
			})
			return time.Since(start), err
		}}
}

// rawMultipart is a plain multipart loop with the SDK, checksums as s3dest
// sends them: conc+1 reused buffers, conc parts in flight, a CRC32C on
// each part and a FULL_OBJECT CRC32C computed while reading.
func (b *bench) rawMultipart(ctx context.Context, key string, r io.Reader, part int64, conc int) error {
	c := b.f.sdk
	bkt := aws.String(b.f.bucket)
	var full uint32
	created, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bkt, Key: &key,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		return err
	}
	id := created.UploadId
	bufs := make(chan []byte, conc+1)
	for range conc + 1 {
		bufs <- make([]byte, part)
	}
	sem := make(chan struct{}, conc)
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
		full = crc32.Update(full, castagnoli, buf[:m])
		sem <- struct{}{}
		wg.Add(1)
		go func(n int32, part []byte) {
			defer func() { bufs <- buf; <-sem; wg.Done() }()
			in := &s3.UploadPartInput{Bucket: bkt, Key: &key, UploadId: id, PartNumber: aws.Int32(n),
				Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part))), ChecksumCRC32C: crcHeader(part)}
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
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bkt, Key: &key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, ChecksumType: types.ChecksumTypeFullObject,
		ChecksumCRC32C: aws.String(base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, full)))})
	return err
}

// gets reads the object the raw PutObject stored (it has a CRC32C on every
// server), and the one s3dest stored in parts.
func (b *bench) gets(ctx context.Context, round int) []result {
	f := b.f
	key := largeKey("raw-put")
	if _, err := f.large.Stat(ctx, "raw-put"); err != nil {
		// -only get, or -contestants without sdk: store it, untimed.
		if _, err := measure(b.fromMemory(ctx).fn, f.conns[famSDK], ""); err != nil {
			log.Fatal(err)
		}
	}
	checksum := func(name string) string {
		fi, err := f.large.Stat(ctx, name)
		if err != nil {
			log.Fatal(err)
		}
		if fi.Checksum == "" {
			return "no whole-object checksum: length checked only"
		}
		return "verifies " + fi.Checksum[:strings.IndexByte(fi.Checksum, ':')]
	}
	mb := func(fam, name, note string, fn func() error) contestant {
		return contestant{fam: fam, name: name, note: note, units: float64(b.size), unit: "MB/s", fn: timed(fn)}
	}
	drain := func(r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		if err == nil && n != b.size {
			err = fmt.Errorf("read %d bytes of %d", n, b.size)
		}
		return err
	}
	rawGet := func(mode types.ChecksumMode) func() error {
		return func() error {
			out, err := f.sdk.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), ChecksumMode: mode})
			if err != nil {
				return err
			}
			defer out.Body.Close()
			return drain(out.Body)
		}
	}
	cs := []contestant{
		mb(famS3dest, "s3dest Get (verified)", checksum("raw-put"), func() error { return f.large.Get(ctx, "raw-put", io.Discard) }),
		mb(famSDK, "raw GetObject + io.Copy, SDK validation", "ChecksumMode ENABLED", rawGet(types.ChecksumModeEnabled)),
		mb(famSDK, "raw GetObject + io.Copy", "no check", rawGet("")),
		mb(famTM, "transfer manager GetObject + io.Copy", "SDK validation per part; a one-part object is one buffer", func() error {
			out, err := f.tm.GetObject(ctx, &transfermanager.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
			if err != nil {
				return err
			}
			return drain(out.Body)
		}),
		mb(famMinio, "minio-go GetObject + io.Copy", b.minioNote(ctx, key), func() error {
			obj, err := f.mc.GetObject(ctx, f.bucket, key, minio.GetObjectOptions{Checksum: true})
			if err != nil {
				return err
			}
			defer obj.Close()
			return drain(obj)
		}),
	}
	if _, err := f.large.Stat(ctx, "s3dest-put"); err == nil {
		cs = append(cs, mb(famS3dest, "s3dest Get of its multipart object", checksum("s3dest-put"), func() error {
			return f.large.Get(ctx, "s3dest-put", io.Discard)
		}))
	}
	return b.runAll("get", round, cs)
}

// minioNote says whether minio-go's GetObject with Checksum verifies the
// object: only when the server calls its checksum FULL_OBJECT.
func (b *bench) minioNote(ctx context.Context, key string) string {
	out, err := b.f.sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.f.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		log.Fatal(err)
	}
	if out.ChecksumType == types.ChecksumTypeFullObject {
		return "Checksum: true, verifies the full-object checksum"
	}
	return fmt.Sprintf("Checksum: true, but no check: the server's checksum type is %q, not FULL_OBJECT", out.ChecksumType)
}

func (b *bench) cleanupLarge(ctx context.Context) {
	if err := b.f.large.DeleteMany(ctx, []string{"s3dest-put", "raw-multipart", "raw-put", "tm-put", "minio-put"}); err != nil {
		log.Fatal(err)
	}
}

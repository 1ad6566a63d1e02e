package s3dest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// Benchmarks against the in-process fake. Uploads go to a server that reads
// and drops the parts (discardUploads), so that they measure the client;
// downloads read an object the fake holds in memory. Besides MB/s they
// report cpu-ms/MiB, the process's CPU time (client and in-process server)
// per MiB moved, which a busy shared machine disturbs less than wall time.
// internal/cmd/bench compares the same contestants on a real server;
// docs/BENCHMARKS.md has the figures.

const benchSize, benchPart, benchConc = 64 << 20, 16 << 20, 4

// cpuMeter reports the process's CPU time per MiB moved.
func cpuMeter(b *testing.B, perOp int64) (stop func()) {
	now := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	flt := func() int64 {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return ru.Minflt
	}
	start, f0 := now(), flt()
	return func() {
		if b.N > 0 {
			used := now() - start
			b.ReportMetric(float64(used.Microseconds())/1000/float64(int64(b.N)*perOp>>20), "cpu-ms/MiB")
			b.ReportMetric(float64(flt()-f0)/float64(b.N), "faults/op")
		}
	}
}

func benchDest(b *testing.B, hook s3test.Hook, opts ...s3dest.Option) *s3dest.Destination {
	b.Helper()
	// Start every benchmark from a heap returned to the OS: otherwise the
	// first one pays the page faults of growing the heap and the next
	// ones run in the memory it left (~3,000 faults per 64 MiB here).
	debug.FreeOSMemory()
	srv := s3test.New(b)
	if err := srv.CreateBucket(bucket); err != nil {
		b.Fatal(err)
	}
	srv.SetHook(hook)
	d, err := s3dest.New(b.Context(), bucket, append([]s3dest.Option{s3dest.WithServerName(srv.Endpoint),
		s3dest.WithCredentials(s3test.AccessKey, s3test.SecretKey), s3dest.WithRegion("us-east-1"),
		s3dest.WithPartSize(benchPart), s3dest.WithConcurrency(benchConc)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func BenchmarkPutStream(b *testing.B) {
	d := benchDest(b, discardUploads)
	block := randomBytes(1<<20, 1)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	defer cpuMeter(b, benchSize)()
	for b.Loop() {
		if err := d.Put(b.Context(), "vol", unknownLength{&pattern{block: block, n: benchSize}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutFile puts a file that fits in one part: hashed, then sent
// from the file, in one PutObject (on a goroutine of its own, so that a
// read that blocks cannot hold Put past ctx).
func BenchmarkPutFile(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"64KiB", 64 << 10}, {"12MiB", 12 << 20}} {
		size := c.size
		b.Run(c.name, func(b *testing.B) {
			d := benchDest(b, discardPuts)
			path := filepath.Join(b.TempDir(), "file")
			if err := os.WriteFile(path, randomBytes(size, 3), 0o600); err != nil {
				b.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			defer cpuMeter(b, int64(size))()
			for b.Loop() {
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					b.Fatal(err)
				}
				if err := d.Put(b.Context(), "vol", f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discardPuts is discardUploads for single PutObjects too: it reads the
// body and answers its CRC32C back, as S3 does.
func discardPuts(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPut || r.URL.Query().Has("partNumber") || r.Header.Get("X-Amz-Copy-Source") != "" {
		return discardUploads(w, r)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("ETag", `"0123"`)
	w.Header().Set("X-Amz-Checksum-Crc32c", r.Header.Get("X-Amz-Checksum-Crc32c"))
	return true
}

// BenchmarkPutRawMultipart is a plain SDK multipart loop with the same
// part size, concurrency and CRC32C headers, and concurrency+1 buffers
// allocated for each upload and reused across its parts.
func BenchmarkPutRawMultipart(b *testing.B) {
	d := benchDest(b, discardUploads)
	c := d.Client()
	block := randomBytes(1<<20, 1)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	defer cpuMeter(b, benchSize)()
	for b.Loop() {
		bufs := make(chan []byte, benchConc+1) // per upload, as s3dest's
		for range benchConc + 1 {
			bufs <- make([]byte, benchPart)
		}
		src := &pattern{block: block, n: benchSize}
		up, err := c.CreateMultipartUpload(b.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("vol")})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		var parts []types.CompletedPart
		var wg sync.WaitGroup
		sem := make(chan struct{}, benchConc)
		for n := int32(1); ; n++ {
			buf := <-bufs
			m, _ := io.ReadFull(src, buf)
			if m == 0 {
				bufs <- buf
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { bufs <- buf; <-sem; wg.Done() }()
				out, err := c.UploadPart(b.Context(), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("vol"),
					UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(buf[:m]),
					ContentLength: aws.Int64(int64(m)), ChecksumCRC32C: aws.String(crc32cOf(buf[:m]))})
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
				mu.Unlock()
			}()
		}
		wg.Wait()
		if _, err := c.CompleteMultipartUpload(b.Context(), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket),
			Key: aws.String("vol"), UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			b.Fatal(err)
		}
	}
}

func crc32cOf(b []byte) string {
	sum := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

// getBench stores a benchSize object with a CRC32C and returns a
// destination to read it from.
func getBench(b *testing.B) *s3dest.Destination {
	d := benchDest(b, nil)
	if err := d.Put(b.Context(), "vol", bytes.NewReader(randomBytes(benchSize, 2))); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ReportAllocs()
	return d
}

func BenchmarkGetVerified(b *testing.B) {
	d := getBench(b)
	defer cpuMeter(b, benchSize)()
	for b.Loop() {
		if err := d.Get(b.Context(), "vol", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRaw(b *testing.B) {
	d := getBench(b)
	defer cpuMeter(b, benchSize)()
	for b.Loop() {
		rawGet(b, d)
	}
}

// rawGet reads the object with a plain GetObject (the SDK's own response
// checksum validation, no s3dest checks).
func rawGet(b *testing.B, d *s3dest.Destination) {
	out, err := d.Client().GetObject(b.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("vol")})
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, out.Body)
	out.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGetVerifiedBy compares what Get checks a 64 MiB body against on
// each kind of server: a full-object CRC32C (AWS, versitygw), a composite
// CRC32C (R2, some MinIO), and the ETag where the server keeps no checksum
// (MD5 of the whole object, or of the part MD5s), with the unverified raw
// GetObject alongside. docs/INTEGRITY.md quotes the figures.
func BenchmarkGetVerifiedBy(b *testing.B) {
	for _, tc := range []struct {
		name   string
		hook   s3test.Hook
		single bool
	}{
		{"full-CRC32C", nil, false},
		{"composite-CRC32C", checksumModes["composite"], false},
		{"ETag-MD5-of-part-MD5s", noChecksums, false},
		{"ETag-MD5", noChecksums, true},
		{"raw-GetObject", nil, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := benchDest(b, tc.hook)
			data := randomBytes(benchSize, 2)
			var err error
			if tc.single {
				// One PutObject: the SDK alone, as s3dest cuts at 5 GiB.
				_, err = d.Client().PutObject(b.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("vol"),
					Body: bytes.NewReader(data)})
			} else {
				err = d.Put(b.Context(), "vol", bytes.NewReader(data))
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(benchSize)
			b.ReportAllocs()
			defer cpuMeter(b, benchSize)()
			for b.Loop() {
				if tc.name == "raw-GetObject" {
					rawGet(b, d)
				} else if err := d.Get(b.Context(), "vol", io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkManyPuts runs 64 multipart Puts of 40 MiB at once on one
// Destination, at the default part size, and reports the peak heap and the
// most part-buffer bytes the Puts held together: with the default memory
// limit (256 MiB) and without one, where each Put holds up to three 16 MiB
// buffers.
func BenchmarkManyPuts(b *testing.B) {
	const puts, size = 64, 40 << 20
	for name, opts := range map[string][]s3dest.Option{
		"limit=default": nil,
		"limit=none":    {s3dest.WithMemoryLimit(1 << 40)},
	} {
		b.Run(name, func(b *testing.B) {
			d := benchDest(b, discardUploads, opts...)
			block := randomBytes(1<<20, 1)
			b.SetBytes(puts * size)
			peak := peakHeap(b)
			for b.Loop() {
				var wg sync.WaitGroup
				for range puts {
					wg.Go(func() {
						if err := d.Put(b.Context(), "vol", unknownLength{&pattern{block: block, n: size}}); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
			held, _ := s3dest.MemoryPeakForTest(d)
			b.ReportMetric(float64(held)/(1<<20), "peak-buffers-MiB")
		})
	}
}

// peakHeap samples the live heap every 2 ms until the returned function
// is called, which stops it and returns the largest growth seen.
func peakHeap(b *testing.B) func() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var top atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				metrics.Read(sample)
				if v := sample[0].Value.Uint64(); v > base && v-base > top.Load() {
					top.Store(v - base)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return top.Load()
	}
}

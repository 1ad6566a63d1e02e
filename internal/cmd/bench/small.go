package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

// Small objects. Every round runs the phases Put, Stat, Get, List and
// Delete, each phase every contestant in turn (the order reversed on even
// rounds), -workers goroutines sharing the contestant's one client. Put
// and Delete work on the contestant's own objects (bench/small/FAMILY/);
// Stat, Get and List read the same fixture for all, stored once by s3dest
// before the first round (bench/small/fixture/), so that every reader finds
// the same whole-object CRC32C to verify.

func smallKey(dir, name string) string { return "bench/small/" + dir + "/" + name }

func (b *bench) smallSetup(ctx context.Context) {
	var err error
	if b.fixture, err = b.f.dest(ctx, "bench/small/fixture"); err != nil {
		log.Fatal(err)
	}
	if b.smallD, err = b.f.dest(ctx, "bench/small/"+famS3dest); err != nil {
		log.Fatal(err)
	}
	b.names = make([]string, *small)
	for i := range b.names {
		b.names[i] = fmt.Sprintf("obj-%05d", i)
	}
	data := b.block[:*smallKiB<<10]
	if err := parallel(b.names, func(name string) error { return b.fixture.Put(ctx, name, bytes.NewReader(data)) }); err != nil {
		log.Fatal(err)
	}
	fi, err := b.fixture.Stat(ctx, b.names[0])
	if err != nil {
		log.Fatal(err)
	}
	b.fixtureChecksum = fi.Checksum
	b.fixtureMinioNote = b.minioNote(ctx, smallKey("fixture", b.names[0]))
}

func (b *bench) smallTeardown(ctx context.Context) {
	for _, dir := range []string{"fixture", famS3dest, famSDK, famTM, famMinio} {
		d, err := b.f.dest(ctx, "bench/small/"+dir)
		if err == nil {
			err = d.DeleteMany(ctx, b.names)
		}
		if err != nil {
			log.Fatal(err)
		}
	}
}

func (b *bench) smalls(ctx context.Context, round int) []result {
	f := b.f
	bkt := aws.String(f.bucket)
	data := b.block[:*smallKiB<<10]
	objs := func(fam, name, note string, fn func(name string) error) contestant {
		return contestant{fam: fam, name: name, note: note, units: float64(len(b.names)), unit: "obj/s",
			fn: timed(func() error { return parallel(b.names, fn) })}
	}
	verifies := "verifies " + b.fixtureChecksum[:max(strings.IndexByte(b.fixtureChecksum, ':'), 0)]
	var rs []result

	rs = append(rs, b.runAll("small put", round, []contestant{
		objs(famS3dest, "s3dest Put", "CRC32C header", func(name string) error {
			return b.smallD.Put(ctx, name, bytes.NewReader(data))
		}),
		objs(famSDK, "raw PutObject", "CRC32C header", func(name string) error {
			_, err := f.sdk.PutObject(ctx, &s3.PutObjectInput{Bucket: bkt, Key: aws.String(smallKey(famSDK, name)),
				Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ChecksumCRC32C: crcHeader(data)})
			return err
		}),
		objs(famTM, "transfer manager UploadObject", "CRC32C computed by the SDK", func(name string) error {
			_, err := f.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: bkt, Key: aws.String(smallKey(famTM, name)),
				Body: bytes.NewReader(data)})
			return err
		}),
		// minio-go's own CRC32C (Checksum: ChecksumCRC32C) goes in a
		// trailer, which versitygw v1.8.0 refuses over plain HTTP ("The
		// CRC32C you specified did not match"): the CRC32C goes as a
		// header, computed per object as for the SDK, the way minio-go
		// takes a precomputed checksum.
		objs(famMinio, "minio-go PutObject", map[bool]string{false: "CRC32C header", true: "CRC32C header; UNSIGNED-PAYLOAD"}[f.minioUnsigned], func(name string) error {
			_, err := f.mc.PutObject(ctx, f.bucket, smallKey(famMinio, name), bytes.NewReader(data), int64(len(data)),
				minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: f.minioUnsigned,
					UserMetadata: map[string]string{"X-Amz-Checksum-Crc32c": *crcHeader(data)}})
			return err
		}),
	})...)

	rs = append(rs, b.runAll("small stat", round, []contestant{
		objs(famS3dest, "s3dest Stat", "checksum mode", func(name string) error {
			_, err := b.fixture.Stat(ctx, name)
			return err
		}),
		objs(famSDK, "raw HeadObject", "ChecksumMode ENABLED", func(name string) error {
			_, err := f.sdk.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bkt, Key: aws.String(smallKey("fixture", name)),
				ChecksumMode: types.ChecksumModeEnabled})
			return err
		}),
		objs(famMinio, "minio-go StatObject", "Checksum: true", func(name string) error {
			_, err := f.mc.StatObject(ctx, f.bucket, smallKey("fixture", name), minio.StatObjectOptions{Checksum: true})
			return err
		}),
	})...)

	drain := func(r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		if err == nil && n != int64(len(data)) {
			err = fmt.Errorf("read %d bytes of %d", n, len(data))
		}
		return err
	}
	rs = append(rs, b.runAll("small get", round, []contestant{
		objs(famS3dest, "s3dest Get", verifies, func(name string) error {
			return b.fixture.Get(ctx, name, io.Discard)
		}),
		objs(famSDK, "raw GetObject + io.Copy", "ChecksumMode ENABLED, SDK validation", func(name string) error {
			out, err := f.sdk.GetObject(ctx, &s3.GetObjectInput{Bucket: bkt, Key: aws.String(smallKey("fixture", name)),
				ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				return err
			}
			defer out.Body.Close()
			return drain(out.Body)
		}),
		objs(famTM, "transfer manager GetObject + io.Copy", "HEAD ?partNumber=1, then GET; SDK validation", func(name string) error {
			out, err := f.tm.GetObject(ctx, &transfermanager.GetObjectInput{Bucket: bkt, Key: aws.String(smallKey("fixture", name))})
			if err != nil {
				return err
			}
			return drain(out.Body)
		}),
		objs(famMinio, "minio-go GetObject + io.Copy", b.fixtureMinioNote, func(name string) error {
			obj, err := f.mc.GetObject(ctx, f.bucket, smallKey("fixture", name), minio.GetObjectOptions{Checksum: true})
			if err != nil {
				return err
			}
			defer obj.Close()
			return drain(obj)
		}),
	})...)

	listed := func(fam, name, note string, list func() (int, error)) contestant {
		return contestant{fam: fam, name: name, note: note, units: float64(len(b.names) * *lists), unit: "obj/s",
			fn: timed(func() error {
				for range *lists {
					n, err := list()
					if err == nil && n != len(b.names) {
						err = fmt.Errorf("listed %d objects, want %d", n, len(b.names))
					}
					if err != nil {
						return err
					}
				}
				return nil
			})}
	}
	note := fmt.Sprintf("%d listings", *lists)
	rs = append(rs, b.runAll("small list", round, []contestant{
		listed(famS3dest, "s3dest List", note+", restore status included", func() (int, error) {
			n := 0
			for _, err := range b.fixture.List(ctx) {
				if err != nil {
					return n, err
				}
				n++
			}
			return n, nil
		}),
		listed(famSDK, "raw ListObjectsV2 paginator, RestoreStatus", note, func() (int, error) {
			n := 0
			p := s3.NewListObjectsV2Paginator(f.sdk, &s3.ListObjectsV2Input{Bucket: bkt, Prefix: aws.String(b.fixture.Prefix()),
				Delimiter: aws.String("/"), OptionalObjectAttributes: []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return n, err
				}
				n += len(page.Contents)
			}
			return n, nil
		}),
		listed(famMinio, "minio-go ListObjects", note, func() (int, error) {
			n := 0
			for o := range f.mc.ListObjects(ctx, f.bucket, minio.ListObjectsOptions{Prefix: b.fixture.Prefix()}) {
				if o.Err != nil {
					return n, o.Err
				}
				n++
			}
			return n, nil
		}),
	})...)

	rs = append(rs, b.runAll("small delete", round, []contestant{
		objs(famS3dest, "s3dest Delete", "one DELETE per object", func(name string) error {
			return b.smallD.Delete(ctx, name)
		}),
		objs(famSDK, "raw DeleteObject", "", func(name string) error {
			_, err := f.sdk.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bkt, Key: aws.String(smallKey(famSDK, name))})
			return err
		}),
		objs(famMinio, "minio-go RemoveObject", "", func(name string) error {
			return f.mc.RemoveObject(ctx, f.bucket, smallKey(famMinio, name), minio.RemoveObjectOptions{})
		}),
	})...)
	return rs
}

// parallel runs fn for every name on -workers goroutines that take the
// next name in turn (no allocation per name, so that the allocations per
// object are the client's), and returns the first error.
func parallel(names []string, fn func(string) error) error {
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make([]error, *workers)
	for w := range *workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(names)) || errs[w] != nil {
					return
				}
				errs[w] = fn(names[i])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

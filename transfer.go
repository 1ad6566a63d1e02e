package s3dest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Put stores r as the object name, with the destination's storage class and
// a CRC32C checksum the server verifies. A reader of unknown length is read
// into memory first; objects are limited to 5 GiB.
func (d *Destination) Put(ctx context.Context, name string, r io.Reader) error {
	key, err := validateName("put", d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, maxSinglePut+1))
	if err != nil {
		return d.wrap("put", key, fmt.Errorf("reading the data to upload: %w", err))
	}
	if n > maxSinglePut {
		return invalid("put", d.bucket, key, "object larger than 5 GiB")
	}
	data := buf.Bytes()
	sum := crc32.Checksum(data, crc32cTable)
	in := &s3.PutObjectInput{
		Bucket:         &d.bucket,
		Key:            &key,
		ContentLength:  aws.Int64(int64(len(data))),
		ChecksumCRC32C: aws.String(crcBase64(sum)),
		ContentType:    aws.String("application/octet-stream"),
	}
	if d.cfg.storageClass != "" {
		in.StorageClass = types.StorageClass(d.cfg.storageClass)
	}
	ctx, idle := d.idleTimeout(ctx)
	defer idle.stop()
	return d.do(ctx, "put", key, 0, func(ctx context.Context, c *s3.Client) error {
		in.Body = &idleReader{bytes.NewReader(data), idle}
		_, err := c.PutObject(ctx, in)
		return err
	})
}

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

func crcBase64(sum uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

// Get writes the object's content to w. The SDK verifies the object's
// checksum, when it has one, as the body streams. An archived object fails at
// once with ErrObjectArchived.
func (d *Destination) Get(ctx context.Context, name string, w io.Writer) error {
	key, err := validateName("get", d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	ctx, idle := d.idleTimeout(ctx)
	defer idle.stop()
	// The body is read inside do, whose context ends when it returns. A
	// failure while streaming is not an API error, so do never retries it
	// after bytes reached w.
	return d.do(ctx, "get", key, 0, func(ctx context.Context, c *s3.Client) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		n, err := io.Copy(idleWriter{w, idle}, out.Body)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil {
				err = cause
			}
			return fmt.Errorf("after %d bytes: %w", n, err)
		}
		if want := aws.ToInt64(out.ContentLength); out.ContentLength != nil && n != want {
			return fmt.Errorf("got %d bytes of %d: the body was cut short", n, want)
		}
		return nil
	})
}

// idleTimer cancels a transfer's context when no byte moved for a while
// (Timeouts.ReadWrite). touch is cheap: it stores a time, and the timer
// re-arms itself from it when it fires early.
type idleTimer struct {
	d      time.Duration
	last   atomic.Int64 // unix nanoseconds of the last progress
	t      *time.Timer
	cancel context.CancelCauseFunc
}

func (d *Destination) idleTimeout(ctx context.Context) (context.Context, *idleTimer) {
	it := &idleTimer{d: d.cfg.timeouts.ReadWrite}
	if it.d <= 0 {
		return ctx, it
	}
	ctx, it.cancel = context.WithCancelCause(ctx)
	it.touch()
	it.t = time.AfterFunc(it.d, it.fire)
	return ctx, it
}

func (it *idleTimer) fire() {
	idle := time.Since(time.Unix(0, it.last.Load()))
	if idle < it.d {
		it.t.Reset(it.d - idle)
		return
	}
	it.cancel(fmt.Errorf("no data moved for %v (read-write-timeout): %w", it.d, context.DeadlineExceeded))
}

func (it *idleTimer) touch() {
	if it.d > 0 {
		it.last.Store(time.Now().UnixNano())
	}
}

func (it *idleTimer) stop() {
	if it.t != nil {
		it.t.Stop()
		it.cancel(nil)
	}
}

// idleReader reports progress of an upload body; it keeps Seek and Len so
// the SDK can still rewind it and size it.
type idleReader struct {
	*bytes.Reader
	it *idleTimer
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	r.it.touch()
	return n, err
}

type idleWriter struct {
	w  io.Writer
	it *idleTimer
}

func (w idleWriter) Write(p []byte) (int, error) {
	w.it.touch()
	return w.w.Write(p)
}

// Progress reports how far one transfer has come.
type Progress struct {
	Name  string // the object name, relative to the prefix
	Done  int64  // bytes moved so far
	Total int64  // bytes in all, -1 when unknown
}

// headChecksum returns the whole-object checksum a HEAD answered with, as
// "ALGORITHM:base64", or "". Composite multipart checksums ("...-N") are not
// whole-object digests and are left out.
func headChecksum(out *s3.HeadObjectOutput) string {
	for _, c := range []struct{ algo, v string }{
		{"CRC64NVME", aws.ToString(out.ChecksumCRC64NVME)},
		{"CRC32C", aws.ToString(out.ChecksumCRC32C)},
		{"CRC32", aws.ToString(out.ChecksumCRC32)},
		{"SHA256", aws.ToString(out.ChecksumSHA256)},
		{"SHA1", aws.ToString(out.ChecksumSHA1)},
	} {
		if c.v != "" && !strings.Contains(c.v, "-") {
			return c.algo + ":" + c.v
		}
	}
	return ""
}

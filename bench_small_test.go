package s3dest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
)

// BenchmarkSmallOps measures the client's own cost of the four calls a
// backup makes by the thousand, 16 KiB objects: s3dest against the raw SDK
// client doing the same, on an HTTP transport that answers at once from
// memory (no network, no server), so that ns/op and allocs/op are the
// client's alone. The bench command (internal/cmd/bench) measures the same
// calls against a real server.
func BenchmarkSmallOps(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<10)
	var crc [4]byte
	binary.BigEndian.PutUint32(crc[:], crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	sum := base64.StdEncoding.EncodeToString(crc[:])
	hc := &http.Client{Transport: cannedS3{data: data, crc: sum}}
	d, err := s3dest.New(b.Context(), bucket, s3dest.WithServerName("http://s3.bench.test"),
		s3dest.WithCredentials("AKID", "SECRET"), s3dest.WithRegion("us-east-1"), s3dest.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	raw := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://s3.bench.test"), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
		}), HTTPClient: hc, RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired})
	key := "bench/obj"
	ops := []struct {
		name        string
		s3dest, sdk func() error
	}{
		{"put", func() error { return d.Put(b.Context(), "obj", bytes.NewReader(data)) },
			func() error {
				_, err := raw.PutObject(b.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: &key,
					Body: bytes.NewReader(data), ChecksumCRC32C: &sum})
				return err
			}},
		{"stat", func() error { _, err := d.Stat(b.Context(), "obj"); return err },
			func() error {
				_, err := raw.HeadObject(b.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: &key,
					ChecksumMode: types.ChecksumModeEnabled})
				return err
			}},
		{"get", func() error { return d.Get(b.Context(), "obj", io.Discard) },
			func() error {
				out, err := raw.GetObject(b.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: &key,
					ChecksumMode: types.ChecksumModeEnabled})
				if err == nil {
					_, err = io.Copy(io.Discard, out.Body)
					out.Body.Close()
				}
				return err
			}},
		{"delete", func() error { return d.Delete(b.Context(), "obj") },
			func() error {
				_, err := raw.DeleteObject(b.Context(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: &key})
				return err
			}},
	}
	for _, op := range ops {
		for _, c := range []struct {
			name string
			fn   func() error
		}{{"s3dest", op.s3dest}, {"sdk", op.sdk}} {
			b.Run(op.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := c.fn(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// cannedS3 answers object requests at once: PUT with the checksum sent,
// GET with data, HEAD with its length and checksum, DELETE with 204.
type cannedS3 struct {
	data []byte
	crc  string
}

func (c cannedS3) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := http.Header{"Etag": {`"0123456789abcdef0123456789abcdef"`}, "X-Amz-Request-Id": {"1"},
		"Last-Modified": {"Mon, 30 Nov 2026 08:00:00 GMT"}}
	resp := &http.Response{StatusCode: http.StatusOK, Header: h, Body: http.NoBody, Request: r}
	switch r.Method {
	case http.MethodPut:
		h["X-Amz-Checksum-Crc32c"] = r.Header["X-Amz-Checksum-Crc32c"]
	case http.MethodGet, http.MethodHead:
		h["X-Amz-Checksum-Crc32c"] = []string{c.crc}
		h["X-Amz-Checksum-Type"] = []string{"FULL_OBJECT"}
		h["Content-Length"] = []string{"16384"}
		resp.ContentLength = int64(len(c.data))
		if r.Method == http.MethodGet {
			resp.Body = io.NopCloser(bytes.NewReader(c.data))
		}
	case http.MethodDelete:
		resp.StatusCode = http.StatusNoContent
	}
	return resp, nil
}

package s3dest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about large
// objects: multipart uploads, ranges across parts, upload cleanup and batch
// deletes.

// Large objects: a stream of unknown length goes up in parts and comes back
// byte-exact, with one whole-object checksum; ranges, batch deletes and
// upload cleanup behave the same on every server.
func TestLargeObjects(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, s3dest.WithPartSize(5<<20), s3dest.WithConcurrency(2))
		data, _ := io.ReadAll(noise(7, 13<<20)) // three parts, the last one short
		if err := d.Put(t.Context(), "big", io.MultiReader(bytes.NewReader(data))); err != nil {
			t.Fatal(err)
		}
		fi, err := d.Stat(t.Context(), "big")
		if err != nil {
			t.Fatal(err)
		}
		wantSum := "CRC32C:" + crc32c(string(data))
		if !tg.multipartChecksums() {
			wantSum = "" // and the ETag is the MD5 of the whole object, which Get checks
		}
		if fi.Size != int64(len(data)) || fi.Checksum != wantSum {
			t.Errorf("Stat: size %d checksum %q, want %d and %q", fi.Size, fi.Checksum, len(data), wantSum)
		}
		var got bytes.Buffer
		if err := d.Get(t.Context(), "big", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("Get: %v, %d bytes equal=%v", err, got.Len(), bytes.Equal(got.Bytes(), data))
		}
		got.Reset()
		if err := d.GetRange(t.Context(), "big", 5<<20-10, 20, &got); err != nil || !bytes.Equal(got.Bytes(), data[5<<20-10:5<<20+10]) {
			t.Errorf("GetRange across a part boundary: %v, %q", err, got.Bytes())
		}
		for _, off := range []int64{int64(len(data)) + 1, int64(len(data)) - 10} {
			var part bytes.Buffer
			if err := d.GetRange(t.Context(), "big", off, 20, &part); !errors.Is(err, s3dest.ErrInvalid) || part.Len() != 0 {
				t.Errorf("GetRange(%d, 20) of %d bytes: %v after %d bytes, want ErrInvalid and none", off, len(data), err, part.Len())
			}
		}

		// An upload a crashed process left behind, and one of another prefix.
		siblingPrefix := strings.TrimSuffix(tg.prefix, "/") + "-sibling/"
		for _, key := range []string{tg.prefix + "crashed", siblingPrefix + "upload"} {
			if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(tg.bucket), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := d.CleanupUploads(t.Context(), 0)
		if err != nil || n != 1 {
			t.Errorf("CleanupUploads: %d, %v; want 1 (only the upload under the prefix)", n, err)
		}
		sibling := tg.dest(t, s3dest.WithPrefix(siblingPrefix))
		if n, err := sibling.CleanupUploads(t.Context(), 0); err != nil || n != 1 {
			t.Errorf("the sibling prefix's upload: %d, %v; want it still there", n, err)
		}

		var names []string
		for i := range 30 {
			names = append(names, fmt.Sprintf("small-%02d", i))
			put(t, d, names[i], "x")
		}
		if err := d.DeleteMany(t.Context(), append(names, "big", "never-existed")); err != nil {
			t.Errorf("DeleteMany: %v", err)
		}
		if left := list(t, d); len(left) != 0 {
			t.Errorf("after DeleteMany %d objects are left", len(left))
		}
	})
}

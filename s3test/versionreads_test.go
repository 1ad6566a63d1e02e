package s3test_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3dest/s3dest/s3test"
)

// TestVersionReads: GET and HEAD of an old version answer its bytes, its
// length and its own checksum (never the current one's); a delete marker's
// id is 405 MethodNotAllowed with x-amz-delete-marker; an unknown id is
// NoSuchVersion.
func TestVersionReads(t *testing.T) {
	srv, clk, c := versioned(t)
	v1 := putObject(t, c, "k", "first version", func(in *s3.PutObjectInput) { in.ChecksumCRC32C = aws.String(crc("first version")) })
	clk.advance(time.Second)
	v2 := putObject(t, c, "k", "second, without a checksum")
	clk.advance(time.Second)
	dm := deleteObject(t, c, "k")
	ctx := t.Context()
	for _, tc := range []struct{ id, body, checksum string }{
		{v1, "first version", crc("first version")},
		{v2, "second, without a checksum", ""},
	} {
		if got, err := getVersion(ctx, c, "k", tc.id); err != nil || got != tc.body {
			t.Errorf("GET ?versionId=%s = %q, %v; want %q", tc.id, got, err, tc.body)
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: aws.String(tc.id),
			ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || aws.ToInt64(head.ContentLength) != int64(len(tc.body)) || aws.ToString(head.ChecksumCRC32C) != tc.checksum {
			t.Errorf("HEAD ?versionId=%s: length %d, CRC32C %q, %v; want %d, %q", tc.id, aws.ToInt64(head.ContentLength),
				aws.ToString(head.ChecksumCRC32C), err, len(tc.body), tc.checksum)
		}
	}
	_, err := getVersion(ctx, c, "k", dm)
	if status(err) != http.StatusMethodNotAllowed || code(err) != "MethodNotAllowed" {
		t.Errorf("GET of a delete marker's id: %v, want 405 MethodNotAllowed", err)
	}
	req, _ := http.NewRequest(http.MethodHead, srv.Endpoint+"/vbk/k?versionId="+dm, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("X-Amz-Delete-Marker") != "true" {
		t.Errorf("HEAD of a delete marker's id: %v %v, want 405 with x-amz-delete-marker: true", resp, err)
	}
	if _, err := getVersion(ctx, c, "k", "3/NOSUCHVERSION"); code(err) != "NoSuchVersion" {
		t.Errorf("GET of an unknown version: %v, want NoSuchVersion", err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k")}); code(err) != "NoSuchKey" {
		t.Errorf("GET of a deleted object: %v, want NoSuchKey", err)
	}
}

// crc is the base64 CRC32C of s, as S3 writes it.
func crc(s string) string {
	h := crc32.Checksum([]byte(s), crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString([]byte{byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)})
}

// TestVersionMultipartBooks: a multipart object overwritten keeps, as an
// old version, its multipart ETag, its part sizes and its checksum.
func TestVersionMultipartBooks(t *testing.T) {
	srv, clk, c := versioned(t)
	srv.SetMinPartSize(1) // parts of a few bytes
	ctx := t.Context()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("vbk"), Key: aws.String("m"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, p := range []string{"part one, ", "part two"} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("vbk"), Key: aws.String("m"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader(p), ChecksumCRC32C: aws.String(crc(p))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C})
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("vbk"), Key: aws.String("m"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	old := aws.ToString(done.VersionId)
	clk.advance(time.Second)
	putObject(t, c, "m", "one piece")
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("m"), VersionId: &old,
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !strings.HasSuffix(etag, `-2"`) || aws.ToString(head.ChecksumCRC32C) != crc("part one, part two") {
		t.Errorf("old multipart version: ETag %s, CRC32C %s; want a -2 ETag and %s", etag, aws.ToString(head.ChecksumCRC32C), crc("part one, part two"))
	}
	part, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("m"), VersionId: &old, PartNumber: aws.Int32(2)})
	if err != nil || aws.ToInt64(part.ContentLength) != int64(len("part two")) || aws.ToInt32(part.PartsCount) != 2 {
		t.Errorf("HEAD ?partNumber=2 of the old version: %+v, %v; want 8 bytes of 2 parts", part, err)
	}
	cur, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("m"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || strings.Contains(aws.ToString(cur.ETag), "-") || aws.ToString(cur.ChecksumCRC32C) != "" {
		t.Errorf("current version: ETag %s, CRC32C %q, %v; want the MD5 and no checksum", aws.ToString(cur.ETag), aws.ToString(cur.ChecksumCRC32C), err)
	}
}

// TestVersionArchive: an old version stored in GLACIER is archived on its
// own (GET 403 InvalidObjectState), restored by version id, and readable
// once the restore is done, while the current version reads all along.
func TestVersionArchive(t *testing.T) {
	srv, clk, c := versioned(t)
	srv.RestorePolls = 1
	ctx := t.Context()
	old := putObject(t, c, "vol", "cold", func(in *s3.PutObjectInput) { in.StorageClass = types.StorageClassGlacier })
	clk.advance(time.Second)
	putObject(t, c, "vol", "warm")
	if _, err := getVersion(ctx, c, "vol", old); code(err) != "InvalidObjectState" {
		t.Fatalf("GET of the GLACIER version: %v, want InvalidObjectState", err)
	}
	if got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vbk"), Key: aws.String("vol")}); err != nil {
		t.Fatalf("GET of the current version: %v", err)
	} else {
		got.Body.Close()
	}
	_, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: aws.String("vbk"), Key: aws.String("vol"), VersionId: &old,
		RestoreRequest: &types.RestoreRequest{Days: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("vol"), VersionId: &old})
	if err != nil || !strings.Contains(aws.ToString(head.Restore), `ongoing-request="true"`) || head.StorageClass != "GLACIER" {
		t.Errorf("HEAD of the version being restored: %+v, %v", head, err)
	}
	if got, err := getVersion(ctx, c, "vol", old); err != nil || got != "cold" {
		t.Errorf("GET of the restored version = %q, %v", got, err)
	}
	if head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vbk"), Key: aws.String("vol")}); err != nil || head.Restore != nil {
		t.Errorf("HEAD of the current version: restore %q, %v; want none", aws.ToString(head.Restore), err)
	}
}

// TestVersionCustomerKeys: each version needs the SSE-C key it was
// written with.
func TestVersionCustomerKeys(t *testing.T) {
	srv := s3test.NewTLSServer() // S3 takes customer keys over HTTPS only
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket("vbk"); err != nil {
		t.Fatal(err)
	}
	if err := srv.EnableVersioning("vbk"); err != nil {
		t.Fatal(err)
	}
	c := client(srv, srv.HTTPClient())
	ctx := t.Context()
	key := func(b byte) func(*string, *string, *string) {
		return func(alg, k, sum *string) {
			raw := bytes.Repeat([]byte{b}, 32)
			h := md5.Sum(raw)
			*alg, *k, *sum = "AES256", base64.StdEncoding.EncodeToString(raw), base64.StdEncoding.EncodeToString(h[:])
		}
	}
	put := func(body string, b byte) string {
		in := &s3.PutObjectInput{Bucket: aws.String("vbk"), Key: aws.String("s"), Body: strings.NewReader(body),
			SSECustomerAlgorithm: new(string), SSECustomerKey: new(string), SSECustomerKeyMD5: new(string)}
		key(b)(in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5)
		out, err := c.PutObject(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	get := func(id string, b byte) (string, error) {
		in := &s3.GetObjectInput{Bucket: aws.String("vbk"), Key: aws.String("s"), VersionId: &id,
			SSECustomerAlgorithm: new(string), SSECustomerKey: new(string), SSECustomerKeyMD5: new(string)}
		key(b)(in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5)
		out, err := c.GetObject(ctx, in)
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		got, err := io.ReadAll(out.Body)
		return string(got), err
	}
	v1, v2 := put("under key 1", 1), put("under key 2", 2)
	if got, err := get(v1, 1); err != nil || got != "under key 1" {
		t.Errorf("version 1 with its key = %q, %v", got, err)
	}
	if _, err := get(v1, 2); code(err) != "AccessDenied" {
		t.Errorf("version 1 with the key of version 2: %v, want AccessDenied", err)
	}
	if got, err := get(v2, 2); err != nil || got != "under key 2" {
		t.Errorf("version 2 with its key = %q, %v", got, err)
	}
}

// TestVersionRefusals: what s3test cannot do right answers 501
// NotImplemented instead of a wrong result; deleting an old version works.
func TestVersionRefusals(t *testing.T) {
	srv, clk, c := versioned(t)
	ctx := t.Context()
	v1 := putObject(t, c, "k", "one")
	clk.advance(time.Second)
	v2 := putObject(t, c, "k", "two")
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: &v2})
	if code(err) != "NotImplemented" {
		t.Errorf("DELETE of the current version by id: %v, want NotImplemented", err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("vbk"), Key: aws.String("copy"),
		CopySource: aws.String("vbk/k?versionId=" + v1)})
	if code(err) != "NotImplemented" {
		t.Errorf("copy of an old version: %v, want NotImplemented", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("vbk"), Key: aws.String("copy"),
		CopySource: aws.String("vbk/k?versionId=" + v2)}); err != nil {
		t.Errorf("copy of the current version by id: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String("k"), VersionId: &v1}); err != nil {
		t.Fatalf("DELETE of an old version: %v", err)
	}
	entries, _, _, _ := rawVersions(t, srv, "prefix=k")
	if len(entries) != 1 || entries[0].ID != v2 {
		t.Errorf("versions after deleting the old one: %+v, want only %s", entries, v2)
	}
	if err := srv.EnableVersioning("nosuchbucket"); err == nil {
		t.Error("EnableVersioning of a missing bucket succeeded")
	}
}

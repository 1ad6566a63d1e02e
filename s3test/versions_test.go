package s3test_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest/s3test"
)

// clock is a server clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// versioned starts a server whose bucket "vbk" keeps versions, on a clock
// the test moves, with an SDK client for it.
func versioned(t *testing.T) (*s3test.Server, *clock, *s3.Client) {
	t.Helper()
	srv := s3test.New(t)
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	srv.Now = c.Now
	if err := srv.CreateBucket("vbk"); err != nil {
		t.Fatal(err)
	}
	if err := srv.EnableVersioning("vbk"); err != nil {
		t.Fatal(err)
	}
	return srv, c, client(srv, srv.HTTPClient())
}

func client(srv *s3test.Server, hc *http.Client) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true, HTTPClient: hc,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func putObject(t *testing.T, c *s3.Client, key, body string, opts ...func(*s3.PutObjectInput)) string {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String("vbk"), Key: aws.String(key), Body: strings.NewReader(body)}
	for _, o := range opts {
		o(in)
	}
	out, err := c.PutObject(t.Context(), in)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return aws.ToString(out.VersionId)
}

func deleteObject(t *testing.T, c *s3.Client, key string) string {
	t.Helper()
	out, err := c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String("vbk"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
	return aws.ToString(out.VersionId)
}

func getVersion(ctx context.Context, c *s3.Client, key, id string) (string, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vbk"), Key: aws.String(key), VersionId: aws.String(id)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// entry is one element of a raw version listing, in document order.
type entry struct {
	Kind         string // Version or DeleteMarker
	Key, ID      string
	Latest       bool
	LastModified string
	Class        string
}

// rawVersions reads GET ?versions as sent: the SDK splits versions from
// delete markers, and their order is what the test checks.
func rawVersions(t *testing.T, srv *s3test.Server, query string) (entries []entry, prefixes []string, next [2]string, truncated bool) {
	t.Helper()
	resp, err := http.Get(srv.Endpoint + "/vbk?versions&" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Items []struct {
			XMLName      xml.Name
			Key          string
			VersionID    string `xml:"VersionId"`
			IsLatest     bool
			LastModified string
			StorageClass string
		} `xml:",any"`
		Prefixes    []string `xml:"CommonPrefixes>Prefix"`
		NextKey     string   `xml:"NextKeyMarker"`
		NextVersion string   `xml:"NextVersionIdMarker"`
		IsTruncated bool
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET ?versions&%s: %d %s", query, resp.StatusCode, body)
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, it := range doc.Items {
		if n := it.XMLName.Local; n == "Version" || n == "DeleteMarker" {
			entries = append(entries, entry{n, it.Key, it.VersionID, it.IsLatest, it.LastModified, it.StorageClass})
		}
	}
	return entries, doc.Prefixes, [2]string{doc.NextKey, doc.NextVersion}, doc.IsTruncated
}

// TestVersionListing: each key's versions and delete markers together,
// newest first, in one list, LastModified to the second as S3 lists it,
// each version with its own storage class; pages cut at max-keys that
// resume where the markers say, a key's versions across pages included;
// common prefixes at the delimiter.
func TestVersionListing(t *testing.T) {
	srv, clk, c := versioned(t)
	a1 := putObject(t, c, "a", "one", func(in *s3.PutObjectInput) { in.StorageClass = types.StorageClassGlacier })
	clk.advance(1500 * time.Millisecond)
	a2 := putObject(t, c, "a", "two")
	clk.advance(time.Second)
	am := deleteObject(t, c, "a")
	b1 := putObject(t, c, "b", "bee")
	x1 := putObject(t, c, "d/x", "ex")
	got, _, _, truncated := rawVersions(t, srv, "")
	want := []entry{
		{"DeleteMarker", "a", am, true, "2026-03-01T12:00:02.000Z", ""},
		{"Version", "a", a2, false, "2026-03-01T12:00:01.000Z", "STANDARD"},
		{"Version", "a", a1, false, "2026-03-01T12:00:00.000Z", "GLACIER"},
		{"Version", "b", b1, true, "2026-03-01T12:00:02.000Z", "STANDARD"},
		{"Version", "d/x", x1, true, "2026-03-01T12:00:02.000Z", "STANDARD"},
	}
	if diff := cmp.Diff(want, got); diff != "" || truncated {
		t.Errorf("versions (-want +got):\n%s\ntruncated %v", diff, truncated)
	}

	var paged []entry
	query := "max-keys=2"
	for range 10 {
		page, _, next, more := rawVersions(t, srv, query)
		if len(page) > 2 {
			t.Fatalf("max-keys=2 answered %d entries", len(page))
		}
		paged = append(paged, page...)
		if !more {
			break
		}
		query = "max-keys=2&key-marker=" + next[0] + "&version-id-marker=" + next[1]
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("pages of 2 (-want +got):\n%s", diff)
	}

	top, prefixes, _, _ := rawVersions(t, srv, "delimiter=/")
	if len(top) != 4 || !cmp.Equal(prefixes, []string{"d/"}) {
		t.Errorf("delimiter /: %d entries and prefixes %q, want 4 and [d/]", len(top), prefixes)
	}
	sub, _, _, _ := rawVersions(t, srv, "prefix=d/")
	if len(sub) != 1 || sub[0].Key != "d/x" {
		t.Errorf("prefix d/: %+v", sub)
	}
}

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
	_, clk, c := versioned(t)
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

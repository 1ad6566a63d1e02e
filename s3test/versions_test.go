package s3test_test

import (
	"context"
	"encoding/xml"
	"errors"
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

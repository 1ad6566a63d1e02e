package s3dest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func TestURLOptions(t *testing.T) {
	creds := "aws-access-key-id=AKID&aws-secret-access-key=" + urlSecret
	tests := []struct {
		in                                      string
		bucket, prefix, class, region, endpoint string
	}{
		{in: "s3://AKID:" + urlSecret + "@bucket/backups?s3-server-name=127.0.0.1:9000&use-ssl=false&s3-storage-class=STANDARD_IA",
			bucket: "bucket", prefix: "backups/", class: "STANDARD_IA", region: "us-east-1", endpoint: "http://127.0.0.1:9000"},
		{in: "s3://bucket/?s3-location-constraint=eu-west-1&" + creds,
			bucket: "bucket", region: "eu-west-1", endpoint: "https://s3.eu-west-1.amazonaws.com"},
		{in: "s3://bucket/?s3-location-constraint=EU&" + creds,
			bucket: "bucket", region: "eu-west-1", endpoint: "https://s3.eu-west-1.amazonaws.com"},
		{in: "s3://bucket/?s3-european-buckets&s3-use-rrs&" + creds,
			bucket: "bucket", class: "REDUCED_REDUNDANCY", region: "eu-west-1", endpoint: "https://s3.eu-west-1.amazonaws.com"},
		{in: "s3://bucket/?s3-location-constraint=cn-north-1&" + creds,
			bucket: "bucket", region: "cn-north-1", endpoint: "https://s3.cn-north-1.amazonaws.com.cn"},
		{in: "s3://bucket/?s3-location-constraint=eu-west-1&use-ssl=false&" + creds,
			bucket: "bucket", region: "eu-west-1", endpoint: "http://s3.eu-west-1.amazonaws.com"},
		{in: "s3://bucket/?" + creds,
			bucket: "bucket", region: "us-east-1", endpoint: "https://s3.us-east-1.amazonaws.com"},
		{in: "s3://Legacy_Bucket/my+folder/?auth-username=AKID&auth-password=" + urlSecret + "&s3-server-name=s3.eu-central-1.wasabisys.com",
			bucket: "Legacy_Bucket", prefix: "my folder/", region: "eu-central-1", endpoint: "https://s3.eu-central-1.wasabisys.com"},
		{in: "s3://bucket/p?s3-server-name=http://minio.local:9000&" + creds,
			bucket: "bucket", prefix: "p/", region: "us-east-1", endpoint: "http://minio.local:9000"},
		{in: "s3://bucket/?s3-server-name=minio.local&s3-authentication-region=auto&" + creds,
			bucket: "bucket", region: "auto", endpoint: "https://minio.local"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := s3dest.ParseURL(tc.in)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			d, err := s3dest.New(t.Context(), u.Bucket, u.Options()...)
			if err != nil {
				t.Fatalf("New(ctx, %q, u.Options()...): %v", u.Bucket, err)
			}
			got := [5]string{d.Bucket(), d.Prefix(), d.StorageClass(), d.Region(), d.Endpoint()}
			want := [5]string{tc.bucket, tc.prefix, tc.class, tc.region, tc.endpoint}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Bucket, Prefix, StorageClass, Region, Endpoint (-want +got):\n%s", diff)
			}
			if leak := urlLeak(d.String(), urlSecret); leak != "" {
				t.Errorf("Destination.String() shows the secret: %q", d.String())
			}
			od, err := s3dest.Open(t.Context(), tc.in)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if od.String() != d.String() || od.Endpoint() != d.Endpoint() {
				t.Errorf("Open gives %q at %q, New with Options gives %q at %q", od, od.Endpoint(), d, d.Endpoint())
			}
		})
	}
}

func TestURLOptionsOverridden(t *testing.T) {
	u, err := s3dest.ParseURL("s3://AKID:" + urlSecret + "@bucket/a?s3-storage-class=STANDARD_IA&s3-location-constraint=eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	d, err := s3dest.New(t.Context(), u.Bucket, append(u.Options(),
		s3dest.WithStorageClass("GLACIER"), s3dest.WithPrefix("b"), s3dest.WithRegion("us-west-2"))...)
	if err != nil {
		t.Fatal(err)
	}
	if d.StorageClass() != "GLACIER" || d.Prefix() != "b/" || d.Region() != "us-west-2" {
		t.Errorf("explicit options after u.Options() lost: class %q prefix %q region %q", d.StorageClass(), d.Prefix(), d.Region())
	}
}

// TestURLOptionsWithoutCredentials: half a key pair is an error (a URL
// without keys uses the AWS default chain: credentials_test.go).
func TestURLOptionsWithoutCredentials(t *testing.T) {
	for _, in := range []string{"s3://AKID@bucket/p", "s3://bucket/p?aws-secret-access-key=" + urlSecret} {
		u, err := s3dest.ParseURL(in)
		if err != nil {
			t.Fatalf("ParseURL(%q): %v", in, err)
		}
		_, err = s3dest.New(t.Context(), u.Bucket, u.Options()...)
		if !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("New with the options of %q: got %v, want ErrInvalid (incomplete credentials)", in, err)
			continue
		}
		if leak := urlLeak(err.Error(), urlSecret); leak != "" {
			t.Errorf("New with the options of %q: error shows the secret: %q", in, err)
		}
	}
}

// TestVersionAtURL: s3-version-at is RFC 3339, read into URL.VersionAt and
// written back by String, and opens a view; an explicit option overrides it.
func TestVersionAtURL(t *testing.T) {
	srv := withBucket(t)
	raw := "s3://" + bucket + "/p?s3-version-at=2026-11-25T13:00:00%2B01:00&s3-server-name=" + srv.Endpoint +
		"&aws-access-key-id=" + s3test.AccessKey + "&aws-secret-access-key=" + s3test.SecretKey
	u, err := s3dest.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if !u.VersionAt.Equal(want) {
		t.Errorf("URL.VersionAt = %v, want %v", u.VersionAt, want)
	}
	back, err := s3dest.ParseURL(u.String())
	if err != nil || !back.VersionAt.Equal(want) || !strings.Contains(u.String(), "s3-version-at=") {
		t.Errorf("String %q reads back as %v, %v", u.String(), back.VersionAt, err)
	}
	d := mustOpen(t, raw)
	if !d.VersionAt().Equal(want) || !strings.Contains(d.String(), "s3-version-at=2026-11-25T13%3A00%3A00%2B01%3A00") {
		t.Errorf("Open: VersionAt %v, String %s", d.VersionAt(), d.String())
	}
	if err := d.Put(t.Context(), "x", strings.NewReader("x")); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("Put through a URL with s3-version-at: %v, want ErrInvalid", err)
	}
	if d := mustOpen(t, raw, s3dest.WithVersionAt(time.Time{})); !d.VersionAt().IsZero() {
		t.Errorf("WithVersionAt(zero) after the URL's: VersionAt %v, want none", d.VersionAt())
	}
	for _, bad := range []string{"2026-11-25", "yesterday", "2026-11-25T12:00:00"} {
		_, err := s3dest.ParseURL("s3://" + bucket + "/?s3-version-at=" + bad)
		if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "s3-version-at") || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("s3-version-at=%s: %v, want ErrInvalid naming the option and RFC 3339", bad, err)
		}
	}
	if u, err := s3dest.ParseURL("s3://" + bucket + "/?s3-version-at="); err != nil || !u.VersionAt.IsZero() {
		t.Errorf("an empty s3-version-at: %v, %v; want no view", u, err)
	}
}

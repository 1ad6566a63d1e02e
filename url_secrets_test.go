package s3dest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
)

// secretErrorURLs fail while carrying urlSecret.
var secretErrorURLs = []struct{ name, in string }{
	{"bad escape after the secret in userinfo", "s3://AKID:" + urlSecret + "%zz@bucket/p"},
	{"bad escape in the userinfo id", "s3://AK%zzID:" + urlSecret + "@bucket/p"},
	{"bad option after userinfo secret", "s3://AKID:" + urlSecret + "@bucket/p?use-ssl=maybe"},
	{"unknown option after userinfo secret", "s3://AKID:" + urlSecret + "@bucket/p?s3-storage-clas=GLACIER"},
	{"bad option after query secret", "s3://bucket/p?aws-secret-access-key=" + urlSecret + "&use-ssl=maybe"},
	{"unknown option after query secret", "s3://bucket/p?aws-secret-access-key=" + urlSecret + "&s3-storage-clas=x"},
	{"secret cut by & into an option-shaped key", "s3://bucket/p?aws-secret-access-key=" + urlSecret[:4] + "&" + urlSecret[4:10] + "-" + urlSecret[10:]},
	{"password cut by & into an option-shaped key", "s3://bucket/p?auth-password=" + urlSecret[:4] + "&" + urlSecret[4:10] + "_" + urlSecret[10:]},
	{"userinfo secret, then an option-shaped key", "s3://AKID:" + urlSecret[:4] + "@bucket/p?" + urlSecret[4:10] + "-" + urlSecret[10:]},
	{"bad escape in query secret", "s3://bucket/p?aws-secret-access-key=" + urlSecret + "%zz"},
	{"bad escape in underscore secret", "s3://bucket/p?aws_secret_access_key=" + urlSecret + "%zz"},
	{"bad escape in auth-password", "s3://bucket/p?auth-password=" + urlSecret + "%z"},
	{"bad bucket after userinfo secret", "s3://AKID:" + urlSecret + "@b!d/p"},
	{"short bucket after userinfo secret", "s3://AKID:" + urlSecret + "@ab/p"},
	{"no bucket after userinfo secret", "s3://AKID:" + urlSecret + "@/p"},
	{"ip bucket after userinfo secret", "s3://AKID:" + urlSecret + "@10.1.2.3/p"},
	{"bad prefix after userinfo secret", "s3://AKID:" + urlSecret + "@bucket/a/../b"},
	{"bad prefix after query secret", "s3://bucket/a/../b?aws-secret-access-key=" + urlSecret},
	{"hash in userinfo secret", "s3://AKID:" + urlSecret[:8] + "#" + urlSecret[8:] + "@bucket/p"},
	{"hash in query secret", "s3://bucket/p?aws-secret-access-key=" + urlSecret[:8] + "#" + urlSecret[8:]},
	{"unsupported scheme with userinfo secret", "http://AKID:" + urlSecret + "@bucket/p"},
	{"bad scheme slash and a server URL", "s3:/AKID:" + urlSecret + "@bucket/p?s3-server-name=https://minio:9000"},
	{"bad scheme colon and a server URL", "s3:AKID:" + urlSecret + "@bucket/p?s3-server-name=http://minio:9000"},
	{"unescaped '?' in userinfo secret", "s3://AKID:" + urlSecret[:8] + "?" + urlSecret[8:] + "@bucket/p"},
	{"colon instead of = after the secret option", "s3://bucket/p?aws-secret-access-key:" + urlSecret},
	{"escaped = after the secret option", "s3://bucket/p?aws-secret-access-key%3D" + urlSecret},
}

func TestParseURLErrorsHideSecret(t *testing.T) {
	for _, tc := range secretErrorURLs {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s3dest.ParseURL(tc.in)
			if err == nil {
				t.Fatalf("ParseURL(%q) = %+v, want an error", tc.in, *u)
			}
			checkURLError(t, err)
			if leak := urlLeak(err.Error(), urlSecret); leak != "" {
				t.Errorf("ParseURL(%q) error shows part of the secret (%q): %q", tc.in, leak, err)
			}
		})
	}
}

// TestParseURLUnescapedSlashInSecret: AWS secret keys often contain '/', and
// users paste them into the userinfo unescaped. The URL is then ambiguous; it
// must be refused without echoing the secret, never read as bucket = access key
// id with the rest of the secret in the prefix.
// A secret with a raw '/' in the user part (AWS secrets often have one) is
// the secret: the destination gets the bucket and prefix after '@', and
// shows no part of the secret.
func TestParseURLUnescapedSlashInSecret(t *testing.T) {
	const id, secret = "AKIAIOSFODNN7EXAMPLE", "/wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz"
	for in, prefix := range map[string]string{
		"s3://" + id + ":" + secret + "@bucket/prefix": "prefix/",
		"s3://" + id + ":" + secret + "@bucket":        "",
	} {
		d, err := s3dest.Open(t.Context(), in)
		if err != nil {
			t.Errorf("Open(%q): %v", in, err)
			continue
		}
		if d.Bucket() != "bucket" || d.Prefix() != prefix {
			t.Errorf("Open(%q): bucket %q, prefix %q; want bucket, %q", in, d.Bucket(), d.Prefix(), prefix)
		}
		if leak := urlLeak(d.String(), secret); leak != "" {
			t.Errorf("Open(%q).String() = %q shows part of the secret (%q)", in, d.String(), leak)
		}
	}
}

func TestURLPrintingHidesSecret(t *testing.T) {
	for _, in := range []string{
		"s3://AKID:" + urlSecret + "@bucket/p?s3-storage-class=GLACIER&use-ssl=false",
		"s3s://bucket/p?aws-secret-access-key=" + urlSecret + "&aws-access-key-id=AKID",
		"s3://bucket/?aws_secret_access_key=" + urlSecret,
		"s3://bucket/?auth-username=AKID&auth-password=" + urlSecret,
		"s3://AKID:other@bucket/?aws-secret-access-key=" + urlSecret,
	} {
		u, err := s3dest.ParseURL(in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", in, err)
			continue
		}
		if !u.HasSecret() {
			t.Errorf("ParseURL(%q).HasSecret() = false", in)
		}
		for _, s := range []string{
			fmt.Sprintf("%v", *u), fmt.Sprintf("%+v", *u), fmt.Sprintf("%#v", *u),
			fmt.Sprintf("%v", u), fmt.Sprintf("%+v", u), fmt.Sprintf("%s", u), fmt.Sprint(u),
			u.String(),
		} {
			if leak := urlLeak(s, urlSecret); leak != "" {
				t.Errorf("ParseURL(%q) prints the secret (%q) in %q", in, leak, s)
			}
		}
	}
}

// Credentials written into a server name, a service URL or a proxy host
// (user:password@host) are refused without being shown.
func TestURLUserInfoInHostsNotShown(t *testing.T) {
	for _, opt := range []string{
		"s3-server-name=https://AKIDX:S3rv3rS3cret@minio.local",
		"s3-ext-serviceurl=https://AKIDX:S3rv3rS3cret@minio.local:9000",
		"s3-ext-proxyhost=proxyuser:S3rv3rS3cret@proxy.corp&s3-ext-proxyport=3128",
	} {
		_, err := s3dest.ParseURL("s3://bucket/?" + opt)
		if err == nil || strings.Contains(err.Error(), "S3rv3rS3cret") {
			t.Errorf("ParseURL(%s) = %v, want an error that does not show the password", opt, err)
		}
	}
	_, err := s3dest.New(t.Context(), "bucket", s3dest.WithServerName("https://AKIDX:S3rv3rS3cret@minio.local"))
	if err == nil || strings.Contains(err.Error(), "S3rv3rS3cret") {
		t.Errorf("WithServerName with user info = %v, want an error that does not show the password", err)
	}
}

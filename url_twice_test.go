package s3dest_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
)

// TestParseURLOptionGivenTwice: an option given twice with different
// values is an error that names the option, never its values (one of them
// may be a secret), where the last one silently won before. Another
// spelling of the option is the same option.
func TestParseURLOptionGivenTwice(t *testing.T) {
	for _, tc := range []struct {
		in, name string
		values   []string // must not appear in the error
	}{
		{"s3://bucket/?s3-storage-class=GLACIER&s3-storage-class=DEEP_ARCHIVE", "s3-storage-class", []string{"GLACIER", "DEEP_ARCHIVE"}},
		{"s3://bucket/?s3-server-name=minio.one:9000&server-name=minio.two:9000", "s3-server-name", []string{"minio.one", "minio.two"}},
		{"s3://bucket/?use-ssl=true&use-ssl=false", "use-ssl", nil},
		{"s3://bucket/?aws_access_key_id=AKIAFIRST&aws-access-key-id=AKIASECOND", "aws-access-key-id", []string{"AKIAFIRST", "AKIASECOND"}},
		{"s3://bucket/?aws-access-key-id=AK&aws-secret-access-key=" + urlSecret + "&aws-secret-access-key=Hq3Vb8Tn5Wc1Yx6J",
			"aws-secret-access-key", []string{urlSecret, "Hq3Vb8Tn5Wc1Yx6J"}},
		{"s3://bucket/?auth-password=" + urlSecret + "&auth-username=AK&auth-password=" + urlSecret + "x", "auth-password", []string{urlSecret}},
		{"s3://bucket/?short-timeout=30s&short-timeout=1m", "short-timeout", nil},
	} {
		u, err := s3dest.ParseURL(tc.in)
		if err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error: the option is given twice with different values", tc.in, *u)
			continue
		}
		checkURLError(t, err)
		if !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("ParseURL(%q) error %q does not say that %s is given twice", tc.in, err, tc.name)
		}
		for _, v := range tc.values {
			if urlLeak(err.Error(), v) != "" || strings.Contains(err.Error(), v) {
				t.Errorf("ParseURL(%q) error %q shows a value (%q)", tc.in, err, v)
			}
		}
	}
}

// TestParseURLOptionRepeatedAlike: the same value twice, in any spelling
// of the option or of the value, is no contradiction.
func TestParseURLOptionRepeatedAlike(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want s3dest.URL
	}{
		{"s3://bucket/?s3-storage-class=GLACIER&s3-storage-class=GLACIER", s3dest.URL{Bucket: "bucket", StorageClass: "GLACIER"}},
		{"s3://bucket/?server-name=minio:9000&s3-server-name=minio:9000", s3dest.URL{Bucket: "bucket", ServerName: "minio:9000"}},
		{"s3://bucket/?use-ssl=true&use-ssl=1&use-ssl", s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
		{"s3://bucket/?s3-list-api-version=v1&list-api-version=1", s3dest.URL{Bucket: "bucket", ListV1: true}},
		{"s3://bucket/?s3-client=aws&s3-client=AWS", s3dest.URL{Bucket: "bucket"}},
		{"s3://bucket/?aws-access-key-id=AK&aws-secret-access-key=" + urlSecret + "&aws_secret_access_key=" + urlSecret,
			s3dest.URL{Bucket: "bucket", AccessKeyID: "AK"}},
	} {
		u, err := s3dest.ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v, want the value given twice accepted", tc.in, err)
			continue
		}
		if d := cmp.Diff(tc.want, *u, ignoreURLSecret); d != "" {
			t.Errorf("ParseURL(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

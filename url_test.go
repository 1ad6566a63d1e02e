package s3dest_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3dest/s3dest"
)

// urlSecret is a distinctive secret access key: no fragment of it occurs in
// any message s3dest writes, so finding one in an error or a string is a leak.
const urlSecret = "Zq7Rw9Xk2Pv4Lm8N"

var ignoreURLSecret = cmpopts.IgnoreUnexported(s3dest.URL{})

func urlBool(b bool) *bool { return &b }

func urlInt(n int) *int { return &n }

// urlLeak returns a fragment of secret (6 bytes or more, compared without
// case) found in s, or "".
func urlLeak(s, secret string) string {
	ls, lsec := strings.ToLower(s), strings.ToLower(secret)
	for i := 0; i+6 <= len(lsec); i++ {
		if strings.Contains(ls, lsec[i:i+6]) {
			return secret[i : i+6]
		}
	}
	return ""
}

type urlCase struct {
	name string
	in   string
	want s3dest.URL
}

// validURLs are URLs ParseURL accepts, with the fields they give. Every row is
// also checked by TestURLStringRoundTrip.
var validURLs = []urlCase{
	// Duplicati's own examples, from its tests and UIs.
	{name: "duplicati example with auth options",
		in:   "s3://BUCKET/?s3-location-constraint=REGION&s3-storage-class=&s3-client=aws&auth-username=KEY&auth-password=SECRET&s3-server-name=host:port",
		want: s3dest.URL{Bucket: "BUCKET", AccessKeyID: "KEY", Region: "REGION", ServerName: "host:port"}},
	{name: "duplicati example as written",
		in:   "s3://bucket/path?s3-server-name=..&s3-location-constraint=..&s3-storage-class=..&use-ssl=true",
		want: s3dest.URL{Bucket: "bucket", Prefix: "path/", ServerName: "..", Region: "..", StorageClass: "..", UseSSL: urlBool(true)}},
	{name: "duplicati example filled in",
		in: "s3://my-backups/duplicati/pc1?s3-server-name=s3.eu-central-1.wasabisys.com&s3-location-constraint=eu-central-1&s3-storage-class=STANDARD_IA&use-ssl=true",
		want: s3dest.URL{Bucket: "my-backups", Prefix: "duplicati/pc1/", ServerName: "s3.eu-central-1.wasabisys.com",
			Region: "eu-central-1", StorageClass: "STANDARD_IA", UseSSL: urlBool(true)}},

	// Schemes.
	{name: "bare bucket", in: "s3://bucket", want: s3dest.URL{Bucket: "bucket"}},
	{name: "bucket and slash", in: "s3://bucket/", want: s3dest.URL{Bucket: "bucket"}},
	{name: "bucket and query", in: "s3://bucket?s3-storage-class=GLACIER", want: s3dest.URL{Bucket: "bucket", StorageClass: "GLACIER"}},
	{name: "s3s sets use-ssl", in: "s3s://bucket/p", want: s3dest.URL{Bucket: "bucket", Prefix: "p/", UseSSL: urlBool(true)}},
	{name: "upper-case scheme", in: "S3://bucket", want: s3dest.URL{Bucket: "bucket"}},
	{name: "mixed-case s3s", in: "S3s://bucket", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
	{name: "s3s with use-ssl agreeing", in: "s3s://bucket/?use-ssl=true", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},

	// Buckets.
	{name: "bucket kept as typed", in: "s3://My_Bucket.Name-1/", want: s3dest.URL{Bucket: "My_Bucket.Name-1"}},
	{name: "port ignored", in: "s3://bucket:9000/p", want: s3dest.URL{Bucket: "bucket", Prefix: "p/"}},
	{name: "empty port ignored", in: "s3://bucket:/p", want: s3dest.URL{Bucket: "bucket", Prefix: "p/"}},
	{name: "three characters", in: "s3://abc", want: s3dest.URL{Bucket: "abc"}},
	{name: "digits only", in: "s3://123", want: s3dest.URL{Bucket: "123"}},
	{name: "legacy 255 characters", in: "s3://" + strings.Repeat("a", 255), want: s3dest.URL{Bucket: strings.Repeat("a", 255)}},

	// Prefixes.
	{name: "leading slashes dropped", in: "s3://bucket//a/b", want: s3dest.URL{Bucket: "bucket", Prefix: "a/b/"}},
	{name: "trailing slash kept", in: "s3://bucket/a/b/", want: s3dest.URL{Bucket: "bucket", Prefix: "a/b/"}},
	{name: "plus is a space", in: "s3://bucket/my+folder/sub%20dir", want: s3dest.URL{Bucket: "bucket", Prefix: "my folder/sub dir/"}},
	{name: "escaped plus", in: "s3://bucket/a%2Bb", want: s3dest.URL{Bucket: "bucket", Prefix: "a+b/"}},
	{name: "escaped slashes", in: "s3://bucket/%2Fa%2Fb", want: s3dest.URL{Bucket: "bucket", Prefix: "a/b/"}},
	{name: "escaped delimiters", in: "s3://bucket/a%3Fb%23c%26d", want: s3dest.URL{Bucket: "bucket", Prefix: "a?b#c&d/"}},
	{name: "utf-8", in: "s3://bucket/%C3%A9t%C3%A9/Ünï", want: s3dest.URL{Bucket: "bucket", Prefix: "été/Ünï/"}},
	{name: "prefix trimmed", in: "s3://bucket/+%20a+b%20+", want: s3dest.URL{Bucket: "bucket", Prefix: "a b/"}},
	{name: "blank prefix", in: "s3://bucket/+/", want: s3dest.URL{Bucket: "bucket"}},
	{name: "dots inside names", in: "s3://bucket/..a/b../.c", want: s3dest.URL{Bucket: "bucket", Prefix: "..a/b../.c/"}},

	// Credentials.
	{name: "userinfo", in: "s3://AKID:" + urlSecret + "@bucket/p", want: s3dest.URL{Bucket: "bucket", Prefix: "p/", AccessKeyID: "AKID"}},
	{name: "userinfo without secret", in: "s3://AKID@bucket", want: s3dest.URL{Bucket: "bucket", AccessKeyID: "AKID"}},
	{name: "userinfo escaped", in: "s3://AK%2BID:S%2FE%40C%3AR@bucket", want: s3dest.URL{Bucket: "bucket", AccessKeyID: "AK+ID"}},
	{name: "userinfo and port", in: "s3://AKID:x@bucket:443/p", want: s3dest.URL{Bucket: "bucket", Prefix: "p/", AccessKeyID: "AKID"}},
	{name: "query beats userinfo beats auth",
		in:   "s3://USERID:USERSECRET@bucket/?auth-username=AUTHUSER&auth-password=AUTHPASS&aws-access-key-id=QUERYID&aws-secret-access-key=QUERYSECRET",
		want: s3dest.URL{Bucket: "bucket", AccessKeyID: "QUERYID"}},
	{name: "userinfo beats auth", in: "s3://USERID:USERSECRET@bucket/?auth-username=AUTHUSER&auth-password=AUTHPASS",
		want: s3dest.URL{Bucket: "bucket", AccessKeyID: "USERID"}},
	{name: "auth options alone", in: "s3://bucket/?auth-username=AUTHUSER&auth-password=AUTHPASS",
		want: s3dest.URL{Bucket: "bucket", AccessKeyID: "AUTHUSER"}},
	{name: "underscore spellings", in: "s3://bucket/?aws_access_key_id=UNDERID&aws_secret_access_key=UNDERSECRET",
		want: s3dest.URL{Bucket: "bucket", AccessKeyID: "UNDERID"}},
	{name: "id from query, secret from userinfo", in: "s3://:USERSECRET@bucket/?aws-access-key-id=QUERYID",
		want: s3dest.URL{Bucket: "bucket", AccessKeyID: "QUERYID"}},
	{name: "empty query id falls through", in: "s3://USERID:USERSECRET@bucket/?aws-access-key-id=&aws-secret-access-key=",
		want: s3dest.URL{Bucket: "bucket", AccessKeyID: "USERID"}},

	// Query syntax.
	{name: "keys ignore case", in: "s3://bucket/?S3-Storage-Class=Glacier&USE-SSL=False&AWS-Access-Key-ID=K",
		want: s3dest.URL{Bucket: "bucket", StorageClass: "Glacier", UseSSL: urlBool(false), AccessKeyID: "K"}},
	{name: "last value wins", in: "s3://bucket/?s3-storage-class=A&s3-storage-class=B", want: s3dest.URL{Bucket: "bucket", StorageClass: "B"}},
	{name: "empty pairs skipped", in: "s3://bucket/?&&s3-storage-class=X&", want: s3dest.URL{Bucket: "bucket", StorageClass: "X"}},
	{name: "keys and values trimmed", in: "s3://bucket/?+s3-storage-class%20=+GLACIER+", want: s3dest.URL{Bucket: "bucket", StorageClass: "GLACIER"}},
	{name: "values decoded", in: "s3://bucket/?s3-server-name=https%3A%2F%2Fminio.local%3A9000", want: s3dest.URL{Bucket: "bucket", ServerName: "https://minio.local:9000"}},

	// Booleans.
	{name: "bool without =", in: "s3://bucket/?s3-recursive-list", want: s3dest.URL{Bucket: "bucket", RecursiveList: true}},
	{name: "bool empty", in: "s3://bucket/?use-ssl=", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
	{name: "bool 1", in: "s3://bucket/?use-ssl=1", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
	{name: "bool on", in: "s3://bucket/?use-ssl=on", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
	{name: "bool true", in: "s3://bucket/?use-ssl=true", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
	{name: "bool yes", in: "s3://bucket/?use-ssl=yes", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
	{name: "bool YES", in: "s3://bucket/?use-ssl=YES", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(true)}},
	{name: "bool 0", in: "s3://bucket/?use-ssl=0", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(false)}},
	{name: "bool off", in: "s3://bucket/?use-ssl=off", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(false)}},
	{name: "bool false", in: "s3://bucket/?use-ssl=false", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(false)}},
	{name: "bool no", in: "s3://bucket/?use-ssl=no", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(false)}},
	{name: "bool Off", in: "s3://bucket/?use-ssl=Off", want: s3dest.URL{Bucket: "bucket", UseSSL: urlBool(false)}},
	{name: "bool false then true", in: "s3://bucket/?s3-recursive-list=no&s3-recursive-list=yes", want: s3dest.URL{Bucket: "bucket", RecursiveList: true}},
	{name: "bool true then false", in: "s3://bucket/?s3-recursive-list=yes&s3-recursive-list=0", want: s3dest.URL{Bucket: "bucket"}},

	// Every option.
	{name: "s3-server-name", in: "s3://bucket/?s3-server-name=127.0.0.1:9000", want: s3dest.URL{Bucket: "bucket", ServerName: "127.0.0.1:9000"}},
	{name: "server-name alias", in: "s3://bucket/?server-name=minio:9000", want: s3dest.URL{Bucket: "bucket", ServerName: "minio:9000"}},
	{name: "s3-location-constraint as typed", in: "s3://bucket/?s3-location-constraint=EU", want: s3dest.URL{Bucket: "bucket", Region: "EU"}},
	{name: "s3-european-buckets", in: "s3://bucket/?s3-european-buckets=true", want: s3dest.URL{Bucket: "bucket", Region: "eu-west-1"}},
	{name: "s3-european-buckets empty", in: "s3://bucket/?s3-european-buckets", want: s3dest.URL{Bucket: "bucket", Region: "eu-west-1"}},
	{name: "s3-european-buckets false", in: "s3://bucket/?s3-european-buckets=false", want: s3dest.URL{Bucket: "bucket"}},
	{name: "location beats european buckets", in: "s3://bucket/?s3-european-buckets=true&s3-location-constraint=us-west-2",
		want: s3dest.URL{Bucket: "bucket", Region: "us-west-2"}},
	{name: "location beats european buckets in any order", in: "s3://bucket/?s3-location-constraint=us-west-2&s3-european-buckets=true",
		want: s3dest.URL{Bucket: "bucket", Region: "us-west-2"}},
	{name: "s3-authentication-region", in: "s3://bucket/?s3-authentication-region=auto", want: s3dest.URL{Bucket: "bucket", AuthRegion: "auto"}},
	{name: "s3-ext-authenticationregion", in: "s3://bucket/?s3-ext-authenticationregion=us-east-1", want: s3dest.URL{Bucket: "bucket", AuthRegion: "us-east-1"}},
	{name: "s3-storage-class", in: "s3://bucket/?s3-storage-class=DEEP_ARCHIVE", want: s3dest.URL{Bucket: "bucket", StorageClass: "DEEP_ARCHIVE"}},
	{name: "s3-storage-class empty", in: "s3://bucket/?s3-storage-class=", want: s3dest.URL{Bucket: "bucket"}},
	{name: "s3-use-rrs", in: "s3://bucket/?s3-use-rrs=true", want: s3dest.URL{Bucket: "bucket", StorageClass: "REDUCED_REDUNDANCY"}},
	{name: "s3-use-rrs false", in: "s3://bucket/?s3-use-rrs=false", want: s3dest.URL{Bucket: "bucket"}},
	{name: "storage class beats rrs", in: "s3://bucket/?s3-use-rrs=1&s3-storage-class=GLACIER", want: s3dest.URL{Bucket: "bucket", StorageClass: "GLACIER"}},
	{name: "s3-archive-classes", in: "s3://bucket/?s3-archive-classes=GLACIER,DEEP_ARCHIVE", want: s3dest.URL{Bucket: "bucket", ArchiveClasses: []string{"GLACIER", "DEEP_ARCHIVE"}}},
	{name: "s3-archive-classes spaced", in: "s3://bucket/?s3-archive-classes=+a+,b+,,", want: s3dest.URL{Bucket: "bucket", ArchiveClasses: []string{"a", "b"}}},
	{name: "s3-archive-classes empty: none", in: "s3://bucket/?s3-archive-classes=", want: s3dest.URL{Bucket: "bucket", ArchiveClasses: []string{}}},
	{name: "s3-client aws", in: "s3://bucket/?s3-client=aws", want: s3dest.URL{Bucket: "bucket"}},
	{name: "s3-client minio", in: "s3://bucket/?s3-client=minio", want: s3dest.URL{Bucket: "bucket"}},
	{name: "s3-client MinIO", in: "s3://bucket/?s3-client=MinIO", want: s3dest.URL{Bucket: "bucket"}},
	{name: "s3-ext-forcepathstyle", in: "s3://bucket/?s3-ext-forcepathstyle=true", want: s3dest.URL{Bucket: "bucket", PathStyle: urlBool(true)}},
	{name: "s3-ext-forcepathstyle false", in: "s3://bucket/?s3-ext-forcepathstyle=false", want: s3dest.URL{Bucket: "bucket", PathStyle: urlBool(false)}},
	{name: "s3-list-api-version v1", in: "s3://bucket/?s3-list-api-version=v1", want: s3dest.URL{Bucket: "bucket", ListV1: true}},
	{name: "list-api-version alias", in: "s3://bucket/?list-api-version=V1", want: s3dest.URL{Bucket: "bucket", ListV1: true}},
	{name: "s3-list-api-version 1", in: "s3://bucket/?s3-list-api-version=1", want: s3dest.URL{Bucket: "bucket", ListV1: true}},
	{name: "s3-list-api-version v2", in: "s3://bucket/?s3-list-api-version=v1&s3-list-api-version=v2", want: s3dest.URL{Bucket: "bucket"}},
	{name: "s3-recursive-list", in: "s3://bucket/?s3-recursive-list=true", want: s3dest.URL{Bucket: "bucket", RecursiveList: true}},
	{name: "s3-lock-mode governance", in: "s3://bucket/?s3-lock-mode=governance", want: s3dest.URL{Bucket: "bucket", LockMode: "GOVERNANCE"}},
	{name: "s3-lock-mode Compliance", in: "s3://bucket/?s3-lock-mode=Compliance", want: s3dest.URL{Bucket: "bucket", LockMode: "COMPLIANCE"}},
	{name: "s3-disable-chunk-encoding", in: "s3://bucket/?s3-disable-chunk-encoding=true", want: s3dest.URL{Bucket: "bucket", DisableChunkEncoding: true}},
	{name: "s3-disable-payload-signing", in: "s3://bucket/?s3-disable-payload-signing=on", want: s3dest.URL{Bucket: "bucket", DisablePayloadSigning: true}},
	{name: "s3-ext-usedualstackendpoint", in: "s3://bucket/?s3-ext-usedualstackendpoint=true", want: s3dest.URL{Bucket: "bucket", DualStack: true}},
	{name: "s3-ext-usefipsendpoint", in: "s3://bucket/?s3-ext-usefipsendpoint=true", want: s3dest.URL{Bucket: "bucket", FIPS: true}},
	{name: "s3-ext-useaccelerateendpoint", in: "s3://bucket/?s3-ext-useaccelerateendpoint=true", want: s3dest.URL{Bucket: "bucket", Accelerate: true}},
	{name: "s3-ext-maxerrorretry", in: "s3://bucket/?s3-ext-maxerrorretry=5", want: s3dest.URL{Bucket: "bucket", MaxErrorRetry: urlInt(5)}},
	{name: "s3-ext-maxerrorretry 0", in: "s3://bucket/?s3-ext-maxerrorretry=0", want: s3dest.URL{Bucket: "bucket", MaxErrorRetry: urlInt(0)}},
	{name: "s3-ext-maxerrorretry 100", in: "s3://bucket/?s3-ext-maxerrorretry=100", want: s3dest.URL{Bucket: "bucket", MaxErrorRetry: urlInt(100)}},
	{name: "s3-ext-requestchecksumcalculation", in: "s3://bucket/?s3-ext-requestchecksumcalculation=WhenRequired", want: s3dest.URL{Bucket: "bucket", RequestChecksum: "when_required"}},
	{name: "s3-ext-requestchecksumcalculation snake", in: "s3://bucket/?s3-ext-requestchecksumcalculation=when_supported", want: s3dest.URL{Bucket: "bucket", RequestChecksum: "when_supported"}},
	{name: "s3-ext-responsechecksumvalidation", in: "s3://bucket/?s3-ext-responsechecksumvalidation=WHEN_SUPPORTED", want: s3dest.URL{Bucket: "bucket", ResponseChecksum: "when_supported"}},
	{name: "s3-ext-responsechecksumvalidation required", in: "s3://bucket/?s3-ext-responsechecksumvalidation=whenrequired", want: s3dest.URL{Bucket: "bucket", ResponseChecksum: "when_required"}},
	{name: "short-timeout seconds", in: "s3://bucket/?short-timeout=30", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: 30 * time.Second}}},
	{name: "short-timeout 30s", in: "s3://bucket/?short-timeout=30s", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: 30 * time.Second}}},
	{name: "list-timeout 10m", in: "s3://bucket/?list-timeout=10m", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{List: 10 * time.Minute}}},
	{name: "read-write-timeout 1h30m", in: "s3://bucket/?read-write-timeout=1h30m", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: 90 * time.Minute}}},
	{name: "timeout 2D", in: "s3://bucket/?short-timeout=2D", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: 48 * time.Hour}}},
	{name: "timeout 1W2d", in: "s3://bucket/?list-timeout=1W2d", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{List: 9 * 24 * time.Hour}}},
	{name: "timeout 500ms", in: "s3://bucket/?read-write-timeout=500ms", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: 500 * time.Millisecond}}},
	{name: "timeout 1.5s", in: "s3://bucket/?read-write-timeout=1.5s", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: 1500 * time.Millisecond}}},
	{name: "timeout 1s500ms", in: "s3://bucket/?read-write-timeout=1s500ms", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: 1500 * time.Millisecond}}},
	{name: "timeout 1D12h", in: "s3://bucket/?list-timeout=1D12h", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{List: 36 * time.Hour}}},
	// "0" removes the limit (a negative Timeouts field), whatever its unit.
	{name: "timeout 0 is no limit", in: "s3://bucket/?short-timeout=0", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: -1}}},
	{name: "timeout 0s is no limit", in: "s3://bucket/?list-timeout=0s", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{List: -1}}},
	{name: "timeout 0m is no limit", in: "s3://bucket/?list-timeout=0m", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{List: -1}}},
	{name: "timeout 0D is no limit", in: "s3://bucket/?read-write-timeout=0D", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: -1}}},
	{name: "timeout 0W is no limit", in: "s3://bucket/?read-write-timeout=0W", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: -1}}},
	{name: "all timeouts", in: "s3://bucket/?short-timeout=1m&list-timeout=2m&read-write-timeout=3m",
		want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: time.Minute, List: 2 * time.Minute, ReadWrite: 3 * time.Minute}}},
}

func TestParseURL(t *testing.T) {
	for _, tc := range validURLs {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s3dest.ParseURL(tc.in)
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, *u, ignoreURLSecret); diff != "" {
				t.Errorf("ParseURL(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestURLStringRoundTrip checks that String is canonical: ParseURL reads it
// back to the same URL, and it is a fixed point.
func TestURLStringRoundTrip(t *testing.T) {
	for _, tc := range validURLs {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s3dest.ParseURL(tc.in)
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.in, err)
			}
			checkURLRoundTrip(t, u)
		})
	}
}

func checkURLRoundTrip(t *testing.T, u *s3dest.URL) {
	t.Helper()
	s := u.String()
	u2, err := s3dest.ParseURL(s)
	if err != nil {
		t.Fatalf("ParseURL(String() = %q): %v", s, err)
	}
	if diff := cmp.Diff(u, u2, ignoreURLSecret); diff != "" {
		t.Errorf("ParseURL(%q) differs from the URL it came from (-before +after):\n%s", s, diff)
	}
	if s2 := u2.String(); s2 != s {
		t.Errorf("String is not a fixed point:\n first  %q\n second %q", s, s2)
	}
	if u2.HasSecret() {
		t.Errorf("ParseURL(String() = %q) has a secret: String must leave it out", s)
	}
}

func TestURLString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"s3://bucket", "s3://bucket/"},
		{"S3://bucket:9000/a/b", "s3://bucket/a/b/"},
		{"s3s://bucket", "s3://bucket/?use-ssl=true"},
		{"s3://bucket/my+folder/a%2Fb%3Fc", "s3://bucket/my%20folder/a/b%3Fc/"},
		{"s3://bucket/a%2Bb%25c/%C3%A9", "s3://bucket/a%2Bb%25c/%C3%A9/"},
		{"s3://KEY:" + urlSecret + "@bucket/p", "s3://bucket/p/?aws-access-key-id=KEY"},
		{"S3S://Bucket/a+b?S3-STORAGE-CLASS=GLACIER&server-name=minio:9000&auth-username=K&auth-password=" + urlSecret,
			"s3://Bucket/a%20b/?aws-access-key-id=K&s3-server-name=minio%3A9000&use-ssl=true&s3-storage-class=GLACIER"},
		{"s3://bucket/?s3-use-rrs&s3-european-buckets&list-api-version=v1&s3-lock-mode=Governance",
			"s3://bucket/?s3-location-constraint=eu-west-1&s3-storage-class=REDUCED_REDUNDANCY&s3-list-api-version=v1&s3-lock-mode=governance"},
		{"s3://bucket/?short-timeout=90&list-timeout=2D&read-write-timeout=500ms",
			"s3://bucket/?short-timeout=1m30s&list-timeout=48h0m0s&read-write-timeout=500ms"},
		{"s3://bucket/?short-timeout=0s&list-timeout=1500ms&read-write-timeout=0",
			"s3://bucket/?short-timeout=0&list-timeout=1.5s&read-write-timeout=0"},
		{"s3://bucket/?s3-ext-usefipsendpoint&s3-ext-useaccelerateendpoint&s3-ext-usedualstackendpoint&s3-disable-payload-signing&s3-disable-chunk-encoding&s3-recursive-list",
			"s3://bucket/?s3-recursive-list=true&s3-disable-chunk-encoding=true&s3-disable-payload-signing=true&s3-ext-usedualstackendpoint=true&s3-ext-usefipsendpoint=true&s3-ext-useaccelerateendpoint=true"},
		{"s3://bucket/?s3-ext-responsechecksumvalidation=whenrequired&s3-ext-requestchecksumcalculation=WhenSupported&s3-ext-maxerrorretry=3&s3-ext-forcepathstyle=0&s3-archive-classes=GLACIER,+DEEP_ARCHIVE&s3-ext-authenticationregion=auto",
			"s3://bucket/?s3-authentication-region=auto&s3-archive-classes=GLACIER%2CDEEP_ARCHIVE&s3-ext-forcepathstyle=false&s3-ext-maxerrorretry=3&s3-ext-requestchecksumcalculation=when_supported&s3-ext-responsechecksumvalidation=when_required"},
	}
	for _, tc := range tests {
		u, err := s3dest.ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if got := u.String(); got != tc.want {
			t.Errorf("ParseURL(%q).String():\n got  %q\n want %q", tc.in, got, tc.want)
		}
	}
}

// TestURLStringRoundTripEdges are round trips of values that are easy to get
// wrong: the canonical form must read back to the same URL.
func TestURLStringRoundTripEdges(t *testing.T) {
	tests := []string{
		"s3://bucket//+x",                    // prefix that starts with a space once the slash is dropped
		"s3://bucket/?s3-archive-classes=,",  // explicitly no archive classes
		"s3://%20KEY@bucket",                 // access key id with a space, from the userinfo
		"s3://bucket/?short-timeout=1s500ms", // 1.5s
		"s3://bucket/?list-timeout=1500ms",   // 1.5s
		"s3://bucket/?short-timeout=999999W", // larger than a time.Duration holds
		"s3://bucket/?short-timeout=2147483647h",
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			u, err := s3dest.ParseURL(in)
			if err != nil {
				return // refusing is fine too
			}
			checkURLRoundTrip(t, u)
		})
	}
}

// TestParseURLTimeoutOverflow: a timeout too large for time.Duration must be
// refused, not wrapped around to some other value (a negative one would
// silently mean "no limit").
func TestParseURLTimeoutOverflow(t *testing.T) {
	for _, v := range []string{"999999W", "2147483647h", "200000000m", "2147483647D"} {
		in := "s3://bucket/?short-timeout=" + v
		u, err := s3dest.ParseURL(in)
		if err == nil {
			t.Errorf("ParseURL(%q) = short-timeout %v, want an error (the value overflows time.Duration)", in, u.Timeouts.Short)
		}
	}
}

type urlErrorCase struct {
	name string
	in   string
	want []string // substrings of the message
}

var invalidURLs = []urlErrorCase{
	// Schemes.
	{name: "empty", in: "", want: []string{"missing scheme"}},
	{name: "no scheme", in: "bucket/prefix", want: []string{"missing scheme"}},
	{name: "one slash", in: "s3:/bucket/prefix", want: []string{"missing scheme"}},
	{name: "http", in: "http://bucket/prefix", want: []string{"unsupported scheme", `"http"`}},
	{name: "gs", in: "gs://bucket", want: []string{"unsupported scheme", `"gs"`}},
	{name: "s3a", in: "s3a://bucket", want: []string{"unsupported scheme"}},
	{name: "fragment", in: "s3://bucket/p#x", want: []string{"'#'"}},
	{name: "s3s with use-ssl=false", in: "s3s://bucket/?use-ssl=false", want: []string{"use-ssl", "s3s://", "contradicts"}},

	// Buckets.
	{name: "no bucket", in: "s3://", want: []string{"bucket name is empty"}},
	{name: "no bucket with prefix", in: "s3:///prefix", want: []string{"bucket name is empty"}},
	{name: "only a port", in: "s3://:9000/prefix", want: []string{"bucket name is empty"}},
	{name: "one character", in: "s3://a", want: []string{`"a"`, "3 to 63"}},
	{name: "two characters", in: "s3://ab/p", want: []string{`"ab"`}},
	{name: "256 characters", in: "s3://" + strings.Repeat("b", 256), want: []string{"bucket name"}},
	{name: "bang", in: "s3://bucket!/p", want: []string{`"bucket!"`, "'!'"}},
	{name: "space", in: "s3://my bucket", want: []string{"bucket name"}},
	{name: "escaped", in: "s3://my%20bucket", want: []string{"bucket name"}},
	{name: "non-ascii", in: "s3://bücket", want: []string{"bucket name"}},
	{name: "leading hyphen", in: "s3://-bucket", want: []string{"start and end"}},
	{name: "trailing dot", in: "s3://bucket./p", want: []string{"start and end"}},
	{name: "leading underscore", in: "s3://_bucket", want: []string{"start and end"}},
	{name: "two dots", in: "s3://my..bucket", want: []string{`".."`}},
	{name: "ip address", in: "s3://192.168.1.10/p", want: []string{"IP address", "s3-server-name"}},
	{name: "ip address and port", in: "s3://10.0.0.1:9000/p", want: []string{"IP address"}},
	{name: "ipv6", in: "s3://[::1]:9000/p", want: []string{"bucket name"}},

	// Prefixes.
	{name: "dot-dot segment", in: "s3://bucket/a/../b", want: []string{`".."`}},
	{name: "dot-dot only", in: "s3://bucket/..", want: []string{`".."`}},
	{name: "escaped dot-dot", in: "s3://bucket/a/%2E%2E/b", want: []string{`".."`}},
	{name: "dot segment", in: "s3://bucket/./a", want: []string{`"."`}},
	{name: "bad escape in prefix", in: "s3://bucket/a%zz", want: []string{"prefix", "%-escape"}},
	{name: "control character", in: "s3://bucket/a%00b", want: []string{"control character"}},
	{name: "invalid utf-8", in: "s3://bucket/a%FF", want: []string{"UTF-8"}},

	// Options.
	{name: "unknown option", in: "s3://bucket/?frobnicate=1", want: []string{"unknown option", "option table"}},
	{name: "typo suggests", in: "s3://bucket/?s3-storage-clas=GLACIER", want: []string{`"s3-storage-clas"`, "did you mean s3-storage-class?"}},
	{name: "typo in upper case", in: "s3://bucket/?S3-LOCATION-CONSTRIANT=eu-west-1", want: []string{"s3-location-constriant", "did you mean s3-location-constraint?"}},
	{name: "alias typo suggests canonical", in: "s3://bucket/?list-api-versio=v2", want: []string{"did you mean s3-list-api-version?"}},
	{name: "unsupported s3-ext", in: "s3://bucket/?s3-ext-signatureversion=4", want: []string{`unknown option "s3-ext-signatureversion"`}},
	{name: "bad escape in name", in: "s3://bucket/?s3-%zz=1", want: []string{"option name", "%-escape"}},
	{name: "bad escape in value", in: "s3://bucket/?s3-storage-class=%zz", want: []string{"s3-storage-class", "%-escape"}},
	{name: "bad bool use-ssl", in: "s3://bucket/?use-ssl=maybe", want: []string{"use-ssl", `"maybe"`, "not a boolean"}},
	{name: "bad bool 2", in: "s3://bucket/?s3-recursive-list=2", want: []string{"s3-recursive-list", "not a boolean"}},
	{name: "bad bool european", in: "s3://bucket/?s3-european-buckets=si", want: []string{"s3-european-buckets"}},
	{name: "bad bool rrs", in: "s3://bucket/?s3-use-rrs=y", want: []string{"s3-use-rrs"}},
	{name: "bad bool path style", in: "s3://bucket/?s3-ext-forcepathstyle=sometimes", want: []string{"s3-ext-forcepathstyle"}},
	{name: "bad bool chunk", in: "s3://bucket/?s3-disable-chunk-encoding=enabled", want: []string{"s3-disable-chunk-encoding"}},
	{name: "bad bool payload", in: "s3://bucket/?s3-disable-payload-signing=t", want: []string{"s3-disable-payload-signing"}},
	{name: "bad bool dualstack", in: "s3://bucket/?s3-ext-usedualstackendpoint=2", want: []string{"s3-ext-usedualstackendpoint"}},
	{name: "bad bool fips", in: "s3://bucket/?s3-ext-usefipsendpoint=x", want: []string{"s3-ext-usefipsendpoint"}},
	{name: "bad bool accelerate", in: "s3://bucket/?s3-ext-useaccelerateendpoint=x", want: []string{"s3-ext-useaccelerateendpoint"}},
	{name: "bad s3-client", in: "s3://bucket/?s3-client=gcs", want: []string{"s3-client", `"gcs"`, "aws or minio"}},
	{name: "bad s3-client minio2", in: "s3://bucket/?s3-client=minio2", want: []string{"s3-client"}},
	{name: "bad list api version", in: "s3://bucket/?s3-list-api-version=v3", want: []string{"s3-list-api-version", "v1 or v2"}},
	{name: "bad list api version alias", in: "s3://bucket/?list-api-version=3", want: []string{"list-api-version"}},
	{name: "bad lock mode", in: "s3://bucket/?s3-lock-mode=strict", want: []string{"s3-lock-mode", "governance or compliance"}},
	{name: "negative retries", in: "s3://bucket/?s3-ext-maxerrorretry=-1", want: []string{"s3-ext-maxerrorretry", "0 to 100"}},
	{name: "too many retries", in: "s3://bucket/?s3-ext-maxerrorretry=101", want: []string{"s3-ext-maxerrorretry"}},
	{name: "retries not a number", in: "s3://bucket/?s3-ext-maxerrorretry=many", want: []string{"s3-ext-maxerrorretry"}},
	{name: "bad request checksum", in: "s3://bucket/?s3-ext-requestchecksumcalculation=always", want: []string{"s3-ext-requestchecksumcalculation", "when_supported or when_required"}},
	{name: "bad response checksum", in: "s3://bucket/?s3-ext-responsechecksumvalidation=", want: []string{"s3-ext-responsechecksumvalidation"}},
	{name: "bad timeout word", in: "s3://bucket/?short-timeout=soon", want: []string{"short-timeout", "not a duration"}},
	{name: "negative timeout", in: "s3://bucket/?list-timeout=-5", want: []string{"list-timeout"}},
	{name: "bad timeout unit", in: "s3://bucket/?read-write-timeout=10x", want: []string{"read-write-timeout"}},
	{name: "negative go timeout", in: "s3://bucket/?short-timeout=-5s", want: []string{"short-timeout"}},
	{name: "fraction without unit", in: "s3://bucket/?short-timeout=1.5", want: []string{"short-timeout"}},
	{name: "unit without number", in: "s3://bucket/?short-timeout=m", want: []string{"short-timeout"}},
	{name: "upper-case hour", in: "s3://bucket/?short-timeout=1H", want: []string{"short-timeout"}},
}

func TestParseURLErrors(t *testing.T) {
	for _, tc := range invalidURLs {
		t.Run(tc.name, func(t *testing.T) {
			u, err := s3dest.ParseURL(tc.in)
			if err == nil {
				t.Fatalf("ParseURL(%q) = %+v, want an error", tc.in, *u)
			}
			checkURLError(t, err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseURL(%q) error %q does not contain %q", tc.in, err, w)
				}
			}
		})
	}
}

func checkURLError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("error %q is not ErrInvalid", err)
	}
	var e *s3dest.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not an *s3dest.Error", err, err)
	}
	if e.Op != "parse-url" {
		t.Errorf("error %q has Op %q, want parse-url", err, e.Op)
	}
}

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

// fuzzSecretMark marks the secrets in the fuzz seeds; only values carrying it
// are checked for leaks, so that the fuzzer moving text around cannot make an
// ordinary prefix or option value look like a secret.
const fuzzSecretMark = "SECRET"

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"s3://bucket",
		"s3s://Bucket_1.x/a/b/",
		"S3://bucket:9000//my+folder/sub%20dir/%C3%A9",
		"s3://AKID:SECRETxyz@bucket/prefix?s3-storage-class=GLACIER",
		"s3://AK%2BID:SECRET%2Fxyz%40q@bucket/p",
		"s3://bucket/p?aws-access-key-id=AKID&aws-secret-access-key=SECRETxyz&use-ssl=false",
		"s3://bucket/?aws_access_key_id=A&aws_secret_access_key=SECRETabc&s3-storage-clas=x",
		"s3://BUCKET/?s3-location-constraint=REGION&s3-storage-class=&s3-client=aws&auth-username=KEY&auth-password=SECRETpass&s3-server-name=host:port",
		"s3://bucket/path?s3-server-name=..&s3-location-constraint=..&s3-storage-class=..&use-ssl=true",
		"s3://bucket/?s3-european-buckets&s3-use-rrs=1&list-api-version=v1&s3-lock-mode=governance&s3-recursive-list=yes",
		"s3://bucket/?s3-archive-classes=GLACIER,DEEP_ARCHIVE&s3-ext-forcepathstyle=off&s3-ext-maxerrorretry=3",
		"s3://bucket/?short-timeout=30&list-timeout=10m&read-write-timeout=1h30m",
		"s3://bucket/?short-timeout=2D&list-timeout=0&read-write-timeout=1W",
		"s3://bucket/?s3-ext-requestchecksumcalculation=when_required&s3-ext-responsechecksumvalidation=WhenSupported&s3-ext-usedualstackendpoint&s3-ext-usefipsendpoint=0&s3-ext-useaccelerateendpoint=no",
		"s3://bucket/?s3-disable-chunk-encoding=true&s3-disable-payload-signing&s3-authentication-region=auto&server-name=http://127.0.0.1:9000",
		"s3://bucket/a/../b?aws-secret-access-key=SECRETzz9",
		"s3://bucket/p#frag?aws-secret-access-key=SECRETzz9",
		"s3://AKID:xyz@bucket/?session-token=SECRETtok9&remote-file-lock-duration=30D",
		"s3://bucket/?profile=work&s3-lock-mode=COMPLIANCE&remote-file-lock-duration=1Y6M",
		"s3://bucket/?anonymous&remote-file-lock-duration=36h",
		"s3://AKID:wJal/rXU+tn:SECRETk@bucket/p@q",
		"s3://AKID:9wJal/rXU+tn:SECRETk@bucket/p",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := s3dest.ParseURL(raw)
		secrets := fuzzSecrets(raw)
		// The mark occurs once, in the secret: seen anywhere, even
		// escaped, the secret leaked.
		if err != nil {
			checkURLError(t, err)
			if len(secrets) > 0 && strings.Contains(err.Error(), fuzzSecretMark) {
				t.Fatalf("ParseURL(%q) error shows the secret %q: %q", raw, secrets, err)
			}
			return
		}
		s := u.String()
		if len(secrets) > 0 && strings.Contains(s, fuzzSecretMark) {
			t.Fatalf("ParseURL(%q).String() = %q shows the secret %q", raw, s, secrets)
		}
		u2, err := s3dest.ParseURL(s)
		if err != nil {
			t.Fatalf("ParseURL(%q) ok, but ParseURL(String() = %q): %v", raw, s, err)
		}
		if diff := cmp.Diff(u, u2, ignoreURLSecret); diff != "" {
			t.Fatalf("ParseURL(%q): round trip through %q differs (-before +after):\n%s", raw, s, diff)
		}
		if s2 := u2.String(); s2 != s {
			t.Fatalf("ParseURL(%q): String is not a fixed point: %q then %q", raw, s, s2)
		}
	})
}

// fuzzSecrets returns the secret values raw carries (after a secret option's
// '=' or in the userinfo), as written, when they are distinctive: at least 6
// bytes, holding fuzzSecretMark, written once in raw and not to be found
// elsewhere once raw is decoded.
func fuzzSecrets(raw string) []string {
	var cands []string
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		// Whatever lies between the first ':' of the authority and any '@'
		// may be the secret of the user part, '/' and '@' included: a raw
		// '/' in a secret is common and must not end it unnoticed.
		rest, _, _ = strings.Cut(rest, "?")
		rest, _, _ = strings.Cut(rest, "#")
		auth, _, _ := strings.Cut(rest, "/")
		if colon := strings.Index(auth, ":"); colon >= 0 {
			for at := colon + 1; at < len(rest); at++ {
				if rest[at] == '@' {
					cands = append(cands, rest[colon+1:at])
				}
			}
		}
	}
	if _, q, ok := strings.Cut(raw, "?"); ok {
		for pair := range strings.SplitSeq(q, "&") {
			k, v, ok := strings.Cut(pair, "=")
			switch strings.ToLower(k) {
			case "aws-secret-access-key", "aws_secret_access_key", "auth-password", "session-token", "aws-session-token":
				if ok {
					cands = append(cands, v)
				}
			}
		}
	}
	decoded, err := url.QueryUnescape(raw)
	if err != nil {
		decoded = raw
	}
	var out []string
	for _, c := range cands {
		if len(c) >= 6 && strings.Contains(c, fuzzSecretMark) &&
			strings.Count(raw, c) == 1 && strings.Count(raw, fuzzSecretMark) == 1 &&
			strings.Count(decoded, fuzzSecretMark) <= 1 {
			out = append(out, c)
		}
	}
	return out
}

package s3dest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
)

func urlBool(b bool) *bool { return &b }

func urlInt(n int) *int { return &n }

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
	{name: "same value twice", in: "s3://bucket/?s3-storage-class=B&s3-storage-class=B", want: s3dest.URL{Bucket: "bucket", StorageClass: "B"}},
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
	{name: "bool true twice", in: "s3://bucket/?s3-recursive-list=true&s3-recursive-list=yes", want: s3dest.URL{Bucket: "bucket", RecursiveList: true}},
	{name: "bool false twice", in: "s3://bucket/?s3-recursive-list=false&s3-recursive-list=0", want: s3dest.URL{Bucket: "bucket"}},

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
	{name: "s3-list-api-version v2", in: "s3://bucket/?s3-list-api-version=v2&list-api-version=2", want: s3dest.URL{Bucket: "bucket"}},
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
	// "0" removes the limit (NoTimeout), whatever its unit.
	{name: "timeout 0 is no limit", in: "s3://bucket/?short-timeout=0", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{Short: s3dest.NoTimeout}}},
	{name: "timeout 0s is no limit", in: "s3://bucket/?list-timeout=0s", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{List: s3dest.NoTimeout}}},
	{name: "timeout 0m is no limit", in: "s3://bucket/?list-timeout=0m", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{List: s3dest.NoTimeout}}},
	{name: "timeout 0D is no limit", in: "s3://bucket/?read-write-timeout=0D", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: s3dest.NoTimeout}}},
	{name: "timeout 0W is no limit", in: "s3://bucket/?read-write-timeout=0W", want: s3dest.URL{Bucket: "bucket", Timeouts: s3dest.Timeouts{ReadWrite: s3dest.NoTimeout}}},
	// Empty, as any other option: not given, the default limit; never none.
	{name: "timeout empty keeps the default", in: "s3://bucket/?short-timeout=", want: s3dest.URL{Bucket: "bucket"}},
	{name: "timeout without value keeps the default", in: "s3://bucket/?list-timeout&read-write-timeout=%20", want: s3dest.URL{Bucket: "bucket"}},
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
				checkURLError(t, err) // refusing is fine too, as a refusal
				return
			}
			checkURLRoundTrip(t, u)
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

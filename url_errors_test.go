package s3dest_test

import (
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
)

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
	{name: "misspelt s3-ext", in: "s3://bucket/?s3-ext-signaturversion=4", want: []string{`unknown option "s3-ext-signaturversion"`, "did you mean s3-ext-signatureversion?"}},
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

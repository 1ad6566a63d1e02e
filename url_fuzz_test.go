package s3dest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
)

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
		"s3://bucket/?s3-ext-serviceurl=http://minio:9000&s3-ext-usehttp=true&s3-ext-timeout=00:05:00&s3-ext-readwritetimeout=1.00:00:00.5",
		"s3://bucket/?s3-ext-proxyhost=[::1]&s3-ext-proxyport=3128&s3-ext-connectionlimit=8&s3-ext-connecttimeout=10&s3-ext-logresponse=True",
		"s3://bucket/?s3-ext-proxycredentials=SECRETpx1&s3-ext-signatureversion=4&s3-ext-retrymode=adaptive&short-timeout=1m",
		"s3://bucket/?server-name=a&s3-server-name=b&s3-ext-authenticationregion=auto&s3-authentication-region=x",
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
			case "aws-secret-access-key", "aws_secret_access_key", "auth-password", "session-token", "aws-session-token",
				"s3-ext-proxycredentials":
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

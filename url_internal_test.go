package s3dest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestParseURLSecret checks the one thing the black-box tests cannot see: the
// secret access key ParseURL keeps, with its precedence
// aws-secret-access-key > userinfo password > auth-password.
func TestParseURLSecret(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means no secret
	}{
		{"s3://bucket/p", ""},
		{"s3://AKID@bucket/p", ""},
		{"s3://AKID:@bucket/p", ""},
		{"s3://AKID:s3cr3t@bucket/p", "s3cr3t"},
		{"s3://AKID:a+b%2Fc%40d%3Ae@bucket/p", "a+b/c@d:e"},
		{"s3://AKID:p@ss:w@rd@bucket/p", "p@ss:w@rd"},
		{"s3://AKID:s3cr3t@bucket:9000/p", "s3cr3t"},
		{"s3://AKID:%20s3cr3t%09@bucket/p", "s3cr3t"},
		{"s3://AKID:%20@bucket/?auth-password=authpass", "authpass"},
		{"s3://bucket/?aws-secret-access-key=q1", "q1"},
		{"s3://bucket/?AWS-Secret-Access-Key=q1", "q1"},
		{"s3://bucket/?aws_secret_access_key=under", "under"},
		{"s3://bucket/?aws-secret-access-key=a+b%2Bc%26d", "a b+c&d"},
		{"s3://bucket/?aws-secret-access-key=%20padded%09", "padded"},
		// A raw '+' is a space, even at an end: the signature is refused
		// with the hint to write it %2B, rather than the secret cut short.
		{"s3://bucket/?aws-secret-access-key=+padded+", " padded "},
		{"s3://bucket/?auth-password=authpass", "authpass"},
		{"s3://USER:userpass@bucket/?auth-password=authpass", "userpass"},
		{"s3://USER:userpass@bucket/?aws-secret-access-key=q1&auth-password=authpass", "q1"},
		{"s3://USER:userpass@bucket/?auth-password=authpass&aws_secret_access_key=under", "under"},
		{"s3://USER:userpass@bucket/?aws-secret-access-key=", "userpass"},
		{"s3://USER:@bucket/?auth-password=authpass", "authpass"},
		{"s3://bucket/?aws-secret-access-key=second&aws_secret_access_key=second", "second"},
		{"s3s://bucket/?auth-username=u&auth-password=pw", "pw"},
	}
	for _, tc := range tests {
		u, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		got := ""
		if u.secretKey != nil {
			got = *u.secretKey
		}
		if got != tc.want {
			t.Errorf("ParseURL(%q) secret = %q, want %q", tc.in, got, tc.want)
		}
		if u.HasSecret() != (tc.want != "") {
			t.Errorf("ParseURL(%q).HasSecret() = %v", tc.in, u.HasSecret())
		}
	}
}

// TestURLOptionsCarrySecret checks that Options hands the parsed key pair to
// the config, the only place outside URL that holds the secret.
func TestURLOptionsCarrySecret(t *testing.T) {
	u, err := ParseURL("s3://USER:userpass@bucket/?aws-access-key-id=AKID&auth-password=authpass")
	if err != nil {
		t.Fatal(err)
	}
	var c config
	for _, o := range u.Options() {
		o(&c)
	}
	if c.creds == nil || *c.creds != (secret{accessKeyID: "AKID", secretAccessKey: "userpass"}) {
		t.Errorf("config credentials = %+v, want AKID / userpass", c.creds)
	}
}

// TestURLOptionsRetries: s3-ext-maxerrorretry counts retries, the config
// counts attempts; no option leaves the SDK default.
func TestURLOptionsRetries(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"s3://bucket/", 0},
		{"s3://bucket/?s3-ext-maxerrorretry=0", 1},
		{"s3://bucket/?s3-ext-maxerrorretry=4", 5},
		{"s3://bucket/?s3-ext-maxerrorretry=100", 101}, // the most ParseURL takes
	} {
		u, err := ParseURL(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var c config
		for _, o := range u.Options() {
			o(&c)
		}
		if c.retryAttempts != tc.want {
			t.Errorf("ParseURL(%q).Options(): retryAttempts = %d, want %d", tc.in, c.retryAttempts, tc.want)
		}
		// What ParseURL takes, New takes.
		sep := map[bool]string{false: "?", true: "&"}[strings.Contains(tc.in, "?")]
		if _, err := Open(t.Context(), tc.in+sep+"aws-access-key-id=AKID&aws-secret-access-key=s3cr3t"); err != nil {
			t.Errorf("Open(%q): %v", tc.in, err)
		}
	}
}

// TestParseURLSecretWithReservedCharacters: AWS secrets often hold '/' and
// '+', others ':' or '@'. Written raw in the URL's user part, each must
// parse as the secret, with the bucket and prefix after it, or be refused
// with an error that shows no part of it. Never may the secret become the
// bucket or the prefix (and so reach String, errors and request paths).
func TestParseURLSecretWithReservedCharacters(t *testing.T) {
	secrets := []string{
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz",
		"/wJalrXUtnFEMIK7MDENGbPxRfiCYzzSECRETzz",
		"wJalrXUtnFEMIK7MDENGbPxRfiCYzzSECRETzz/",
		"1234/wJalrXUtnFEMIK7MDENGbPxRfiCYzzSECRET",
		"wJalr+XUtnFEMI+K7MDENG+bPxRfiCYzzSECRETzz",
		"wJalr:XUtnFEMI:K7MDENGbPxRfiCYzzSECRETzz",
		"wJalr@XUtnFEMI@K7MDENGbPxRfiCYzzSECRETzz",
		"wJalr/XUtnFEMI@K7MDENG+bPxRfi:CYzzSECRETzz",
		"wJalr@XUtnFEMI/K7MDENG+bPxRfi:CYzzSECRETzz",
	}
	for _, secret := range secrets {
		for _, rest := range []string{"@backups/laptop", "@backups", "@backups/laptop@home/x", "@backups:9000/laptop"} {
			in := "s3://AKIAIOSFODNN7EXAMPLE:" + secret + rest
			u, err := ParseURL(in)
			if err != nil {
				if !strings.Contains(err.Error(), "%2F") || !strings.Contains(err.Error(), "aws-secret-access-key") {
					t.Errorf("ParseURL(%q): %v; want a hint to percent-encode or use aws-secret-access-key", in, err)
				}
				for i := 0; i+6 <= len(secret); i++ {
					if strings.Contains(err.Error(), secret[i:i+6]) {
						t.Errorf("ParseURL(%q) error shows part of the secret (%q): %v", in, secret[i:i+6], err)
						break
					}
				}
				continue
			}
			if u.secretKey == nil || *u.secretKey != secret || u.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" || u.Bucket != "backups" {
				t.Errorf("ParseURL(%q): id %q, bucket %q, prefix %q, secret kept %v; want the secret, bucket backups",
					in, u.AccessKeyID, u.Bucket, u.Prefix, u.secretKey != nil && *u.secretKey == secret)
			}
			for i := 0; i+6 <= len(secret); i++ {
				if strings.Contains(u.String(), secret[i:i+6]) {
					t.Errorf("ParseURL(%q).String() = %q shows part of the secret", in, u.String())
					break
				}
			}
		}
		// Percent-encoded, every secret parses.
		in := "s3://AKIAIOSFODNN7EXAMPLE:" + url.PathEscape(secret) + "@backups/laptop"
		if u, err := ParseURL(in); err != nil || u.secretKey == nil || *u.secretKey != secret || u.Prefix != "laptop/" {
			t.Errorf("ParseURL(%q): %v; want the secret", in, err)
		}
	}
}

// TestURLExtTransport: s3-ext-maxconnectionsperserver caps the connections
// to the server and s3-ext-connecttimeout bounds connecting, on the
// transport New builds.
func TestURLExtTransport(t *testing.T) {
	u, err := ParseURL("s3://bucket/?s3-ext-maxconnectionsperserver=6&s3-ext-connecttimeout=00:00:07")
	if err != nil {
		t.Fatal(err)
	}
	var c config
	for _, o := range u.Options() {
		o(&c)
	}
	hc, err := httpClient(&c)
	if err != nil {
		t.Fatal(err)
	}
	bc, ok := hc.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("httpClient = %T, want the SDK's BuildableClient", hc)
	}
	if got := bc.GetTransport().MaxConnsPerHost; got != 6 {
		t.Errorf("MaxConnsPerHost = %d, want 6 (s3-ext-maxconnectionsperserver)", got)
	}
	if got := bc.GetDialer().Timeout; got != 7*time.Second {
		t.Errorf("dialer timeout = %v, want 7s (s3-ext-connecttimeout)", got)
	}
}

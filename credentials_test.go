package s3dest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// isolateAWS gives the AWS default chain an empty temporary HOME and clears
// every variable it reads, so that a test sees only what it sets itself and
// never the machine's own credentials.
func isolateAWS(t *testing.T) (home string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO",
	} {
		t.Setenv(v, "")
	}
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	return home
}

var credentialKey = regexp.MustCompile(`Credential=([^/]+)/`)

// signingKey returns the access key id a SigV4 Authorization header signs
// with, "" when the request is unsigned.
func signingKey(h http.Header) string {
	m := credentialKey.FindStringSubmatch(h.Get("Authorization"))
	if m == nil {
		return ""
	}
	return m[1]
}

// signedWith runs a Put and a Get on d and returns the access key id and
// session token that signed the requests: both must be the same on all.
func signedWith(t *testing.T, srv *s3test.Server, d *s3dest.Destination) (key, token string) {
	t.Helper()
	srv.ResetRequests()
	put(t, d, "vol", "data")
	if got := get(t, d, "vol"); got != "data" {
		t.Fatalf("Get = %q", got)
	}
	reqs := srv.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	key, token = signingKey(reqs[0].Header), reqs[0].Header.Get("X-Amz-Security-Token")
	for _, r := range reqs[1:] {
		if k, tok := signingKey(r.Header), r.Header.Get("X-Amz-Security-Token"); k != key || tok != token {
			t.Fatalf("%s %s signed with %q (token %q), the first request with %q (token %q)", r.Method, r.Path, k, tok, key, token)
		}
	}
	return key, token
}

// TestAnonymous: anonymous requests carry no signature, even with keys in
// the environment.
func TestAnonymous(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
	srv := withBucket(t)
	for _, d := range []*s3dest.Destination{
		newDest(t, srv, s3dest.WithAnonymous(true)),
		mustOpen(t, "s3://"+bucket+"/?anonymous=true&s3-server-name="+srv.Endpoint),
	} {
		srv.ResetRequests()
		put(t, d, "public", "data")
		if get(t, d, "public") != "data" {
			t.Error("Get: wrong content")
		}
		for _, r := range srv.Requests() {
			if h := r.Header.Get("Authorization"); h != "" {
				t.Errorf("%s %s carries Authorization %q", r.Method, r.Path, h)
			}
		}
		if !strings.Contains(d.String(), "anonymous=true") {
			t.Errorf("String() = %q lacks anonymous=true", d)
		}
	}
}

// TestSessionToken: the URL's session-token travels as
// X-Amz-Security-Token, and never into String() or an error.
func TestSessionToken(t *testing.T) {
	const token = "FwoGZXIvYXdzEXAMPLEtoken/with+chars=="
	srv := withBucket(t)
	raw := "s3://ASIAKEY:" + urlSecret + "@" + bucket + "/?s3-server-name=" + srv.Endpoint +
		"&session-token=" + strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(token)
	d := mustOpen(t, raw)
	if key, got := signedWith(t, srv, d); key != "ASIAKEY" || got != token {
		t.Errorf("signed with %q, token %q; want ASIAKEY, %q", key, got, token)
	}
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		s3test.WriteError(w, r, http.StatusForbidden, "InvalidToken", "The provided token is malformed: "+token)
		return true
	})
	err := d.Put(t.Context(), "x", strings.NewReader("x"))
	if !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Errorf("Put with a refused token: %v, want ErrAccessDenied", err)
	}
	u, perr := s3dest.ParseURL(raw)
	if perr != nil {
		t.Fatal(perr)
	}
	for _, s := range []string{d.String(), fmt.Sprintf("%v %+v", d, d), err.Error(), fmt.Sprintf("%+v", err), u.String(), fmt.Sprintf("%v %+v %#v", *u, *u, *u)} {
		if strings.Contains(s, "EXAMPLEtoken") || urlLeak(s, urlSecret) != "" {
			t.Errorf("the token or secret shows in %q", s)
		}
	}
	checkURLRoundTrip(t, u)

	// The option form.
	srv.SetHook(nil)
	d = newDest(t, srv, s3dest.WithSessionCredentials("ASIAOPT", "opt-secret", "opt-token"))
	if key, got := signedWith(t, srv, d); key != "ASIAOPT" || got != "opt-token" {
		t.Errorf("WithSessionCredentials: signed with %q, token %q", key, got)
	}
}

// countingProvider hands out fixed credentials and counts the calls.
type countingProvider struct{ calls atomic.Int32 }

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	p.calls.Add(1)
	return aws.Credentials{AccessKeyID: "AKIAPROVIDER", SecretAccessKey: "provider-secret", CanExpire: true,
		Expires: time.Now().Add(time.Hour)}, nil
}

// TestCredentialsProvider: the caller's provider signs, asked once for many
// requests (cached), and replaces the URL's keys.
func TestCredentialsProvider(t *testing.T) {
	srv := withBucket(t)
	p := &countingProvider{}
	d := mustOpen(t, "s3://AKIAURL:"+urlSecret+"@"+bucket+"/?s3-server-name="+srv.Endpoint, s3dest.WithCredentialsProvider(p))
	if key, _ := signedWith(t, srv, d); key != "AKIAPROVIDER" {
		t.Errorf("signed with %q, want AKIAPROVIDER", key)
	}
	put(t, d, "second", "x")
	if n := p.calls.Load(); n != 1 {
		t.Errorf("provider asked %d times, want once (cached)", n)
	}
	if strings.Contains(d.String(), "AKIAURL") {
		t.Errorf("String() = %q shows the replaced key", d)
	}
}

// TestURLCredentialOptions: the new options parse, print canonically and
// round-trip; contradictions within one URL are refused without showing a
// secret.
func TestURLCredentialOptions(t *testing.T) {
	valid := []struct{ in, want string }{
		{"s3://bkt/?profile=work", "s3://bkt/?profile=work"},
		{"s3://bkt/?AWS-Profile=work", "s3://bkt/?profile=work"},
		{"s3://bkt/?anonymous", "s3://bkt/?anonymous=true"},
		{"s3://bkt/?anonymous=false", "s3://bkt/"},
		{"s3://K:" + urlSecret + "@bkt/?session-token=" + urlSecret + "tok", "s3://bkt/?aws-access-key-id=K"},
		{"s3://bkt/?aws-session-token=" + urlSecret + "&auth-username=K&auth-password=" + urlSecret, "s3://bkt/?aws-access-key-id=K"},
	}
	for _, tc := range valid {
		u, err := s3dest.ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if got := u.String(); got != tc.want {
			t.Errorf("ParseURL(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		checkURLRoundTrip(t, u)
	}
	for _, in := range []string{
		"s3://bkt/?anonymous&aws-access-key-id=K&aws-secret-access-key=" + urlSecret,
		"s3://bkt/?anonymous&profile=work",
		"s3://bkt/?profile=work&auth-username=K&auth-password=" + urlSecret,
		"s3://bkt/?session-token=" + urlSecret,
		"s3://bkt/?anonymous&session-token=" + urlSecret,
	} {
		_, err := s3dest.ParseURL(in)
		if !errors.Is(err, s3dest.ErrInvalid) {
			t.Errorf("ParseURL(%q): %v, want ErrInvalid", in, err)
			continue
		}
		if leak := urlLeak(err.Error(), urlSecret); leak != "" {
			t.Errorf("ParseURL(%q) error shows the secret: %q", in, err)
		}
	}
}

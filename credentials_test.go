package s3dest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/s3test"
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

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o700); err != nil {
		t.Fatal(err)
	}
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

const sharedCredentials = `[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret

[work]
aws_access_key_id = AKIAWORK
aws_secret_access_key = work-secret
`

// TestCredentialChain: a URL without keys signs with what the AWS default
// chain finds, in its order: environment, then the profile (profile=, else
// AWS_PROFILE, else default) of the shared files. Keys and options given
// later replace earlier ones.
func TestCredentialChain(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		query     string // URL options after the server name
		opts      []s3dest.Option
		want      string
		wantToken string
	}{
		{name: "default profile", want: "AKIADEFAULT"},
		{name: "AWS_PROFILE", env: map[string]string{"AWS_PROFILE": "work"}, want: "AKIAWORK"},
		{name: "profile option beats AWS_PROFILE", env: map[string]string{"AWS_PROFILE": "default"}, query: "&profile=work", want: "AKIAWORK"},
		{name: "profile from the config file", query: "&profile=cfg", want: "AKIACONFIG"},
		{name: "environment beats the files", want: "AKIAENV",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}},
		{name: "environment session token", want: "ASIAENV", wantToken: "env-token",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token"}},
		{name: "URL keys beat the environment", query: "&aws-access-key-id=AKIAURL&aws-secret-access-key=url-secret", want: "AKIAURL",
			env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}},
		{name: "WithProfile after the URL's keys", query: "&aws-access-key-id=AKIAURL&aws-secret-access-key=url-secret",
			opts: []s3dest.Option{s3dest.WithProfile("work")}, want: "AKIAWORK"},
		{name: "WithCredentials after the URL's profile", query: "&profile=work",
			opts: []s3dest.Option{s3dest.WithCredentials("AKIAOPT", "opt-secret")}, want: "AKIAOPT"},
		{name: "credential_process", query: "&profile=proc", want: "ASIAPROCESS", wantToken: "process-token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := isolateAWS(t)
			writeFile(t, filepath.Join(home, ".aws", "credentials"), sharedCredentials)
			script := filepath.Join(home, "creds.sh")
			writeFile(t, script, "#!/bin/sh\n"+`echo '{"Version":1,"AccessKeyId":"ASIAPROCESS","SecretAccessKey":"process-secret","SessionToken":"process-token"}'`+"\n")
			writeFile(t, filepath.Join(home, ".aws", "config"), "[profile cfg]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = cfg-secret\n\n"+
				"[profile proc]\ncredential_process = "+script+"\n")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			srv := withBucket(t)
			d, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name="+srv.URL+tc.query, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			key, token := signedWith(t, srv, d)
			if key != tc.want || token != tc.wantToken {
				t.Errorf("signed with %q, token %q; want %q, token %q", key, token, tc.want, tc.wantToken)
			}
			for _, s := range []string{"secret", "token"} {
				if strings.Contains(d.String(), s) {
					t.Errorf("String() = %q shows a %s", d, s)
				}
			}
		})
	}
}

// TestCredentialChainMissingProfile: a profile the files do not hold is
// refused by New, which reads the files but asks no server.
func TestCredentialChainMissingProfile(t *testing.T) {
	isolateAWS(t)
	_, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name=http://127.0.0.1:1&profile=nosuch")
	if !errors.Is(err, s3dest.ErrInvalid) || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("Open with a missing profile: %v, want ErrInvalid naming it", err)
	}
}

// stallServer accepts connections and never answers; it counts them.
func stallServer(t *testing.T) (url string, conns *atomic.Int32) {
	t.Helper()
	conns = &atomic.Int32{}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s.URL, conns
}

// TestNoCredentialsOffAWSFailsFast: with no keys anywhere and a server
// outside AWS, the first request fails at once with an error that says what
// to set, without asking the instance metadata service, which here is a
// server that never answers: probing it would hang until the deadline.
func TestNoCredentialsOffAWSFailsFast(t *testing.T) {
	isolateAWS(t)
	imdsURL, conns := stallServer(t)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imdsURL)
	srv := withBucket(t)
	start := time.Now()
	d, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name="+srv.URL+"&s3-location-constraint=us-east-1")
	if err != nil {
		t.Fatalf("Open without credentials: %v (New must not resolve them)", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err = d.Test(ctx)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v: the credential chain probed something", elapsed)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Test hung until the deadline: %v", err)
	}
	if !errors.Is(err, s3dest.ErrAccessDenied) {
		t.Fatalf("Test without credentials: %v, want ErrAccessDenied", err)
	}
	for _, want := range []string{"no credentials", "aws-access-key-id", "profile=", "anonymous=true", "instance metadata is not asked"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the instance metadata service was asked (%d connections)", n)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d unsigned requests reached the server", n)
	}
}

// fakeIMDS serves an EC2 instance role's credentials, as the instance
// metadata service does.
func fakeIMDS(t *testing.T, key, token string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case r.Method == http.MethodPut && p == "/latest/api/token":
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds"))
			fmt.Fprint(w, "imds-session")
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-session":
			http.Error(w, "no token", http.StatusUnauthorized)
		case strings.HasSuffix(p, "/security-credentials/") || strings.HasSuffix(p, "/security-credentials-extended/"):
			fmt.Fprint(w, "backup-role")
		case strings.HasSuffix(p, "/backup-role"):
			_ = json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key,
				"SecretAccessKey": "imds-secret", "Token": token, "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
				"LastUpdated": time.Now().UTC().Format(time.RFC3339)})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// TestCredentialChainInstanceRoleOnAWS: on AWS the chain ends with the
// instance role, asked of the metadata service (a fake one here).
func TestCredentialChainInstanceRoleOnAWS(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fakeIMDS(t, "ASIAINSTANCE", "instance-token"))
	srv := withBucket(t)
	d, err := s3dest.New(t.Context(), bucket, s3dest.WithRegion("us-east-1"), s3dest.WithHTTPClient(srv.HTTPClient()),
		s3dest.WithUseSSL(false))
	if err != nil {
		t.Fatal(err)
	}
	if key, token := signedWith(t, srv, d); key != "ASIAINSTANCE" || token != "instance-token" {
		t.Errorf("signed with %q, token %q; want the instance role's", key, token)
	}
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
		mustOpen(t, "s3://"+bucket+"/?anonymous=true&s3-server-name="+srv.URL),
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
	raw := "s3://ASIAKEY:" + urlSecret + "@" + bucket + "/?s3-server-name=" + srv.URL +
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
	d := mustOpen(t, "s3://AKIAURL:"+urlSecret+"@"+bucket+"/?s3-server-name="+srv.URL, s3dest.WithCredentialsProvider(p))
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

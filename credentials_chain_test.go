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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o700); err != nil {
		t.Fatal(err)
	}
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
			d, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name="+srv.Endpoint+tc.query, tc.opts...)
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
	d, err := s3dest.Open(t.Context(), "s3://"+bucket+"/?s3-server-name="+srv.Endpoint+"&s3-location-constraint=us-east-1")
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

package s3dest_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// TestSecretNeverShown drives the error paths with a known secret and
// checks that no error, log line or string the library makes contains it.
func TestSecretNeverShown(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRET"
	srv := s3test.New(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	raw := "s3://backups/p?aws-access-key-id=AKIAX&aws-secret-access-key=" + strings.ReplaceAll(secret, "/", "%2F") +
		"&s3-server-name=" + srv.Endpoint
	d, err := s3dest.Open(t.Context(), raw, s3dest.WithLogger(logger), s3dest.WithCreateBucket(false))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	note := func(what string, err error) {
		if err == nil {
			return
		}
		texts = append(texts, what+": "+err.Error(), fmt.Sprintf("%s: %+v %#v", what, err, err))
		var e *s3dest.Error
		if errors.As(err, &e) {
			texts = append(texts, fmt.Sprintf("%+v", *e), fmt.Sprintf("%#v", *e))
		}
	}
	ctx := t.Context()
	note("test", d.Test(ctx)) // missing bucket
	note("put", d.Put(ctx, "x", strings.NewReader("x")))
	note("create", d.CreateBucket(ctx))
	d2, err := s3dest.Open(ctx, raw, s3dest.WithLogger(logger), s3dest.WithCreateBucket(true))
	if err != nil {
		t.Fatal(err)
	}
	note("put-create", d2.Put(ctx, "x", strings.NewReader("x")))
	note("get-missing", d.Get(ctx, "missing", io.Discard))
	_, err = d.Stat(ctx, "missing")
	note("stat-missing", err)
	note("rename-missing", d.Rename(ctx, "missing", "y"))
	note("invalid-name", d.Put(ctx, "../x", strings.NewReader("")))
	for _, code := range []string{"SignatureDoesNotMatch", "AccessDenied", "InvalidObjectState", "AuthorizationHeaderMalformed", "SlowDown"} {
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			s3test.WriteError(w, r, http.StatusForbidden, code, "denied")
			return true
		})
		note(code, d.Get(ctx, "x", io.Discard))
		note(code, d.Test(ctx))
	}
	srv.SetHook(nil)
	// Option errors with credentials present.
	for _, bad := range []string{
		raw + "&s3-storage-clas=GLACIER",
		raw + "&use-ssl=maybe",
		raw + "&aws-secret-access-key=%zz" + secret,
		"s3://AKIAX:" + secret + "@bad_bucket!/",
		"s3://AKIAX:" + secret + "@backups/p#frag",
		"ftp://AKIAX:" + secret + "@backups/",
		// An unescaped '&' cuts the secret: its tail must not be echoed as an option name.
		"s3://backups/?aws-access-key-id=AKIAX&aws-secret-access-key=wJalrXUtnFEMI&CiYzSECRETtail=1",
		"s3://backups/?aws-access-key-id=AKIAX&aws-secret-access-key=wJalrXUtnFEMI&ciyzsecret",
	} {
		_, err := s3dest.Open(ctx, bad)
		if err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
		note("open", err)
	}
	_, err = s3dest.New(ctx, "backups", s3dest.WithCredentials("", secret))
	note("new", err)
	_, err = s3dest.New(ctx, "backups", s3dest.WithCredentials("AKIAX", secret), s3dest.WithServerName("bad/path"))
	note("new", err)
	texts = append(texts, d.String(), fmt.Sprintf("%v %+v", d, d), logs.String())
	u, err := s3dest.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, u.String(), fmt.Sprintf("%v %+v %#v", *u, *u, *u))

	if len(texts) < 40 {
		t.Fatalf("only %d texts collected: the error paths did not run", len(texts))
	}
	for _, s := range texts {
		for _, leak := range []string{secret, "wJalrXUtnFEMI", "CiYzSECRET"} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(leak)) { // errors may lower-case what they echo
				t.Errorf("secret in %q", s)
			}
		}
	}
}

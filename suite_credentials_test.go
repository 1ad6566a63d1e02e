package s3dest_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about
// credentials the server refuses: a wrong secret or an unknown access key is
// ErrAccessDenied for every operation.

// Servers that check signatures refuse a wrong secret; the fake checks none.
func TestWrongSecretIsAccessDenied(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if !tg.real() {
			t.Skip("the fake does not check signatures")
		}
		d := tg.dest(t, s3dest.WithCredentials(os.Getenv("S3DEST_TEST_KEY"), "not-the-secret"))
		if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrAccessDenied) {
			t.Errorf("Test with a wrong secret: %v, want ErrAccessDenied", err)
		}
	})
}

// An access key the server does not know is access denied for every
// operation: never "bucket not found", "object not found", or a Delete that
// succeeds while the object stays.
func TestUnknownKeyIsAccessDenied(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if !tg.real() {
			t.Skip("the fake checks no keys (TestUnknownKeyCodeIsAccessDenied covers versitygw's answer)")
		}
		put(t, tg.dest(t), "vol", "data")
		d := tg.dest(t, s3dest.WithCredentials("S3DESTNOSUCHKEY", "not-the-secret"))
		_, statErr := d.Stat(t.Context(), "vol")
		for op, err := range map[string]error{
			"Test":   d.Test(t.Context()),
			"Get":    d.Get(t.Context(), "vol", io.Discard),
			"Delete": d.Delete(t.Context(), "vol"),
			"Stat":   statErr,
			"Rename": d.Rename(t.Context(), "vol", "other"),
		} {
			if !errors.Is(err, s3dest.ErrAccessDenied) {
				t.Errorf("%s with an unknown access key: %v, want ErrAccessDenied", op, err)
			}
		}
		if got := get(t, tg.dest(t), "vol"); got != "data" {
			t.Errorf("the object holds %q after a refused Delete", got)
		}
	})
}

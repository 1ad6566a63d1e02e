package s3dest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/s3dest/s3dest"
)

func TestPutSendsChecksumAndClass(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClass("STANDARD_IA"))
	srv.ResetRequests()
	put(t, d, "vol", "hello")
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("Put sent %d requests, want 1", len(reqs))
	}
	h := reqs[0].Header
	if got, want := h.Get("X-Amz-Checksum-Crc32c"), crc32c("hello"); got != want {
		t.Errorf("x-amz-checksum-crc32c = %q, want %q", got, want)
	}
	if got := h.Get("X-Amz-Storage-Class"); got != "STANDARD_IA" {
		t.Errorf("x-amz-storage-class = %q", got)
	}
	if strings.Contains(h.Get("Content-Encoding"), "aws-chunked") {
		t.Error("Put used aws-chunked encoding, which S3-compatible servers reject")
	}
}

// A class chosen by WithStorageClassFunc is checked as WithStorageClass is:
// CR/LF must never reach a header.
func TestStorageClassFuncResultIsChecked(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithStorageClassFunc(func(string, int64) string { return "GLACIER\r\nX-Evil: 1" }))
	srv.ResetRequests()
	if err := d.Put(t.Context(), "vol", strings.NewReader("x")); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("Put with a storage class holding CR/LF = %v, want ErrInvalid", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

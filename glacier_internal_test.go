package s3dest

import (
	"testing"
	"time"
)

// x-amz-restore as S3 and the S3-compatible servers spell it: an expiry
// date read wrong would show a restored object as not restored.
func TestParseRestoreHeader(t *testing.T) {
	want := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h       string
		ongoing bool
		expiry  time.Time
	}{
		{`ongoing-request="true"`, true, time.Time{}},
		{`ongoing-request="false", expiry-date="Thu, 03 Dec 2026 00:00:00 GMT"`, false, want},
		{`ongoing-request="false", expiry-date="Thu, 3 Dec 2026 00:00:00 GMT"`, false, want}, // one-digit day
		{`ongoing-request="false", expiry-date="Thu, 03 Dec 2026 00:00:00 +0000"`, false, want},
		{`ongoing-request="false", expiry-date="2026-12-03T00:00:00Z"`, false, want},
		{`ongoing-request="false", expiry-date="soon"`, false, time.Time{}},
		{``, false, time.Time{}},
	} {
		ongoing, expiry := parseRestoreHeader(tc.h)
		if ongoing != tc.ongoing || !expiry.Equal(tc.expiry) {
			t.Errorf("parseRestoreHeader(%q) = %v, %v; want %v, %v", tc.h, ongoing, expiry, tc.ongoing, tc.expiry)
		}
	}
}

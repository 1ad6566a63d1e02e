package s3test

import (
	"net/http"
	"time"
)

// The server's clock (Server.Now) is gofakes3's too: the LastModified of
// what it stores, in HEAD answers and listings, and the time of multipart
// uploads follow it, so that a test can write, move the clock, and write
// again. Requests are still signed with the machine's clock: gofakes3's
// check of the signing time would compare it with Now, and is replaced by
// one against the machine's clock (skewed).

// serverTime is gofakes3's TimeSource: the Server's clock.
type serverTime struct{ s *Server }

func (t serverTime) Now() time.Time { return t.s.now().UTC() }

func (t serverTime) Since(at time.Time) time.Duration { return t.Now().Sub(at) }

// maxSkew is how far S3 lets a request's signing time (x-amz-date) be from
// its own clock.
const maxSkew = 15 * time.Minute

// skewed answers a request signed more than 15 minutes away from the
// machine's clock with 403 RequestTimeTooSkewed, as S3 does, and reports
// whether it did.
func skewed(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("X-Amz-Date")
	if h == "" {
		return false
	}
	at, _ := time.Parse("20060102T150405Z", h) // unreadable: the zero time, far off
	if d := time.Since(at); d >= -maxSkew && d <= maxSkew {
		return false
	}
	WriteError(w, r, http.StatusForbidden, "RequestTimeTooSkewed",
		"The difference between the request time and the current time is too large.")
	return true
}

package s3dest_test

import (
	"testing"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about the
// signing region: a request signed for the wrong region heals.

// A real server in us-east-1 answers a request signed for another region
// with AuthorizationHeaderMalformed; the destination heals and goes on.
func TestWrongRegionHealsOnServer(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		if !tg.real() {
			t.Skip("the fake checks no signing region (TestWrongRegionHealed* cover it with hooks)")
		}
		if !tg.checksRegion() {
			// Nothing to heal: the server takes the request as signed.
			d := tg.dest(t, s3dest.WithRegion("eu-west-1"))
			put(t, d, "vol", "data")
			if d.Region() != "eu-west-1" {
				t.Errorf("Region() = %q on a server that takes any region, want the given eu-west-1", d.Region())
			}
			return
		}
		d := tg.dest(t, s3dest.WithRegion("eu-west-1"))
		put(t, d, "vol", "data")
		if d.Region() != "us-east-1" {
			t.Errorf("Region() = %q after healing, want us-east-1", d.Region())
		}
	})
}

package s3dest_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/s3dest/s3dest"
)

func TestProgress(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	srv := withBucket(t)
	var reports []s3dest.Progress
	d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20), s3dest.WithConcurrency(3),
		s3dest.WithProgress(func(p s3dest.Progress) { reports = append(reports, p) }))
	const size = 5<<20 + 7
	check := func(what string, total int64) {
		t.Helper()
		if len(reports) < 2 {
			t.Fatalf("%s: %d progress reports, want several", what, len(reports))
		}
		for i, p := range reports {
			if p.Name != "vol" || p.Done > size || i > 0 && p.Done < reports[i-1].Done ||
				i < len(reports)-1 && p.Total != total {
				t.Fatalf("%s: report %d of %d is %+v after %+v", what, i, len(reports), p, reports[max(i-1, 0)])
			}
		}
		if last := reports[len(reports)-1]; last.Done != size || last.Total != size {
			t.Errorf("%s: last report %+v, want Done = Total = %d", what, last, size)
		}
		reports = nil
	}
	if err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(randomBytes(size, 9))}); err != nil {
		t.Fatal(err)
	}
	check("Put of a stream", -1)
	if err := d.Put(t.Context(), "vol", bytes.NewReader(randomBytes(size, 9))); err != nil {
		t.Fatal(err)
	}
	check("Put of a bytes.Reader", size)
	if err := d.Get(t.Context(), "vol", io.Discard); err != nil {
		t.Fatal(err)
	}
	check("Get", size)
}

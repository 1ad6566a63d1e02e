package s3dest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about List:
// paging, prefixes and both list APIs, and stopping early.

func TestListPagesAndPrefixes(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t, tg.sub("set/"))
		put(t, tg.dest(t, tg.sub("settings")), "not-mine", "x")
		var want []string
		var wg sync.WaitGroup
		for i := range 1100 {
			name := fmt.Sprintf("vol-%04d", i)
			want = append(want, name)
		}
		for w := range 8 { // the real server is slower: upload in parallel
			wg.Go(func() {
				for i := w; i < len(want); i += 8 {
					if err := d.Put(t.Context(), want[i], strings.NewReader("")); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		put(t, d, "sub/deeper", "x")
		for _, version := range []string{"v2", "v1"} {
			ld, err := s3dest.Open(t.Context(), tg.rawURL+"&s3-list-api-version="+version, tg.sub("set"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fi := range list(t, ld) {
				got = append(got, fi.Name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: List (-want +got):\n%s", version, diff)
			}
		}
		var got []string
		for _, fi := range list(t, tg.dest(t, tg.sub("set"), s3dest.WithRecursiveList(true))) {
			got = append(got, fi.Name)
		}
		if diff := cmp.Diff(append([]string{"sub/deeper"}, want...), got); diff != "" {
			t.Errorf("recursive List (-want +got):\n%s", diff)
		}
	})
}

func TestListStopsEarly(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t)
		for i := range 5 {
			put(t, d, fmt.Sprint(i), "")
		}
		n := 0
		for _, err := range d.List(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if n == 2 {
				break
			}
		}
		if n != 2 {
			t.Errorf("iterated %d, want 2", n)
		}
	})
}

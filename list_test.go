package s3dest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
)

// listPages answers listings of the test bucket with the pages pick chooses
// from the request's query; a page is the XML between ListBucketResult's
// tags.
func listPages(pick func(q map[string][]string) string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/"+bucket {
			return false
		}
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>`+bucket+`</Name>`+
			pick(r.URL.Query())+`</ListBucketResult>`)
		return true
	}
}

// A backup program takes the listing as its inventory: a page that says
// more follow without saying from where must fail List, not end it.
func TestListTruncatedWithoutTokenFails(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query string
		page  string
	}{
		{"v2 without continuation token", "",
			"<IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size></Contents>"},
		{"v2 with an empty continuation token", "",
			"<IsTruncated>true</IsTruncated><NextContinuationToken></NextContinuationToken><Contents><Key>a</Key><Size>1</Size></Contents>"},
		{"v1 with no entry to continue from", "s3-list-api-version=v1",
			"<IsTruncated>true</IsTruncated>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := withBucket(t)
			srv.SetHook(listPages(func(map[string][]string) string { return tc.page }))
			var got []string
			var err error
			for fi, e := range openFake(t, srv, tc.query).List(t.Context()) {
				if e != nil {
					err = e
					break
				}
				got = append(got, fi.Name)
			}
			if err == nil {
				t.Fatalf("List yielded %v and ended without an error: a truncated listing passed for complete", got)
			}
			var e *s3dest.Error
			if !errors.As(err, &e) || e.Op != "list" {
				t.Errorf("List error %v is not an *Error of op list", err)
			}
		})
	}
}

// A v1 page with a delimiter may hold only common prefixes and no
// NextMarker; S3 says to continue from the last key or common prefix.
func TestListV1ContinuesAfterCommonPrefixes(t *testing.T) {
	srv := withBucket(t)
	var markers []string
	srv.SetHook(listPages(func(q map[string][]string) string {
		marker := strings.Join(q["marker"], ",")
		markers = append(markers, marker)
		switch marker {
		case "":
			return "<IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size></Contents>" +
				"<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>"
		case "b/":
			return "<IsTruncated>true</IsTruncated><CommonPrefixes><Prefix>c/</Prefix></CommonPrefixes>"
		case "c/":
			return "<IsTruncated>false</IsTruncated><Contents><Key>d</Key><Size>1</Size></Contents>"
		}
		return "<IsTruncated>false</IsTruncated>"
	}))
	var got []string
	for _, fi := range list(t, openFake(t, srv, "s3-list-api-version=v1")) {
		got = append(got, fi.Name)
	}
	if diff := cmp.Diff([]string{"a", "d"}, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "b/", "c/"}, markers); diff != "" {
		t.Errorf("markers sent (-want +got):\n%s", diff)
	}
}

// A server that goes round in circles between continuation tokens ends the
// listing with an error instead of listing for ever.
func TestListTokensInACircle(t *testing.T) {
	srv := withBucket(t)
	var page atomic.Int32
	srv.SetHook(listPages(func(q map[string][]string) string {
		next := "t1"
		if strings.Join(q["continuation-token"], "") == "t1" {
			next = "t2"
		}
		return fmt.Sprintf("<IsTruncated>true</IsTruncated><NextContinuationToken>%s</NextContinuationToken>"+
			"<Contents><Key>k%d</Key><Size>1</Size></Contents>", next, page.Add(1))
	}))
	pages := 0
	for _, err := range newDest(t, srv).List(t.Context()) {
		if err != nil {
			return
		}
		if pages++; pages > 100 {
			t.Fatal("List went on for ever between two continuation tokens")
		}
	}
	t.Error("List ended without an error")
}

// A server that lists keys out of byte order (some sort by locale) loses
// none of them; a server that repeats entries across pages shows each once.
func TestListKeepsServerOrderDropsRepeats(t *testing.T) {
	srv := withBucket(t)
	pages := [][]string{{"b", "a", "c"}, {"c", "d"}} // "c" repeated across the boundary
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/backups" {
			return false
		}
		page, next := pages[0], "<IsTruncated>true</IsTruncated><NextContinuationToken>p2</NextContinuationToken>"
		if r.URL.Query().Get("continuation-token") == "p2" {
			page, next = pages[1], "<IsTruncated>false</IsTruncated>"
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>backups</Name>` + next)
		for _, k := range page {
			b.WriteString("<Contents><Key>" + k + "</Key><Size>1</Size></Contents>")
		}
		b.WriteString("</ListBucketResult>")
		_, _ = io.WriteString(w, b.String())
		return true
	})
	var got []string
	for _, fi := range list(t, newDest(t, srv)) {
		got = append(got, fi.Name)
	}
	if diff := cmp.Diff([]string{"b", "a", "c", "d"}, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

// A server that ignores the prefix (or a proxy that drops it) lists keys
// of the whole bucket. A key outside the prefix is no object of the
// destination: listed as a name, it would be one the destination does not
// have ("q/x" would name p/q/x), which a backup would read, or delete, as
// its own.
func TestListKeysOutsidePrefix(t *testing.T) {
	srv := withBucket(t)
	root := newDest(t, srv)
	for _, k := range []string{"other/x", "p/a", "p/sub/b", "pp"} {
		put(t, root, k, "x")
	}
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && r.URL.Path == "/"+bucket {
			q := r.URL.Query()
			q.Del("prefix")
			r.URL.RawQuery = q.Encode()
		}
		return false
	})
	var got []string
	for _, fi := range list(t, newDest(t, srv, s3dest.WithPrefix("p"), s3dest.WithRecursiveList(true))) {
		got = append(got, fi.Name)
	}
	if diff := cmp.Diff([]string{"a", "sub/b"}, got); diff != "" {
		t.Errorf("List of prefix p/ (-want +got):\n%s", diff)
	}
}

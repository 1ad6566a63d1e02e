package s3test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// Object listings (ListObjects and ListObjectsV2), as S3 pages them and
// gofakes3 does not: gofakes3 ends a page inside a common prefix and lists
// that prefix again on the next page, and calls a page truncated when any
// key follows, under the prefix or not. Here each common prefix is listed
// once (a page that ends at one continues after every key under it),
// a page is truncated only when more entries follow under the prefix,
// common prefixes count against max-keys, and ListObjects (v1) answers
// NextMarker only with a delimiter, as S3 does.

// listParams are the query parameters of a listing: a bucket GET with any
// other is a subresource (versioning, acl, ...) gofakes3 answers.
var listParams = map[string]bool{"list-type": true, "prefix": true, "delimiter": true, "max-keys": true, "marker": true,
	"continuation-token": true, "start-after": true, "fetch-owner": true, "x-id": true}

func isListing(q url.Values) bool {
	for k := range q {
		if !listParams[k] {
			return false
		}
	}
	return true
}

// listObjects answers a listing; false when it left it to gofakes3 (no
// such bucket).
func (s *Server) listObjects(w http.ResponseWriter, r *http.Request, bucket string) ([]byte, bool) {
	q := r.URL.Query()
	v2 := q.Get("list-type") == "2"
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range")
			return nil, true
		}
		maxKeys = min(n, 1000)
	}
	after := q.Get("marker")
	if v2 {
		after = q.Get("start-after")
		if q.Has("continuation-token") {
			tok, err := base64.URLEncoding.DecodeString(q.Get("continuation-token"))
			if err != nil || len(tok) == 0 {
				WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
				return nil, true
			}
			after = string(tok)
		}
	}
	list, err := s.mem.ListBucket(bucket, &gofakes3.Prefix{HasPrefix: prefix != "", Prefix: prefix}, gofakes3.ListBucketPage{})
	if err != nil {
		return nil, false
	}
	var b strings.Builder
	var prefixes []string
	count, truncated, next := 0, false, ""
	for _, c := range list.Contents {
		if c.Key <= after || !strings.HasPrefix(c.Key, prefix) {
			continue
		}
		cp := rollUp(c.Key, prefix, delim)
		if cp != "" && (len(prefixes) > 0 && prefixes[len(prefixes)-1] == cp || strings.HasPrefix(after, cp)) {
			continue // rolled up already, on this page or an earlier one
		}
		if count == maxKeys {
			truncated = maxKeys > 0
			break
		}
		count++
		if cp != "" {
			prefixes = append(prefixes, cp)
			next = cp
			continue
		}
		next = c.Key
		fmt.Fprintf(&b, "<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>%s</ETag><Size>%d</Size></Contents>",
			xmlEscape(c.Key), c.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"), xmlEscape(c.ETag), c.Size)
	}
	var out strings.Builder
	out.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	fmt.Fprintf(&out, "<Name>%s</Name><Prefix>%s</Prefix>", xmlEscape(bucket), xmlEscape(prefix))
	if v2 {
		if q.Has("continuation-token") {
			fmt.Fprintf(&out, "<ContinuationToken>%s</ContinuationToken>", xmlEscape(q.Get("continuation-token")))
		}
		if q.Has("start-after") {
			fmt.Fprintf(&out, "<StartAfter>%s</StartAfter>", xmlEscape(q.Get("start-after")))
		}
		fmt.Fprintf(&out, "<KeyCount>%d</KeyCount>", count)
	} else {
		fmt.Fprintf(&out, "<Marker>%s</Marker>", xmlEscape(q.Get("marker")))
	}
	fmt.Fprintf(&out, "<MaxKeys>%d</MaxKeys>", maxKeys)
	if delim != "" {
		fmt.Fprintf(&out, "<Delimiter>%s</Delimiter>", xmlEscape(delim))
	}
	fmt.Fprintf(&out, "<IsTruncated>%v</IsTruncated>", truncated)
	switch {
	case truncated && v2:
		fmt.Fprintf(&out, "<NextContinuationToken>%s</NextContinuationToken>", base64.URLEncoding.EncodeToString([]byte(next)))
	case truncated && delim != "":
		fmt.Fprintf(&out, "<NextMarker>%s</NextMarker>", xmlEscape(next))
	}
	out.WriteString(b.String())
	for _, p := range prefixes {
		fmt.Fprintf(&out, "<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>", xmlEscape(p))
	}
	out.WriteString("</ListBucketResult>")
	return []byte(out.String()), true
}

package s3test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// versionsOf returns the versions and delete markers of the keys under
// prefix: keys in order, each key's newest first.
func (s *Server) versionsOf(bucket, prefix string) ([]versionEnt, error) {
	res, err := s.mem.ListBucketVersions(bucket, &gofakes3.Prefix{HasPrefix: prefix != "", Prefix: prefix}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]versionEnt, 0, len(res.Versions))
	for _, v := range res.Versions {
		var e versionEnt
		switch v := v.(type) {
		case *gofakes3.Version:
			e = versionEnt{key: v.Key, id: string(v.VersionID), modTime: v.LastModified.Time, latest: v.IsLatest,
				size: v.Size, etag: v.ETag}
		case *gofakes3.DeleteMarker:
			e = versionEnt{key: v.Key, id: string(v.VersionID), modTime: v.LastModified.Time, latest: v.IsLatest, marker: true}
		default:
			continue
		}
		if e.id == "" {
			e.id = "null" // an unversioned bucket, as S3 names its versions
		}
		out = append(out, e)
	}
	// The backend gives each key's versions oldest first (the current one
	// last): S3 gives them newest first.
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].key == out[i].key {
			j++
		}
		slices.Reverse(out[i:j])
		i = j
	}
	return out, nil
}

// findVersion finds a version or delete marker of key by its id.
func (s *Server) findVersion(bucket, key, id string) (versionEnt, bool) {
	all, err := s.versionsOf(bucket, key)
	if err != nil {
		return versionEnt{}, false
	}
	for _, e := range all {
		if e.key == key && e.id == id {
			return e, true
		}
	}
	return versionEnt{}, false
}

// listVersions answers ListObjectVersions as S3 does.
func (s *Server) listVersions(w http.ResponseWriter, r *http.Request, bucket string) {
	q := r.URL.Query()
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, idMarker := q.Get("key-marker"), q.Get("version-id-marker")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range")
			return
		}
		maxKeys = min(n, 1000)
	}
	if idMarker != "" && keyMarker == "" {
		WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "A version-id marker cannot be specified without a key marker.")
		return
	}
	wantRestore := strings.Contains(r.Header.Get("X-Amz-Optional-Object-Attributes"), "RestoreStatus")
	if wantRestore && s.RejectRestoreStatus {
		WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Invalid attribute name specified.")
		return
	}
	all, err := s.versionsOf(bucket, prefix)
	if err != nil {
		WriteError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	start := 0 // after the markers: the versions of keyMarker older than idMarker, else the keys after it
	if keyMarker != "" {
		start = len(all)
		for i, e := range all {
			if e.key > keyMarker {
				start = i
				break
			}
			if idMarker != "" && e.key == keyMarker && e.id == idMarker {
				start = i + 1
				break
			}
		}
	}
	var b strings.Builder
	var prefixes []string
	count, truncated := 0, false
	var nextKey, nextID string
	for _, e := range all[start:] {
		if cp := rollUp(e.key, prefix, delim); cp != "" {
			if (len(prefixes) > 0 && prefixes[len(prefixes)-1] == cp) || cp <= keyMarker {
				continue // rolled up already, on this page or an earlier one
			}
			if count == maxKeys {
				truncated = true
				break
			}
			prefixes = append(prefixes, cp)
			count, nextKey, nextID = count+1, cp, ""
			continue
		}
		if count == maxKeys {
			truncated = true
			break
		}
		s.writeVersion(&b, bucket, e, wantRestore)
		count, nextKey, nextID = count+1, e.key, e.id
	}
	var out strings.Builder
	out.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	fmt.Fprintf(&out, "<Name>%s</Name><Prefix>%s</Prefix><KeyMarker>%s</KeyMarker><VersionIdMarker>%s</VersionIdMarker><MaxKeys>%d</MaxKeys>",
		xmlEscape(bucket), xmlEscape(prefix), xmlEscape(keyMarker), xmlEscape(idMarker), maxKeys)
	if delim != "" {
		fmt.Fprintf(&out, "<Delimiter>%s</Delimiter>", xmlEscape(delim))
	}
	fmt.Fprintf(&out, "<IsTruncated>%v</IsTruncated>", truncated)
	if truncated {
		fmt.Fprintf(&out, "<NextKeyMarker>%s</NextKeyMarker>", xmlEscape(nextKey))
		if nextID != "" {
			fmt.Fprintf(&out, "<NextVersionIdMarker>%s</NextVersionIdMarker>", xmlEscape(nextID))
		}
	}
	out.WriteString(b.String())
	for _, p := range prefixes {
		fmt.Fprintf(&out, "<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>", xmlEscape(p))
	}
	out.WriteString("</ListVersionsResult>")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	_, _ = io.WriteString(w, out.String())
}

// rollUp returns the common prefix a key rolls up into at the delimiter,
// "" when it does not.
func rollUp(key, prefix, delim string) string {
	if delim == "" {
		return ""
	}
	if i := strings.Index(key[len(prefix):], delim); i >= 0 {
		return key[:len(prefix)+i+len(delim)]
	}
	return ""
}

// writeVersion writes one entry of a version listing, with the books of
// its version: class, ETag, restore state (a look at it is a poll).
func (s *Server) writeVersion(b *strings.Builder, bucket string, e versionEnt, withRestore bool) {
	lastModified := e.modTime.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000Z")
	if e.marker {
		fmt.Fprintf(b, "<DeleteMarker><Key>%s</Key><VersionId>%s</VersionId><IsLatest>%v</IsLatest><LastModified>%s</LastModified></DeleteMarker>",
			xmlEscape(e.key), xmlEscape(e.id), e.latest, lastModified)
		return
	}
	books := bucket + "/" + e.key
	if !e.latest {
		books = bucket + "/" + versionKey(e.key, e.id)
	}
	s.mu.Lock()
	etag, class := e.etag, s.classes[books]
	if sums := s.sums[books]; sums != nil && sums.etag != "" {
		etag = sums.etag
	}
	restore := ""
	if withRestore {
		restore = s.restoreStatusLocked(s.restores[books])
	}
	s.mu.Unlock()
	if class == "" {
		class = "STANDARD"
	}
	fmt.Fprintf(b, "<Version><Key>%s</Key><VersionId>%s</VersionId><IsLatest>%v</IsLatest><LastModified>%s</LastModified>"+
		"<ETag>%s</ETag><Size>%d</Size><StorageClass>%s</StorageClass>%s</Version>",
		xmlEscape(e.key), xmlEscape(e.id), e.latest, lastModified, xmlEscape(etag), e.size, xmlEscape(class), restore)
}

package s3dest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Versions of objects, and the point-in-time view: what a versioned bucket
// keeps after an overwrite or a delete, read back. See the package doc,
// "Recovering from deletion or ransomware".

// A Version is one version of an object, or one of its delete markers, as
// Versions lists them.
type Version struct {
	VersionID    string    // the server's id, "null" for what was written while versioning was off
	Size         int64     // bytes; 0 for a delete marker
	ModTime      time.Time // when it was written (LastModified)
	IsLatest     bool      // the current version: what reads without a version see (a delete marker: the object reads as deleted)
	DeleteMarker bool      // a delete marker, written by a delete: it has no content
	StorageClass string    // as the server reports it, "STANDARD" when it reports none; "" for a delete marker
	Archived     bool      // in an archive class: reading it now would fail (see FileInfo.Archived)
}

// Versions yields every version and delete marker of the object, newest
// first, in the order the server keeps them, across as many
// ListObjectVersions pages as it takes. The bucket must be versioned
// (Enabled or Suspended): an unversioned bucket is ErrInvalid. A name that
// never existed yields nothing. After an error it yields the error and
// stops.
func (d *Destination) Versions(ctx context.Context, name string) iter.Seq2[Version, error] {
	return func(yield func(Version, error) bool) {
		const op = "versions"
		key, err := validateName(op, d.bucket, d.prefix, name)
		if err == nil {
			err = d.checkVersioned(ctx, op)
		}
		if err == nil {
			err = d.versionPages(ctx, op, key, nil, true, func(page []versionEntry) bool {
				for _, e := range page {
					// Past the name (it sorts first among the keys it
					// begins), or the caller stopped.
					if e.key != key || !yield(d.versionOf(e), nil) {
						return false
					}
				}
				return true
			})
		}
		if err != nil {
			yield(Version{}, err)
		}
	}
}

// GetVersion writes one version of the object to w, checked as Get checks
// the current one: its length, and its whole-object checksum where it has
// one (ErrCorrupt when they do not match; what was written must then be
// discarded). Versions lists the ids. An archived version fails at once
// with ErrObjectArchived; a delete marker, or an id the object does not
// have, is ErrObjectNotFound; an empty id is ErrInvalid, as is an
// unversioned bucket.
func (d *Destination) GetVersion(ctx context.Context, name, versionID string, w io.Writer) error {
	const op = "get-version"
	key, err := validateName(op, d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	if versionID == "" {
		return invalid(op, d.bucket, key, "no version id: Versions lists the versions of an object")
	}
	if err := d.checkVersioned(ctx, op); err != nil {
		return err
	}
	return d.get(ctx, op, key, name, &versionID, nil, w)
}

// versioningHint says how to turn versioning on, and what it cannot bring back.
const versioningHint = "S3 keeps old versions and delete markers only in a versioned bucket: enable versioning " +
	"(PutBucketVersioning with Status Enabled, such as aws s3api put-bucket-versioning --bucket BUCKET " +
	"--versioning-configuration Status=Enabled) to keep what later writes and deletes replace; buckets created " +
	"with object lock are versioned. What was overwritten or deleted before then is gone"

// checkVersioned asks the bucket's versioning status, once per Destination
// when it is on (Enabled, or Suspended, which keeps the versions it has),
// and refuses an unversioned bucket with ErrInvalid: a view of it would be
// the latest state, passed off as the past.
func (d *Destination) checkVersioned(ctx context.Context, op string) error {
	if d.versioned.Load() {
		return nil
	}
	var status types.BucketVersioningStatus
	err := d.do(ctx, op, "", d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &d.bucket})
		if err == nil {
			status = out.Status
		}
		return err
	})
	if err != nil {
		return versionPermission(err, "s3:GetBucketVersioning")
	}
	switch status {
	case types.BucketVersioningStatusEnabled, types.BucketVersioningStatusSuspended:
		d.versioned.Store(true)
		return nil
	}
	return &Error{Op: op, Bucket: d.bucket, kind: ErrInvalid,
		Err:  errors.New("versioning is off for the bucket: it has no old versions to read"),
		Hint: versioningHint}
}

// versionPermissions are what reading old versions takes in an IAM policy,
// beyond what a backup's reads and writes do.
const versionPermissions = "s3:GetBucketVersioning, s3:ListBucketVersions and s3:GetObjectVersion"

// versionPermission names, in an access-denied error of a version call,
// the permission it takes: a backup's keys often have the plain ones only.
func versionPermission(err error, perm string) error {
	var e *Error
	if errors.Is(err, ErrAccessDenied) && errors.As(err, &e) {
		e.Hint = "this takes the permission " + perm + " (reading old versions takes " + versionPermissions + "); " + e.Hint
	}
	return err
}

// versionReadError words the answer to a read of a version that is a
// delete marker: S3 answers 405 MethodNotAllowed (with x-amz-delete-marker:
// true), which would otherwise read as an operation the server lacks. A
// refused read of a version names the permission it takes.
func (d *Destination) versionReadError(op, key string, version *string, err error) error {
	code, status := errorCode(err)
	if version != nil && (code == "AccessDenied" || status == http.StatusForbidden && code == "") {
		return &Error{Op: op, Bucket: d.bucket, Key: key, Code: code, kind: ErrAccessDenied, Err: err, secret: d.scrub,
			Hint: "reading a version takes the permission s3:GetObjectVersion (and, for an object written with a " +
				"customer key, that key); " + hints[ErrAccessDenied]}
	}
	if version == nil || (code != "MethodNotAllowed" && status != http.StatusMethodNotAllowed) {
		return err
	}
	return &Error{Op: op, Bucket: d.bucket, Key: key, Code: code, kind: ErrObjectNotFound, secret: d.scrub,
		Err:  fmt.Errorf("version %s is a delete marker, which has no content: %w", *version, err),
		Hint: "read a version that is not a delete marker: Versions lists them"}
}

// versionEntry is one entry of a ListObjectVersions page: a version or a
// delete marker.
type versionEntry struct {
	key, id string
	modTime time.Time
	latest  bool
	marker  bool
	size    int64
	etag    string
	class   string
	restore *types.RestoreStatus
}

// entryInfo is the FileInfo of a version, as List gives it.
func (d *Destination) entryInfo(e versionEntry) FileInfo {
	return d.fileInfo(types.Object{Key: &e.key, Size: &e.size, LastModified: &e.modTime, ETag: &e.etag,
		StorageClass: types.ObjectStorageClass(e.class), RestoreStatus: e.restore})
}

func (d *Destination) versionOf(e versionEntry) Version {
	v := Version{VersionID: e.id, ModTime: e.modTime, IsLatest: e.latest, DeleteMarker: e.marker}
	if !e.marker {
		fi := d.entryInfo(e)
		v.Size, v.StorageClass, v.Archived = fi.Size, fi.StorageClass, fi.Archived
	}
	return v
}

// versionPages calls fn with each page of ListObjectVersions under prefix
// (rolled up at delim when it is not nil), each in the server's order:
// keys ascending, each key's versions and delete markers newest first,
// with their RestoreStatus when withRestore asks for it. fn returns false
// to stop. An entry the server repeats from the page before is dropped,
// as List drops repeated names.
func (d *Destination) versionPages(ctx context.Context, op, prefix string, delim *string, withRestore bool,
	fn func([]versionEntry) bool) error {
	var keyMarker, idMarker *string
	markers := map[[2]string]bool{} // a server going round in circles ends the listing
	var prev, seen map[[2]string]bool
	for {
		var page []versionEntry
		var nextKey, nextID *string
		err := d.do(ctx, op, "", d.cfg.timeouts.List, func(ctx context.Context, c *s3.Client) error {
			var err error
			page, nextKey, nextID, err = d.versionPage(ctx, c, prefix, delim, keyMarker, idMarker, withRestore)
			return err
		})
		if err != nil {
			return versionPermission(err, "s3:ListBucketVersions")
		}
		prev, seen = seen, make(map[[2]string]bool, len(page))
		page = slices.DeleteFunc(page, func(e versionEntry) bool {
			id := [2]string{e.key, e.id}
			repeat := prev[id] || seen[id]
			seen[id] = true
			return repeat
		})
		if !fn(page) || nextKey == nil {
			return nil
		}
		m := [2]string{*nextKey, aws.ToString(nextID)}
		if markers[m] {
			return d.wrap(op, "", errors.New("the server repeated a version listing's markers: listing stopped"))
		}
		markers[m] = true
		keyMarker, idMarker = nextKey, nextID
	}
}

// versionPage fetches one page; nextKey and nextID say where the next
// starts, nil at the end. withRestore asks for RestoreStatus as listPage
// does, with the same fallback.
func (d *Destination) versionPage(ctx context.Context, c *s3.Client, prefix string, delim, keyMarker, idMarker *string,
	withRestore bool) (page []versionEntry, nextKey, nextID *string, err error) {
	var attrs []types.OptionalObjectAttributes
	if withRestore && !d.noRestoreStatus.Load() {
		attrs = []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}
	}
	page, nextKey, nextID, err = d.versionPageOnce(ctx, c, prefix, delim, keyMarker, idMarker, attrs)
	if err != nil && attrs != nil && rejectsRestoreStatus(err) {
		if page, nextKey, nextID, err2 := d.versionPageOnce(ctx, c, prefix, delim, keyMarker, idMarker, nil); err2 == nil {
			d.noteNoRestoreStatus(err)
			return page, nextKey, nextID, nil
		}
	}
	return page, nextKey, nextID, err
}

func (d *Destination) versionPageOnce(ctx context.Context, c *s3.Client, prefix string, delim, keyMarker, idMarker *string,
	attrs []types.OptionalObjectAttributes) ([]versionEntry, *string, *string, error) {
	var order docOrder
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &d.bucket, Prefix: &prefix, Delimiter: delim,
		KeyMarker: keyMarker, VersionIdMarker: idMarker, OptionalObjectAttributes: attrs}, order.record)
	if err != nil {
		return nil, nil, nil, err
	}
	page := pageEntries(out, order.markers())
	if !aws.ToBool(out.IsTruncated) {
		return page, nil, nil, nil
	}
	if aws.ToString(out.NextKeyMarker) == "" {
		return nil, nil, nil, errTruncatedListing
	}
	nextID := out.NextVersionIdMarker
	if aws.ToString(nextID) == "" {
		nextID = nil // after a common prefix
	}
	return page, out.NextKeyMarker, nextID, nil
}

// pageEntries returns a page's versions and delete markers in the order the
// server sent them, which on S3 is each key's entries together, keys
// ascending, newest first: the SDK splits them into two lists, and the
// order between them (doc: whether each entry in turn was a delete marker)
// says which of a version and a delete marker written in the same second
// came last. A server whose order is not that (versitygw sends every
// delete marker before every version), as the keys and LastModified times
// show, gets its entries grouped by key, the latest first, then by
// LastModified, newest first.
func pageEntries(out *s3.ListObjectVersionsOutput, doc []bool) []versionEntry {
	vs, ms := out.Versions, out.DeleteMarkers
	page := make([]versionEntry, 0, len(vs)+len(ms))
	if len(doc) == len(vs)+len(ms) && countTrue(doc) == len(ms) {
		i, j := 0, 0
		for _, marker := range doc {
			if marker {
				page = append(page, markerEntry(ms[j]))
				j++
			} else {
				page = append(page, objectVersionEntry(vs[i]))
				i++
			}
		}
		if slices.IsSortedFunc(page, newestFirst) {
			return page
		}
		page = page[:0]
	}
	for _, v := range vs {
		page = append(page, objectVersionEntry(v))
	}
	for _, m := range ms {
		page = append(page, markerEntry(m))
	}
	slices.SortStableFunc(page, func(a, b versionEntry) int {
		if a.key == b.key && a.latest != b.latest {
			if a.latest {
				return -1
			}
			return 1
		}
		return newestFirst(a, b)
	})
	return page
}

// newestFirst orders entries as S3 lists them: by key, then newest first.
func newestFirst(a, b versionEntry) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	return b.modTime.Compare(a.modTime)
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func objectVersionEntry(v types.ObjectVersion) versionEntry {
	return versionEntry{key: aws.ToString(v.Key), id: aws.ToString(v.VersionId), modTime: aws.ToTime(v.LastModified),
		latest: aws.ToBool(v.IsLatest), size: aws.ToInt64(v.Size), etag: aws.ToString(v.ETag),
		class: string(v.StorageClass), restore: v.RestoreStatus}
}

func markerEntry(m types.DeleteMarkerEntry) versionEntry {
	return versionEntry{key: aws.ToString(m.Key), id: aws.ToString(m.VersionId), modTime: aws.ToTime(m.LastModified),
		latest: aws.ToBool(m.IsLatest), marker: true}
}

// docOrder keeps the body of a ListObjectVersions answer as the SDK reads
// it, to learn the order of its Version and DeleteMarker elements.
type docOrder struct {
	body bytes.Buffer
}

// record is the call option that tees the answer's body into o.
func (o *docOrder) record(opts *s3.Options) {
	opts.APIOptions = append(opts.APIOptions, func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("s3dest:VersionOrder",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
				middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil {
					o.body.Reset() // a retried request
					resp.Body = teeBody{Reader: io.TeeReader(resp.Body, &o.body), Closer: resp.Body}
				}
				return out, md, err
			}), middleware.After) // innermost: the raw body, before the SDK decodes it
	})
}

type teeBody struct {
	io.Reader
	io.Closer
}

// markers returns, in document order, whether each Version or DeleteMarker
// element of the answer was a delete marker; nil when the body was not
// read whole.
func (o *docOrder) markers() []bool {
	dec := xml.NewDecoder(&o.body)
	var seq []bool
	depth, roots := 0, 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) && depth == 0 && roots == 1 {
				return seq
			}
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			if depth == 2 && (t.Name.Local == "Version" || t.Name.Local == "DeleteMarker") {
				seq = append(seq, t.Name.Local == "DeleteMarker")
			}
		case xml.EndElement:
			depth--
		}
	}
}

// root returns the name of the answer's root element, "" when it has
// none.
func (o *docOrder) root() string {
	dec := xml.NewDecoder(bytes.NewReader(o.body.Bytes()))
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return ""
		}
		if t, ok := tok.(xml.StartElement); ok {
			return t.Name.Local
		}
	}
}

// sameVersion checks that an answer to a request for a version is that
// version: a server that ignores versionId answers the current object,
// whose own checksum matches it, and a recovery would read today's bytes
// as the past's. An answer that names no version is taken as asked.
func (d *Destination) sameVersion(op, key string, asked, answered *string) error {
	if asked == nil || answered == nil || *answered == *asked {
		return nil
	}
	return &Error{Op: op, Bucket: d.bucket, Key: key, kind: ErrNotSupported, secret: d.scrub,
		Err:  fmt.Errorf("asked for version %s, the server answered version %s", *asked, *answered),
		Hint: "the server does not read versions by id: recover old versions with the server's own tools"}
}

package s3dest

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// VersionAt returns the time of the point-in-time view (WithVersionAt),
// or the zero time when the destination sees the latest versions.
func (d *Destination) VersionAt() time.Time { return d.cfg.versionAt }

// viewing reports a point-in-time view.
func (d *Destination) viewing() bool { return !d.cfg.versionAt.IsZero() }

// readOnly refuses a write in a point-in-time view, before any request.
func (d *Destination) readOnly(op, key string) error {
	if !d.viewing() {
		return nil
	}
	return &Error{Op: op, Bucket: d.bucket, Key: key, kind: ErrInvalid,
		Err: fmt.Errorf("the destination is a point-in-time view of %s (WithVersionAt), which is read-only",
			d.cfg.versionAt.UTC().Format(time.RFC3339)),
		Hint: "a recovery view never changes the bucket: write through a destination opened without " +
			"WithVersionAt (s3-version-at)"}
}

// viewVersion returns the id of the version of key the view sees, or nil
// outside a view. A name absent at the view's time is ErrObjectNotFound.
func (d *Destination) viewVersion(ctx context.Context, op, key string) (*string, error) {
	if !d.viewing() {
		return nil, nil
	}
	if err := d.checkVersioned(ctx, op); err != nil {
		return nil, err
	}
	var pick atPicker
	var found *versionEntry
	err := d.versionPages(ctx, op, key, nil, false, func(page []versionEntry) bool {
		for _, e := range page {
			if e.key != key {
				return false // past the name: it sorts first among the keys it begins
			}
			if pick.decides(e, d.cfg.versionAt) {
				found = &e
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if found == nil || found.marker {
		at := d.cfg.versionAt.UTC().Format(time.RFC3339)
		return nil, &Error{Op: op, Bucket: d.bucket, Key: key, kind: ErrObjectNotFound,
			Err:  fmt.Errorf("no version of it was current at %s", at),
			Hint: "it was created after that time, or deleted before it: Versions lists its versions"}
	}
	return &found.id, nil
}

// atPicker chooses, among the entries of one key after another, newest
// first, the one current at a time: the first of each key written at or
// before it. It holds the key being read only, so that a key's versions
// may run over a page boundary.
type atPicker struct {
	key     string
	decided bool
}

// decides reports whether e is the entry current at t for its key (a
// delete marker then means the key is absent).
func (p *atPicker) decides(e versionEntry, t time.Time) bool {
	if e.key != p.key {
		p.key, p.decided = e.key, false
	}
	if p.decided || e.modTime.After(t) {
		return false
	}
	p.decided = true
	return true
}

// listAt is List in a point-in-time view: one pass over ListObjectVersions,
// with the prefix and delimiter List uses, yielding for each key the
// version current at the view's time.
func (d *Destination) listAt(ctx context.Context) iter.Seq2[FileInfo, error] {
	return func(yield func(FileInfo, error) bool) {
		if err := d.checkVersioned(ctx, "list"); err != nil {
			yield(FileInfo{}, err)
			return
		}
		var delim *string
		if !d.cfg.recursiveList {
			delim = aws.String("/")
		}
		var pick atPicker
		err := d.versionPages(ctx, "list", d.prefix, delim, true, func(page []versionEntry) bool {
			for _, e := range page {
				if !pick.decides(e, d.cfg.versionAt) || e.marker {
					continue
				}
				if fi := d.entryInfo(e); fi.Name != "" && !yield(fi, nil) { // "": the folder marker, or outside the prefix
					return false
				}
			}
			return true
		})
		if err != nil {
			yield(FileInfo{}, err)
		}
	}
}

// statVersion is Stat of one version: a HEAD with its id.
func (d *Destination) statVersion(ctx context.Context, op, name, key string, version *string) (FileInfo, error) {
	var out *s3.HeadObjectOutput
	err := d.do(ctx, op, key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		var err error
		out, err = d.headVersion(ctx, c, key, version)
		return err
	})
	if err != nil {
		return FileInfo{}, err
	}
	if err := d.sameVersion(op, key, version, out.VersionId); err != nil {
		return FileInfo{}, err
	}
	return d.headInfo(name, out), nil
}

// statAt is Stat in a point-in-time view.
func (d *Destination) statAt(ctx context.Context, name, key string) (FileInfo, error) {
	version, err := d.viewVersion(ctx, "stat", key)
	if err != nil {
		return FileInfo{}, err
	}
	return d.statVersion(ctx, "stat", name, key, version)
}

// restoreTarget is what Restore restores: the current object, or in a view
// the version the view sees, with its id.
func (d *Destination) restoreTarget(ctx context.Context, name, key string) (FileInfo, *string, error) {
	if !d.viewing() {
		fi, err := d.Stat(ctx, name)
		return fi, nil, err
	}
	version, err := d.viewVersion(ctx, "restore", key)
	if err != nil {
		return FileInfo{}, nil, err
	}
	fi, err := d.statVersion(ctx, "restore", name, key, version)
	return fi, version, err
}

// parseVersionAt reads s3-version-at: an RFC 3339 time; empty means no view.
func parseVersionAt(v string, dst *time.Time) error {
	if v == "" {
		*dst = time.Time{}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("not an RFC 3339 time: write it as 2026-11-25T12:00:00Z (or with an offset, +01:00)")
	}
	*dst = t
	return nil
}

// fmtVersionAt writes s3-version-at so that parseVersionAt reads it back.
func fmtVersionAt(t time.Time) (string, bool) {
	if t.IsZero() {
		return "", false
	}
	return t.Format(time.RFC3339Nano), true
}

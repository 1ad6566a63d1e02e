package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/s3dest/s3dest"
)

// Reading the past of a versioned bucket: versions lists an object's
// versions, --at reads the bucket as it stood at a time (ls, stat, get),
// and get --version reads one version.

// atFlag registers --at, the point-in-time view of ls, stat and get.
func atFlag(fs *flag.FlagSet, o *opts) {
	fs.StringVar(&o.at, "at", "", "read the bucket as it stood at this RFC 3339 time, such as 2026-11-25T12:00:00Z (versioned buckets)")
}

// versionFlags registers get's --at and --version.
func versionFlags(fs *flag.FlagSet, o *opts) {
	atFlag(fs, o)
	fs.StringVar(&o.version, "version", "", "download this version of the object (ids from 's3dest versions')")
}

// viewOption is the option --at adds, nil without it.
func viewOption(o *opts) (s3dest.Option, error) {
	if o.version != "" && o.at != "" {
		return nil, usagef("give --version or --at, not both")
	}
	if o.at == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, o.at)
	if err != nil {
		return nil, usagef("--at %q: give an RFC 3339 time, such as 2026-11-25T12:00:00Z or 2026-11-25T13:00:00+01:00", o.at)
	}
	return s3dest.WithVersionAt(t), nil
}

// read writes the object, or the version --version names, to w.
func (c *call) read(ctx context.Context, name string, w io.Writer) error {
	var err error
	if c.o.version != "" {
		err = c.dest.GetVersion(ctx, name, c.o.version, w)
	} else {
		err = c.dest.Get(ctx, name, w)
	}
	return c.pastNotFound(name, err)
}

// pastNotFound words "not found" when the past was asked for: the name had
// no version then, or the id is unknown or a delete marker's.
func (c *call) pastNotFound(name string, err error) error {
	if !errors.Is(err, s3dest.ErrObjectNotFound) || c.o.version == "" && c.dest.VersionAt().IsZero() {
		return err
	}
	msg := describe(err)
	var e *s3dest.Error
	if c.o.version != "" && errors.As(err, &e) && e.Code == "MethodNotAllowed" { // S3's answer to a delete marker's id
		msg = fmt.Sprintf("%s s3://%s/%s: version %s is a delete marker, which has no content", e.Op, e.Bucket, e.Key, c.o.version)
	}
	return &cliError{msg: msg, hint: fmt.Sprintf("'s3dest versions URL %s' lists its versions and delete markers", name), err: err}
}

// versionJSON is one version in versions --json.
type versionJSON struct {
	VersionID    string    `json:"version_id"`
	Modified     time.Time `json:"modified"`
	Size         int64     `json:"size"`
	StorageClass string    `json:"storage_class,omitempty"`
	Latest       bool      `json:"latest"`
	DeleteMarker bool      `json:"delete_marker"`
	Archived     bool      `json:"archived"`
}

// versions lists an object's versions and delete markers, newest first.
func cmdVersions(ctx context.Context, c *call) error {
	name := c.args[0]
	var all []versionJSON
	for v, err := range c.dest.Versions(ctx, name) {
		if err != nil {
			return err
		}
		all = append(all, versionJSON{VersionID: v.VersionID, Modified: v.ModTime.UTC(), Size: v.Size, StorageClass: v.StorageClass,
			Latest: v.IsLatest, DeleteMarker: v.DeleteMarker, Archived: v.Archived})
	}
	if len(all) == 0 {
		return &cliError{msg: fmt.Sprintf("versions %s: no version or delete marker has that name", name),
			hint: "'s3dest ls' lists the names", err: s3dest.ErrObjectNotFound}
	}
	if c.o.json {
		writeJSON(c.stdout, all)
		return nil
	}
	for _, v := range all {
		fmt.Fprintln(c.stdout, versionLine(v))
	}
	return nil
}

// versionLine is one version in a text listing: time, size, class, id,
// and what it is.
func versionLine(v versionJSON) string {
	if v.DeleteMarker {
		line := fmt.Sprintf("%s %10s  %-12s  %s  (delete marker", stamp(v.Modified), "-", "-", v.VersionID)
		if v.Latest {
			line += ", latest: the object reads as deleted"
		}
		return line + ")"
	}
	line := fmt.Sprintf("%s %10d  %-12s  %s", stamp(v.Modified), v.Size, v.StorageClass, v.VersionID)
	switch {
	case v.Latest && v.Archived:
		line += "  (latest, archived)"
	case v.Latest:
		line += "  (latest)"
	case v.Archived:
		line += "  (archived)"
	}
	return line
}

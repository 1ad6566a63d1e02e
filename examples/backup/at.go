package main

import (
	"fmt"
	"io"
	"time"

	"github.com/s3dest/s3dest"
)

// atOptions is what --at adds to the destination: a read-only view of the
// bucket as it stood at that time (s3dest.WithVersionAt), so that a
// restore reads the lists, indexes and volumes that an attack or a bad
// prune has since overwritten or deleted, from the bucket's old versions.
// The bucket must be versioned, as object lock buckets are.
func atOptions(at string, out io.Writer) ([]s3dest.Option, error) {
	if at == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return nil, usageError(fmt.Sprintf("--at %q: give an RFC 3339 time, such as 2026-11-25T12:00:00Z", at))
	}
	fmt.Fprintf(out, "reading the backup as it stood at %s\n", t.UTC().Format(time.RFC3339))
	return []s3dest.Option{s3dest.WithVersionAt(t)}, nil
}

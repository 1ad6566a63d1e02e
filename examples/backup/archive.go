package main

import (
	"context"
	"fmt"
	"io"
)

// archiveRule sets the bucket's lifecycle rule that moves the volumes to
// class days days after their upload. Every object lives in one folder
// and S3 picks the objects of a rule by key prefix, so the rule is scoped
// to the names that start with volumePrefix: the volumes, and no index or
// list file, which must stay readable. s3dest keeps the bucket's other
// rules, and sets nothing when the rule is as asked already.
func archiveRule(ctx context.Context, r *remote, days int, class string, out io.Writer) error {
	if err := r.vol.SetArchiveAfterPrefix(ctx, volumePrefix, days, class); err != nil {
		return fmt.Errorf("setting the archive rule: %w", err)
	}
	fmt.Fprintf(out, "archive rule: volumes (%s*) move to %s %d day(s) after upload; index and list files stay readable\n",
		volumePrefix, class, days)
	return nil
}

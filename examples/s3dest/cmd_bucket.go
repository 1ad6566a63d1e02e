package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/s3dest/s3dest"
)

// where names the destination in messages: bucket and prefix, no options.
func where(d *s3dest.Destination) string { return "s3://" + d.Bucket() + "/" + d.Prefix() }

// createRegion is the region CreateBucket creates the bucket in: the
// location constraint when the URL gives one. Destination.Region is the
// signing region, which s3-authentication-region may make another.
func (c *call) createRegion() string {
	if c.url != nil && c.url.Region != "" {
		if strings.EqualFold(c.url.Region, "EU") {
			return "eu-west-1"
		}
		return c.url.Region
	}
	return c.dest.Region()
}

// test follows Duplicati's "Test connection": list the bucket; when it is
// missing, offer to create it (on a terminal, or --create), create it and
// test again. --write also puts, reads back and deletes a probe object.
func cmdTest(ctx context.Context, c *call) error {
	d := c.dest
	created := false
	err := d.Test(ctx)
	if errors.Is(err, s3dest.ErrBucketNotFound) {
		if err := c.confirmCreate(err); err != nil {
			return err
		}
		if err := d.CreateBucket(ctx); err != nil {
			return err
		}
		created = true
		if !c.o.json {
			fmt.Fprintf(c.stdout, "created bucket %s in region %s\n", d.Bucket(), c.createRegion())
		}
		err = d.Test(ctx)
	}
	if err != nil {
		return err
	}
	if !c.o.json {
		fmt.Fprintf(c.stdout, "ok: %s can be listed (endpoint %s, region %s)\n", where(d), d.Endpoint(), d.Region())
	}
	if c.o.write {
		if err := d.TestWrite(ctx); err != nil {
			return err
		}
		if !c.o.json {
			fmt.Fprintln(c.stdout, "ok: a probe object was written, read back and deleted")
		}
	}
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"ok": true, "url": d.String(), "bucket": d.Bucket(), "prefix": d.Prefix(),
			"endpoint": d.Endpoint(), "region": d.Region(), "created": created, "write_tested": c.o.write})
	}
	return nil
}

// confirmCreate decides whether test may create the missing bucket, nil
// meaning yes: --create says yes; on a terminal it asks; otherwise the
// answer is no, with a hint to pass --create. --json never asks: a
// question on stderr would break the JSON there. A no is an error that
// keeps notFound's category, so the exit code is 3.
func (c *call) confirmCreate(notFound error) error {
	d := c.dest
	if c.o.create {
		return nil
	}
	msg := fmt.Sprintf("bucket %s does not exist", d.Bucket())
	hint := fmt.Sprintf("pass --create to create it in region %s", c.createRegion())
	switch {
	case !c.stdinTTY:
		return &cliError{msg: msg + " (stdin is not a terminal, so s3dest did not ask)", hint: hint, err: notFound}
	case c.o.json:
		return &cliError{msg: msg + " (s3dest asks no questions with --json)", hint: hint, err: notFound}
	}
	fmt.Fprintf(c.stderr, "Bucket %s does not exist. Create it in region %s? [y/N] ", d.Bucket(), c.createRegion())
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &cliError{msg: msg + "; not created", hint: hint, err: notFound}
}

// mb creates the bucket in the destination's region, unless it can be
// listed already.
func cmdMb(ctx context.Context, c *call) error {
	d := c.dest
	existed := d.Test(ctx) == nil
	if !existed {
		if err := d.CreateBucket(ctx); err != nil {
			return err
		}
	}
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"bucket": d.Bucket(), "region": c.createRegion(), "created": !existed})
		return nil
	}
	if existed {
		fmt.Fprintf(c.stdout, "bucket %s exists already (region %s)\n", d.Bucket(), c.createRegion())
		return nil
	}
	fmt.Fprintf(c.stdout, "created bucket %s in region %s\n", d.Bucket(), c.createRegion())
	return nil
}

// cleanup aborts multipart uploads abandoned under the prefix.
func cmdCleanup(ctx context.Context, c *call) error {
	if c.o.olderThan < 0 {
		return usagef("--older-than %s: give a duration of 0 or more", c.o.olderThan)
	}
	c.bar.begin()
	n, err := c.dest.CleanupUploads(ctx, c.o.olderThan)
	c.bar.finish()
	if err != nil {
		return err
	}
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"aborted": n, "older_than": duration(c.o.olderThan)})
		return nil
	}
	fmt.Fprintf(c.stdout, "aborted %d incomplete multipart upload(s) started more than %s ago under %s\n",
		n, duration(c.o.olderThan), where(c.dest))
	return nil
}

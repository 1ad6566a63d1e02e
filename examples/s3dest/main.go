// Command s3dest tries an S3 backup destination from the shell: it tests
// the connection, creates the bucket, lists, reads, writes, renames and
// deletes objects, restores archived ones, and cleans up abandoned uploads,
// all through the s3dest library and from the same URLs Duplicati stores.
//
//	go install github.com/s3dest/s3dest/examples/s3dest@latest
//	s3dest demo                                  # a session against a built-in fake S3
//	s3dest ls 's3://bucket/prefix?s3-location-constraint=eu-west-1&aws-access-key-id=...&aws-secret-access-key=...'
//	export S3DEST_URL='s3://...'; s3dest put backup.tar
//
// Run "s3dest help" for the commands, every URL option and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

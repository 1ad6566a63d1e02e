// Command quickstart shows s3dest at work without an account: it starts an
// in-process fake S3 server, opens a destination on it from a Duplicati
// style URL, and creates, lists, reads, renames and deletes a few objects.
// Then it shows an archived object: detected in the listing, a read that
// fails at once, a restore, the wait, and the read that then succeeds.
//
//	go run ./examples/quickstart
//
// To try a real bucket, replace the URL with your own, for example
// s3://my-bucket/laptop?s3-location-constraint=eu-west-1&aws-access-key-id=...&aws-secret-access-key=...
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"strings"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func main() {
	log.SetFlags(0)
	ctx := context.Background()

	srv := s3test.NewServer()
	defer srv.Close()
	fmt.Println("fake S3 server at", srv.Endpoint)

	rawURL := "s3://backups/laptop/" +
		"?s3-server-name=" + url.QueryEscape(srv.Endpoint) +
		"&use-ssl=false" +
		"&aws-access-key-id=" + s3test.AccessKey +
		"&aws-secret-access-key=" + s3test.SecretKey +
		"&s3-location-constraint=us-east-1"
	dest, err := s3dest.Open(ctx, rawURL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("opened", dest) // String leaves the secret out
	fmt.Println("endpoint", dest.Endpoint(), "region", dest.Region())

	if err := dest.CreateBucket(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("created bucket", dest.Bucket())

	// A second destination on the same URL, with a storage class for its
	// uploads. Explicit options override the URL's.
	cold, err := s3dest.Open(ctx, rawURL, s3dest.WithStorageClass("GLACIER_IR"))
	if err != nil {
		log.Fatal(err)
	}

	files := []struct {
		dest *s3dest.Destination
		name string
		data string
	}{
		{dest, "duplicati-20260101T000000Z.dlist.zip", "file list"},
		{cold, "duplicati-b0001.dblock.zip", "a block volume, kept in Glacier Instant Retrieval"},
	}
	for _, f := range files {
		if err := f.dest.Put(ctx, f.name, strings.NewReader(f.data)); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("put %s (%d bytes)\n", f.name, len(f.data))
	}

	list(ctx, dest)

	name, want := files[1].name, files[1].data
	var buf bytes.Buffer
	if err := dest.Get(ctx, name, &buf); err != nil {
		log.Fatal(err)
	}
	if buf.String() != want {
		log.Fatalf("get %s: got %q, want %q", name, buf.String(), want)
	}
	fmt.Printf("got %s back (%d bytes, content matches)\n", name, buf.Len())

	renamed := "duplicati-b0002.dblock.zip"
	if err := dest.Rename(ctx, name, renamed); err != nil {
		log.Fatal(err)
	}
	fmt.Println("renamed", name, "to", renamed)

	if err := dest.Delete(ctx, files[0].name); err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", files[0].name)

	list(ctx, dest)
	archive(ctx, srv, rawURL)
}

// archive walks through an object in Glacier Flexible Retrieval. The fake
// simulates the tier: reads fail until a restore completes.
func archive(ctx context.Context, srv *s3test.Server, rawURL string) {
	srv.RestorePolls = 2 // the fake's restore finishes after two polls
	glacier, err := s3dest.Open(ctx, rawURL, s3dest.WithStorageClass("GLACIER"))
	if err != nil {
		log.Fatal(err)
	}
	const name, data = "duplicati-b0003.dblock.zip", "a block volume in Glacier"
	if err := glacier.Put(ctx, name, strings.NewReader(data)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("put %s in GLACIER\n", name)
	list(ctx, glacier)

	err = glacier.Get(ctx, name, io.Discard)
	if !errors.Is(err, s3dest.ErrObjectArchived) {
		log.Fatalf("get of an archived object: %v, want ErrObjectArchived", err)
	}
	fmt.Println("get failed at once:", errors.Is(err, s3dest.ErrObjectArchived), "(ErrObjectArchived)")

	if err := glacier.Restore(ctx, name, s3dest.RestoreOptions{Days: 2, Tier: "Bulk"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("restore requested (2 days, Bulk tier)")
	if err := glacier.WaitRestored(ctx, []string{name}, 10*time.Millisecond); err != nil {
		log.Fatal(err)
	}
	fi, err := glacier.Stat(ctx, name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("restored: archived=%v, readable until %s\n", fi.Archived, fi.RestoredUntil.Format(time.DateOnly))
	var buf bytes.Buffer
	if err := glacier.Get(ctx, name, &buf); err != nil || buf.String() != data {
		log.Fatalf("get after restore: %v, %q", err, buf.String())
	}
	fmt.Printf("got %s back (%d bytes, content matches)\n", name, buf.Len())
}

// list prints every object of the destination.
func list(ctx context.Context, dest *s3dest.Destination) {
	fmt.Println("list:")
	for fi, err := range dest.List(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("  %-40s %4d bytes  %-10s archived=%v\n", fi.Name, fi.Size, fi.StorageClass, fi.Archived)
	}
}

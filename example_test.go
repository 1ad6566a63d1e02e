package s3dest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/url"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

func ExampleOpen() {
	srv := s3test.NewServer() // an in-process fake S3 server on http://127.0.0.1:PORT
	defer srv.Close()
	ctx := context.Background()

	// The URL is the one Duplicati stores; the secret never shows in String.
	raw := "s3://backups/laptop/?s3-server-name=" + url.QueryEscape(srv.Endpoint) +
		"&aws-access-key-id=" + s3test.AccessKey +
		"&aws-secret-access-key=" + s3test.SecretKey +
		"&s3-location-constraint=us-east-1"
	dest, err := s3dest.Open(ctx, raw, s3dest.WithCreateBucket(true))
	if err != nil {
		log.Fatal(err)
	}
	if err := dest.Put(ctx, "notes.txt", strings.NewReader("hello")); err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if err := dest.Get(ctx, "notes.txt", &buf); err != nil {
		log.Fatal(err)
	}
	fmt.Println(dest.Bucket(), dest.Prefix(), dest.Region())
	fmt.Println(buf.String())
	fmt.Println(strings.Contains(dest.String(), s3test.SecretKey))
	// Output:
	// backups laptop/ us-east-1
	// hello
	// false
}

func ExampleParseURL() {
	u, err := s3dest.ParseURL("s3://AKIAEXAMPLE:wJalrXUtnFEMI@my-backups/laptop" +
		"?s3-server-name=minio.example.com:9000&s3-location-constraint=eu-west-1&use-ssl=true")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Bucket)
	fmt.Println(u.Prefix)
	fmt.Println(u.AccessKeyID, u.HasSecret())
	fmt.Println(u.String())

	// An unknown option is an error that suggests the closest known one.
	_, err = s3dest.ParseURL("s3://my-backups/laptop?s3-storage-clas=GLACIER")
	fmt.Println(errors.Is(err, s3dest.ErrInvalid))
	fmt.Println(err)
	// Output:
	// my-backups
	// laptop/
	// AKIAEXAMPLE true
	// s3://my-backups/laptop/?aws-access-key-id=AKIAEXAMPLE&s3-server-name=minio.example.com%3A9000&s3-location-constraint=eu-west-1&use-ssl=true
	// true
	// s3dest: parse-url: invalid argument: unknown option "s3-storage-clas": did you mean s3-storage-class?
}

func ExampleNew() {
	ctx := context.Background()
	creds := s3dest.WithCredentials("AKIAEXAMPLE", "wJalrXUtnFEMI")

	// New does no network I/O. Without a server name the endpoint is the
	// AWS one for the region, from the SDK's resolver.
	for _, region := range []string{"eu-west-1", "cn-north-1"} {
		dest, err := s3dest.New(ctx, "my-backups", creds, s3dest.WithRegion(region))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(dest.Region(), dest.Endpoint())
	}

	// A known provider's host name gives the region.
	dest, err := s3dest.New(ctx, "my-backups", creds,
		s3dest.WithServerName("s3.eu-central-2.wasabisys.com"), s3dest.WithPrefix("laptop"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dest.Region(), dest.Endpoint(), dest.Prefix())
	// Output:
	// eu-west-1 https://s3.eu-west-1.amazonaws.com
	// cn-north-1 https://s3.cn-north-1.amazonaws.com.cn
	// eu-central-2 https://s3.eu-central-2.wasabisys.com laptop/
}

func ExampleDestination_List() {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := context.Background()

	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"))
	if err != nil {
		log.Fatal(err)
	}
	if err := dest.CreateBucket(ctx); err != nil {
		log.Fatal(err)
	}
	// Explicit options override the URL's: one destination per storage class.
	put := func(name, class, data string) {
		d, err := s3dest.Open(ctx, srv.URL("backups", "laptop"), s3dest.WithStorageClass(class))
		if err != nil {
			log.Fatal(err)
		}
		if err := d.Put(ctx, name, strings.NewReader(data)); err != nil {
			log.Fatal(err)
		}
	}
	put("a.dblock", "", "first volume")
	put("b.dblock", "GLACIER_IR", "second")
	put("c.dblock", "GLACIER", "third")

	for fi, err := range dest.List(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(fi.Name, fi.Size, fi.StorageClass, fi.Archived)
	}
	// Output:
	// a.dblock 12 STANDARD false
	// b.dblock 6 GLACIER_IR false
	// c.dblock 5 GLACIER true
}

func ExampleDestination_Get() {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := context.Background()

	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"), s3dest.WithCreateBucket(true))
	if err != nil {
		log.Fatal(err)
	}
	if err := dest.Put(ctx, "present.txt", strings.NewReader("data")); err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if err := dest.Get(ctx, "present.txt", &buf); err != nil {
		log.Fatal(err)
	}
	fmt.Println(buf.String())

	err = dest.Get(ctx, "missing.txt", &buf)
	fmt.Println(errors.Is(err, s3dest.ErrObjectNotFound))
	var e *s3dest.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.Bucket, e.Key, e.Code)
	}
	// The SDK's error is there too.
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.ErrorCode())
	}
	// Output:
	// data
	// true
	// get backups laptop/missing.txt NoSuchKey
	// NoSuchKey
}

// An object in an archive class is listed as archived, and reading it fails
// at once with ErrObjectArchived. Restore asks for a readable copy,
// WaitRestored waits for it, and then Get works. The fake server simulates
// the archive tier and finishes a restore at the second poll; on S3 a
// Standard restore takes hours, so poll every few minutes and bound the wait
// with ctx.
func Example_archivedObjects() {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := context.Background()

	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"),
		s3dest.WithCreateBucket(true), s3dest.WithStorageClass("GLACIER"))
	if err != nil {
		log.Fatal(err)
	}
	if err := dest.Put(ctx, "2026-01.tar", strings.NewReader("last month")); err != nil {
		log.Fatal(err)
	}

	// The listing says which objects are archived, without a request each.
	for fi, err := range dest.List(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(fi.Name, fi.StorageClass, "archived:", fi.Archived)
	}

	var buf bytes.Buffer
	err = dest.Get(ctx, "2026-01.tar", &buf)
	fmt.Println("read fails fast:", errors.Is(err, s3dest.ErrObjectArchived))

	if err := dest.Restore(ctx, "2026-01.tar", s3dest.RestoreOptions{Days: 3, Tier: "Bulk"}); err != nil {
		log.Fatal(err)
	}
	if err := dest.WaitRestored(ctx, []string{"2026-01.tar"}, 10*time.Millisecond); err != nil {
		log.Fatal(err)
	}
	fi, err := dest.Stat(ctx, "2026-01.tar")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("archived:", fi.Archived, "restored copy:", !fi.RestoredUntil.IsZero())

	buf.Reset()
	if err := dest.Get(ctx, "2026-01.tar", &buf); err != nil {
		log.Fatal(err)
	}
	fmt.Println(buf.String())
	// Output:
	// 2026-01.tar GLACIER archived: true
	// read fails fast: true
	// archived: false restored copy: true
	// last month
}

// NewReader streams an object, checked as Get checks it: a body whose bytes
// are not the object's ends in ErrCorrupt instead of io.EOF.
func ExampleDestination_NewReader() {
	ctx := context.Background()
	srv := s3test.NewServer()
	defer srv.Close()
	if err := srv.CreateBucket("backups"); err != nil {
		log.Fatal(err)
	}
	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"))
	if err != nil {
		log.Fatal(err)
	}
	if err := dest.Put(ctx, "index.json", strings.NewReader(`{"volumes": 3}`)); err != nil {
		log.Fatal(err)
	}

	r, err := dest.NewReader(ctx, "index.json")
	if err != nil {
		log.Fatal(err) // ErrObjectNotFound, ErrObjectArchived, ...
	}
	defer r.Close()
	var index struct{ Volumes int }
	if err := json.NewDecoder(r).Decode(&index); err != nil {
		log.Fatal(err)
	}
	fmt.Println("volumes:", index.Volumes)

	_, err = dest.NewReader(ctx, "missing.json")
	fmt.Println("missing:", errors.Is(err, s3dest.ErrObjectNotFound))
	// Output:
	// volumes: 3
	// missing: true
}

// ExampleDestination_SetArchiveAfter sets a lifecycle rule that moves the
// objects under the destination's prefix to Glacier 90 days after their
// upload, reads it back and removes it. The fake server keeps the rule but
// applies none (s3test's Archive does what a transition would); S3
// applies rules once a day.
func ExampleDestination_SetArchiveAfter() {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := context.Background()
	if err := srv.CreateBucket("backups"); err != nil {
		log.Fatal(err)
	}
	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"))
	if err != nil {
		log.Fatal(err)
	}

	if err := dest.SetArchiveAfter(ctx, 90, "GLACIER"); err != nil {
		log.Fatal(err) // ErrNotSupported on servers without lifecycle transitions
	}
	days, class, err := dest.ArchiveAfter(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dest.Prefix(), "moves to", class, "after", days, "days")

	// Days 0 removes the rule; the bucket's other rules stay.
	if err := dest.SetArchiveAfter(ctx, 0, ""); err != nil {
		log.Fatal(err)
	}
	days, class, err = dest.ArchiveAfter(ctx)
	fmt.Printf("after removal: %d %q %v\n", days, class, err)
	// Output:
	// laptop/ moves to GLACIER after 90 days
	// after removal: 0 "" <nil>
}

// ExampleDestination_SetArchiveAfterPrefix sets the cold-storage rule of
// Duplicati's documentation: only the data files (duplicati-b...) move to
// Deep Archive, 30 days after their upload, while the index and list files
// stay readable.
func ExampleDestination_SetArchiveAfterPrefix() {
	srv := s3test.NewServer()
	defer srv.Close()
	ctx := context.Background()
	if err := srv.CreateBucket("backups"); err != nil {
		log.Fatal(err)
	}
	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"))
	if err != nil {
		log.Fatal(err)
	}

	if err := dest.SetArchiveAfterPrefix(ctx, "duplicati-b", 30, "DEEP_ARCHIVE"); err != nil {
		log.Fatal(err)
	}
	days, class, err := dest.ArchiveAfterPrefix(ctx, "duplicati-b")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("duplicati-b files move to", class, "after", days, "days")
	days, _, err = dest.ArchiveAfter(ctx)
	fmt.Println("rule for the whole prefix:", days, err)
	// Output:
	// duplicati-b files move to DEEP_ARCHIVE after 30 days
	// rule for the whole prefix: 0 <nil>
}

package s3test_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// A backup program tests its own code against the fake server: no account,
// no network. Here the code under test writes a manifest once.
func Example() {
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

	err = dest.Put(ctx, "manifest", strings.NewReader("v1"), s3dest.IfAbsent())
	fmt.Println("first write:", err)
	err = dest.Put(ctx, "manifest", strings.NewReader("v2"), s3dest.IfAbsent())
	fmt.Println("second write refused:", errors.Is(err, s3dest.ErrObjectExists))
	// Output:
	// first write: <nil>
	// second write refused: true
}

// Archive moves an object to an archive tier, as a lifecycle rule would;
// FinishRestore ends the restore a test started, without waiting.
func ExampleServer_Archive() {
	ctx := context.Background()
	srv := s3test.NewServer()
	defer srv.Close()
	if err := srv.CreateBucket("backups"); err != nil {
		log.Fatal(err)
	}
	dest, err := s3dest.Open(ctx, srv.URL("backups", ""))
	if err != nil {
		log.Fatal(err)
	}
	if err := dest.Put(ctx, "volume-1", strings.NewReader("data")); err != nil {
		log.Fatal(err)
	}
	if err := srv.Archive("backups", "volume-1", "DEEP_ARCHIVE"); err != nil {
		log.Fatal(err)
	}
	var b strings.Builder
	err = dest.Get(ctx, "volume-1", &b)
	fmt.Println("archived:", errors.Is(err, s3dest.ErrObjectArchived))

	srv.RestorePolls = 1000 // a restore stays under way until FinishRestore
	if err := dest.Restore(ctx, "volume-1", s3dest.RestoreOptions{Days: 1}); err != nil {
		log.Fatal(err)
	}
	if err := srv.FinishRestore("backups", "volume-1"); err != nil {
		log.Fatal(err)
	}
	err = dest.Get(ctx, "volume-1", &b)
	fmt.Println("after the restore:", b.String(), err)
	// Output:
	// archived: true
	// after the restore: data <nil>
}

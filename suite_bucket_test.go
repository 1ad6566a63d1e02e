package s3dest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about the
// bucket: Test and TestWrite, and a missing bucket created.

func TestTestAndTestWrite(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		d := tg.dest(t)
		if err := d.Test(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := d.TestWrite(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := list(t, d); len(got) != 0 {
			t.Errorf("TestWrite left %v behind", got)
		}
	})
}

func TestMissingBucketThenCreate(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		var id [4]byte
		_, _ = rand.Read(id[:])
		name := "s3dest-new-" + hex.EncodeToString(id[:])
		raw := strings.Replace(tg.rawURL, "s3://"+tg.bucket+"/", "s3://"+name+"/", 1)
		d, err := s3dest.Open(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Test(t.Context()); !errors.Is(err, s3dest.ErrBucketNotFound) {
			t.Fatalf("Test of a missing bucket: %v, want ErrBucketNotFound", err)
		}
		if err := d.CreateBucket(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = d.Client().DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(name)})
		})
		if err := d.CreateBucket(t.Context()); err != nil {
			t.Errorf("creating our own bucket again: %v, want nil", err)
		}
		// S3 answers its owner 200 (us-east-1) or BucketAlreadyOwnedByYou,
		// never BucketAlreadyExists, which means another account's.
		_, err = d.Client().CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)})
		var ae smithy.APIError
		// (rclone's BucketAlreadyExists is the quirk s3dest's CreateBucket
		// heals with a HEAD, checked above.)
		taken := tg.ownBucketTaken() && errors.As(err, &ae) && ae.ErrorCode() == "BucketAlreadyExists"
		if err != nil && !taken && (!errors.As(err, &ae) || ae.ErrorCode() != "BucketAlreadyOwnedByYou") {
			t.Errorf("raw CreateBucket of our own bucket: %v, want success or BucketAlreadyOwnedByYou", err)
		}
		if err := d.Test(t.Context()); err != nil {
			t.Errorf("Test after create: %v", err)
		}
	})
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3dest/s3dest"
)

// workers is how many small objects are put at once, by every contestant.
const workers = 8

// smalls puts *small objects with s3dest and with PutObject, then lists
// s3dest's with List and with the raw ListObjectsV2 paginator.
func (b *bench) smalls(ctx context.Context, round int) []result {
	if b.smallD == nil {
		b.smallD, b.smallRaw = b.dest(ctx, "bench/small"), b.dest(ctx, "bench/small-raw")
	}
	data := b.block[:*smallKiB<<10]
	names := make([]string, *small)
	for i := range names {
		names[i] = fmt.Sprintf("obj-%05d", i)
	}
	objs := func(name, note string, n int, fn func() error) contestant {
		return contestant{name: name, note: note, units: float64(n), unit: "obj/s", fn: timed(fn)}
	}
	note := fmt.Sprintf("%d at a time", workers)
	rs := runAll("small put", round, []contestant{
		objs("s3dest Put", note, len(names), func() error {
			return parallel(names, func(name string) error { return b.smallD.Put(ctx, name, bytes.NewReader(data)) })
		}),
		objs("raw PutObject, CRC32C", note, len(names), func() error {
			c, bkt := b.d.Client(), aws.String(b.d.Bucket())
			return parallel(names, func(name string) error {
				_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bkt, Key: aws.String(b.smallRaw.Prefix() + name),
					Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ChecksumCRC32C: crcHeader(data)})
				return err
			})
		}),
	})
	count := func(n int) error {
		if n != len(names) {
			return fmt.Errorf("listed %d objects, want %d", n, len(names))
		}
		return nil
	}
	rawList := func(attrs []types.OptionalObjectAttributes) func() error {
		return func() error {
			for range *lists {
				n := 0
				p := s3.NewListObjectsV2Paginator(b.d.Client(), &s3.ListObjectsV2Input{
					Bucket: aws.String(b.d.Bucket()), Prefix: aws.String(b.smallD.Prefix()), Delimiter: aws.String("/"),
					OptionalObjectAttributes: attrs})
				for p.HasMorePages() {
					page, err := p.NextPage(ctx)
					if err != nil {
						return err
					}
					n += len(page.Contents)
				}
				if err := count(n); err != nil {
					return err
				}
			}
			return nil
		}
	}
	listNote := fmt.Sprintf("%d listings", *lists)
	listed := len(names) * *lists
	rs = append(rs, runAll("list", round, []contestant{
		objs("s3dest List", listNote+", restore status included", listed, func() error {
			for range *lists {
				n := 0
				for _, err := range b.smallD.List(ctx) {
					if err != nil {
						return err
					}
					n++
				}
				if err := count(n); err != nil {
					return err
				}
			}
			return nil
		}),
		objs("raw ListObjectsV2 paginator", listNote, listed, rawList(nil)),
		objs("raw ListObjectsV2 paginator, RestoreStatus", listNote, listed,
			rawList([]types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus})),
	})...)
	return append(rs, runAll("delete", round, []contestant{
		objs("s3dest DeleteMany", "batches of 1000", 2*len(names), func() error {
			if err := b.smallD.DeleteMany(ctx, names); err != nil {
				return err
			}
			return b.smallRaw.DeleteMany(ctx, names)
		}),
	})...)
}

// parallel runs fn for every name, workers at a time, and returns the
// first error.
func parallel(names []string, fn func(string) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	sem := make(chan struct{}, workers)
	for _, name := range names {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(name); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	return first
}

func (b *bench) dest(ctx context.Context, prefix string) *s3dest.Destination {
	d, err := s3dest.New(ctx, b.d.Bucket(), append(b.opts, s3dest.WithPrefix(prefix))...)
	if err != nil {
		log.Fatal(err)
	}
	return d
}

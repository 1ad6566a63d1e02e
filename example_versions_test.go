package s3dest_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync/atomic"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// Recovering from ransomware: the backup as it stood at T is read from a
// versioned bucket's old versions, and copied back.
func ExampleWithVersionAt() {
	srv := s3test.NewServer()
	defer srv.Close()
	noon := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var days atomic.Int64 // the fake's clock, which dates what it stores: noon, days later
	srv.Now = func() time.Time { return noon.AddDate(0, 0, int(days.Load())) }
	_ = srv.CreateBucket("backups")
	_ = srv.EnableVersioning("backups") // object lock buckets are versioned
	ctx := context.Background()
	dest, err := s3dest.Open(ctx, srv.URL("backups", "laptop"))
	if err != nil {
		log.Fatal(err)
	}
	_ = dest.Put(ctx, "index.json", strings.NewReader(`{"files": 3}`))
	_ = dest.Put(ctx, "vol-1", strings.NewReader("volume data"))

	days.Add(1) // a day later, with the backup's keys:
	_ = dest.Put(ctx, "index.json", strings.NewReader("encrypted, pay up"))
	_ = dest.Delete(ctx, "vol-1")

	for v, err := range dest.Versions(ctx, "index.json") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v.ModTime.Format(time.DateTime), v.Size, v.IsLatest)
	}

	// The view at noon on the 25th, before the attack: read-only.
	past, err := s3dest.Open(ctx, srv.URL("backups", "laptop"),
		s3dest.WithVersionAt(noon))
	if err != nil {
		log.Fatal(err)
	}
	for fi, err := range past.List(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		r, err := past.NewReader(ctx, fi.Name)
		if err != nil {
			log.Fatal(err)
		}
		err = dest.Put(ctx, fi.Name, r) // written back through the destination without the view
		r.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("restored", fi.Name)
	}
	var b strings.Builder
	_ = dest.Get(ctx, "index.json", &b)
	fmt.Println(b.String())
	fmt.Println(past.Delete(ctx, "index.json") != nil) // the view never writes
	// Output:
	// 2026-11-26 12:00:00 17 true
	// 2026-11-25 12:00:00 12 false
	// restored index.json
	// restored vol-1
	// {"files": 3}
	// true
}

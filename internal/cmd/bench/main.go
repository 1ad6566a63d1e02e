// Command bench compares s3dest with the raw SDK on one S3 server, in one
// run: Put of a stream of unknown length against a raw multipart loop with
// the same part size and concurrency and a raw PutObject of the same bytes
// from memory; Get with verification against GetObject + io.Copy; Put and
// List of many small objects. Every contestant uses the destination's own
// SDK client (d.Client()), so HTTP transport, signing and checksum settings
// are the same, and every upload carries the same CRC32C headers.
//
// It is a module of its own, run from its folder:
//
//	go run .                       # in-process fake
//	go run . -endpoint http://127.0.0.1:7070 -access testkey -secret testsecret
//
// It prints one line per contestant and round on stderr, and a Markdown
// table of the medians on stdout. Peak heap is the largest growth of live
// and unswept heap objects over the contestant's start, sampled every 2 ms;
// with the in-process fake it includes the fake's copy of the data.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/s3test"
)

var (
	endpoint = flag.String("endpoint", "", "S3 server URL (http://host:port); empty: the in-process fake")
	access   = flag.String("access", s3test.AccessKey, "access key id")
	secret   = flag.String("secret", s3test.SecretKey, "secret access key")
	region   = flag.String("region", "us-east-1", "signing region")
	bucket   = flag.String("bucket", "s3dest-bench", "bucket (created when missing)")
	sizeMiB  = flag.Int64("size", 1024, "large object size, MiB")
	partMiB  = flag.Int64("part", 16, "part size, MiB")
	conc     = flag.Int("concurrency", 4, "parts in flight")
	rounds   = flag.Int("rounds", 3, "rounds; the table shows medians")
	small    = flag.Int("small", 1000, "small objects to put and list")
	smallKiB = flag.Int("small-size", 1, "small object size, KiB")
	lists    = flag.Int("lists", 20, "listings of the small objects per contestant and round")
	only     = flag.String("only", "", "comma-separated groups to run: put,get,small (default all)")
	cpuprof  = flag.String("cpuprofile", "", "write a CPU profile to this file")
	memprof  = flag.String("memprofile", "", "write an allocation profile to this file")
)

const mib = 1 << 20

type result struct {
	round       int
	group, name string
	rate        float64 // MB/s or objects/s
	unit        string
	heap        int64 // peak heap growth, bytes; -1 when not measured
	note        string
}

func main() {
	log.SetFlags(0)
	flag.Parse()
	ctx := context.Background()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memprof != "" {
		defer func() {
			f, err := os.Create(*memprof)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
			}
			if err != nil {
				log.Print(err)
			}
		}()
	}
	server := *endpoint
	if server == "" {
		srv := s3test.Start()
		defer srv.Close()
		server = srv.URL
	}
	opts := []s3dest.Option{
		s3dest.WithServerName(server), s3dest.WithCredentials(*access, *secret), s3dest.WithRegion(*region),
		s3dest.WithPartSize(*partMiB * mib), s3dest.WithConcurrency(*conc),
	}
	d, err := s3dest.New(ctx, *bucket, append(opts, s3dest.WithPrefix("bench"))...)
	if err != nil {
		log.Fatal(err)
	}
	if err := d.CreateBucket(ctx); err != nil {
		log.Fatal(err)
	}
	b := &bench{d: d, opts: opts, size: *sizeMiB * mib, part: *partMiB * mib, conc: *conc}
	b.block = make([]byte, mib)
	_, _ = rand.NewChaCha8([32]byte{42}).Read(b.block)
	groups := map[string]bool{"put": true, "get": true, "small": true}
	if *only != "" {
		groups = map[string]bool{}
		for _, g := range strings.Split(*only, ",") {
			groups[g] = true
		}
	}
	var all []result
	for round := 1; round <= *rounds; round++ {
		var rs []result
		if groups["put"] || groups["get"] {
			rs = append(rs, b.puts(ctx, round, !groups["put"])...)
		}
		if groups["get"] {
			rs = append(rs, b.gets(ctx, round)...)
		}
		if groups["small"] {
			rs = append(rs, b.smalls(ctx, round)...)
		}
		for _, r := range rs {
			fmt.Fprintf(os.Stderr, "round %d  %-6s %-48s %9.1f %-5s heap %7.1f MiB %s\n", round, r.group, r.name, r.rate, r.unit, float64(r.heap)/mib, r.note)
		}
		all = append(all, rs...)
		b.cleanup(ctx)
	}
	printTable(all, server)
}

// printTable writes the medians as Markdown, with each rate's ratio to the
// first contestant of its group: the median of the per-round ratios, which
// are steadier than a ratio of medians on a machine whose load drifts.
func printTable(all []result, server string) {
	fmt.Printf("Server %s; object %d MiB, parts of %d MiB × %d in flight; %d small objects of %d KiB; medians of %d rounds.\n\n",
		server, *sizeMiB, *partMiB, *conc, *small, *smallKiB, *rounds)
	fmt.Println("| group | contestant | rate | vs first | peak heap MiB | note |")
	fmt.Println("|---|---|---:|---:|---:|---|")
	var order []string
	byName := map[string][]result{}
	for _, r := range all {
		k := r.group + "\x00" + r.name
		if _, ok := byName[k]; !ok {
			order = append(order, k)
		}
		byName[k] = append(byName[k], r)
	}
	first := map[string]map[int]float64{} // group -> round -> rate of the group's first contestant
	for _, k := range order {
		rs := byName[k]
		rate := median(rs, func(r result) float64 { return r.rate })
		heap := median(rs, func(r result) float64 { return float64(r.heap) })
		g := rs[0].group
		if first[g] == nil {
			first[g] = map[int]float64{}
			for _, r := range rs {
				first[g][r.round] = r.rate
			}
		}
		ratio := median(rs, func(r result) float64 { return r.rate / first[g][r.round] })
		h := "–"
		if heap >= 0 {
			h = fmt.Sprintf("%.0f", heap/mib)
		}
		fmt.Printf("| %s | %s | %.0f %s | %.2f× | %s | %s |\n", g, rs[0].name, rate, rs[0].unit, ratio, h, rs[0].note)
	}
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// measure runs fn after a GC and returns the time fn reports (the part of
// its work that counts) and the peak growth of heap objects while it ran.
func measure(fn func() (time.Duration, error)) (time.Duration, int64, error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	base := read()
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		peak := base
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- max(peak, read())
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	}()
	elapsed, err := fn()
	close(stop)
	return elapsed, <-done - base, err
}

// A contestant is one way of doing a group's work.
type contestant struct {
	name, note string
	units      float64 // bytes (rates in MB/s) or objects (obj/s)
	unit       string
	fn         func() (time.Duration, error)
}

// runAll runs a group's contestants, in reverse order on even rounds so
// that a drift in the machine's load favours none, and returns their results
// in the order given.
func runAll(group string, round int, cs []contestant) []result {
	rs := make([]result, len(cs))
	for j := range cs {
		i := j
		if round%2 == 0 {
			i = len(cs) - 1 - j
		}
		c := cs[i]
		el, heap, err := measure(c.fn)
		if err != nil {
			log.Fatalf("%s: %v", c.name, err)
		}
		rate := c.units / el.Seconds()
		if c.unit == "MB/s" {
			rate /= 1e6
		}
		rs[i] = result{round: round, group: group, name: c.name, rate: rate, unit: c.unit, heap: heap, note: c.note}
	}
	return rs
}

// timed times fn.
func timed(fn func() error) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		start := time.Now()
		err := fn()
		return time.Since(start), err
	}
}

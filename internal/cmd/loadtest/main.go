// Command loadtest runs many s3dest operations at once over a transport
// that injects faults (internal/faults) at random into a share of all
// requests: connection resets, 500 InternalError and 503 SlowDown answers,
// 200 answers with an <Error> body (Complete and Copy), answers cut short
// or with a flipped byte, request bodies with a flipped byte, answers lost
// after the server acted, and a few stalls that the operation's deadline
// ends. Puts (bytes.Reader and streams of unknown length, from empty to
// several parts), Get, GetRange, Stat, List, Rename, Delete and DeleteMany
// share a few hundred names. A ledger follows what each object may hold;
// every read that returns nil is checked against it, and at the end a
// destination without faults checks every object byte for byte, every
// deletion, and the multipart uploads left.
//
//	go run ./internal/cmd/loadtest                    # in-process fake, about a minute on 2 cores
//	go run ./internal/cmd/loadtest -seed 7 -ops 2000
//	go run -race ./internal/cmd/loadtest -ops 700 -objects 60 -op-timeout 20s
//	go run ./internal/cmd/loadtest -url 's3://bucket/prefix?s3-server-name=http://127.0.0.1:7070&aws-access-key-id=..&aws-secret-access-key=..'
//
// With -url the objects go under a fresh folder of the prefix (the bucket
// is created if missing), and are deleted at the end unless -keep.
//
// The seed fixes each worker's operations and the sequence of fault draws;
// how the workers interleave is not reproducible. Every finding prints the
// last operations on the name, with the faults each met. The exit status is
// 1 when a verdict is not zero (the informational lines below them aside),
// 2 on a hang.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/s3test"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "random seed (0: from the clock); printed")
	objects   = flag.Int("objects", 250, "object names the operations share")
	opsFlag   = flag.Int64("ops", 6500, "operations in all")
	workers   = flag.Int("workers", 8, "operations at once")
	rate      = flag.Float64("rate", 0.12, "share of requests that get a fault")
	stalls    = flag.Int("stalls", 5, "most stalls to inject")
	opTimeout = flag.Duration("op-timeout", 5*time.Second, "deadline of each operation (and s3dest's short timeout)")
	partMiB   = flag.Int64("part", 5, "part size, MiB")
	conc      = flag.Int("concurrency", 3, "parts in flight per upload")
	attempts  = flag.Int("attempts", 0, "tries per request (0: s3dest's default)")
	rawURL    = flag.String("url", "", "s3dest URL of a real server (default: the in-process fake)")
	keep      = flag.Bool("keep", false, "with -url: keep the objects at the end")
	echoLog   = flag.Bool("log", false, "print s3dest's log as it comes")
	stallAll  = flag.Bool("stall-cleanup", false, "let stalls hit AbortMultipartUpload and ListMultipartUploads too (the upload is then left, and logged)")
	except    = flag.String("except", "", "comma list of Op:Kind never to inject, e.g. CreateMultipartUpload:CutBody "+
		"(kinds: Reset, 500, 503, CutBody, Corrupt, FlipRequest, LoseAnswer, Stall, 200)")
	grace = flag.Duration("grace", 2*time.Second, "how long the names of an operation that ended with its deadline stay locked")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) % 1_000_000
	}
	fmt.Printf("loadtest: seed %d (rerun with -seed %d)\n", seed, seed)
	ctx := context.Background()

	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	wire := &counting{base: base, created: map[string]*trace{}, unanswer: map[string][]string{}}
	ft := &faults.Transport{Base: wire}
	inj := newInjector(ft, seed, *rate, *stalls, 4**opTimeout)
	inj.stallCleanup = *stallAll
	inj.except = map[string]bool{}
	for _, e := range strings.Split(*except, ",") {
		if e = strings.TrimSpace(e); e != "" {
			inj.except[e] = true
		}
	}
	logs := newLogCapture(*echoLog)
	faulty := []s3dest.Option{
		s3dest.WithHTTPClient(ft.Client()),
		s3dest.WithS3Options(func(o *s3.Options) { o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond) }),
		s3dest.WithPartSize(*partMiB << 20), s3dest.WithConcurrency(*conc),
		s3dest.WithLogger(slogLogger(logs)),
	}
	if *attempts > 0 { // else the URL's s3-ext-maxerrorretry, or s3dest's default
		faulty = append(faulty, s3dest.WithRetryMaxAttempts(*attempts))
	}
	var d, clean *s3dest.Destination
	var uploadPrefix, where string
	if *rawURL == "" {
		srv := s3test.NewServer()
		defer srv.Close()
		const bucket = "loadtest"
		if err := srv.CreateBucket(bucket); err != nil {
			log.Fatal(err)
		}
		common := []s3dest.Option{s3dest.WithServerName(srv.Endpoint), s3dest.WithCredentials(s3test.AccessKey, s3test.SecretKey),
			s3dest.WithRegion("us-east-1"), s3dest.WithPrefix("lt")}
		d = must(s3dest.New(ctx, bucket, append(append(common, faulty...), s3dest.WithTimeouts(s3dest.Timeouts{Short: *opTimeout}))...))
		clean = must(s3dest.New(ctx, bucket, common...))
		where = "in-process fake " + srv.Endpoint + ", bucket " + bucket + ", prefix lt/"
	} else {
		u, err := s3dest.ParseURL(*rawURL)
		if err != nil {
			log.Fatal(err)
		}
		prefix := fmt.Sprintf("%ss3dest-loadtest-%d-%d", u.Prefix, seed, time.Now().Unix())
		t := u.Timeouts
		t.Short = *opTimeout
		d = must(s3dest.Open(ctx, *rawURL, append(faulty, s3dest.WithPrefix(prefix), s3dest.WithTimeouts(t))...))
		clean = must(s3dest.Open(ctx, *rawURL, s3dest.WithPrefix(prefix)))
		if err := clean.CreateBucket(ctx); err != nil {
			log.Fatalf("creating the bucket: %v", err)
		}
		uploadPrefix = clean.Prefix()
		where = clean.String()
	}
	names := make([]string, *objects)
	for i := range names {
		names[i] = fmt.Sprintf("obj-%04d", i)
		if i%10 == 9 {
			names[i] += " +%x" // names that need escaping, in copy sources too
		}
	}
	r := &run{d: d, l: newLedger(names), g: generator{seed: seed}, st: newStats(), inj: inj, wire: wire,
		opTimeout: *opTimeout, partSize: *partMiB << 20, reported: map[string]uint64{}, grace: *grace}
	fmt.Printf("loadtest: %s; %d ops by %d workers on %d names; faults in %.0f%% of requests, at most %d stalls; "+
		"part %d MiB, concurrency %d, op deadline %v; never injected: %q\n",
		where, *opsFlag, *workers, *objects, *rate*100, *stalls, *partMiB, *conc, *opTimeout, *except)

	inj.armed.Store(true)
	start := time.Now()
	stop := watch(r, *opTimeout)
	var claimed atomic.Int64
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() { r.worker(seed, w, &claimed, *opsFlag) })
	}
	wg.Wait()
	stop()
	wall := time.Since(start)
	inj.armed.Store(false)
	ft.Clear()

	vctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	summary := r.verify(vctx, clean, uploadPrefix, logs)
	report(os.Stdout, r, ft, wire, logs, wall, summary)
	ok := r.st.printVerdicts(os.Stdout)
	if *rawURL != "" && !*keep {
		if err := clean.DeleteMany(vctx, names); err != nil {
			fmt.Printf("cleanup: %v\n", err)
		}
		if _, err := clean.CleanupUploads(vctx, 0); err != nil {
			fmt.Printf("cleanup of uploads: %v\n", err)
		}
	}
	if !ok {
		fmt.Printf("loadtest: FAILED (seed %d)\n", seed)
		os.Exit(1)
	}
	fmt.Printf("loadtest: ok (seed %d)\n", seed)
}

func must(d *s3dest.Destination, err error) *s3dest.Destination {
	if err != nil {
		log.Fatal(err)
	}
	return d
}

// watch prints progress every 10 s and, when no operation has ended for
// far longer than any may take, dumps the goroutines and exits 2: a hang.
func watch(r *run, opTimeout time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, lastAt, lastPrint := r.done.Load(), time.Now(), time.Now()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if n := r.done.Load(); n != last {
				last, lastAt = n, time.Now()
			}
			if time.Since(lastPrint) >= 10*time.Second {
				lastPrint = time.Now()
				fmt.Fprintf(os.Stderr, "loadtest: %d ops done, %d faults injected\n", last, r.inj.ft.Injected())
			}
			if time.Since(lastAt) > 6*opTimeout+time.Minute {
				fmt.Printf("loadtest: HANG: no operation ended for %v; goroutines:\n", time.Since(lastAt).Round(time.Second))
				_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
				os.Exit(2)
			}
		}
	}()
	return func() { close(done) }
}

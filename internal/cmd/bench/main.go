// Command bench compares s3dest with the raw aws-sdk-go-v2 S3 client, the
// SDK's transfer manager (feature/s3/transfermanager) and minio-go on one S3
// server, in one run, contestants alternating their order every round:
//
//   - large objects (-size MiB, default 512): Put of a stream of unknown
//     length (a reader with only Read) with parts of -part MiB × -concurrency
//     and with each library's defaults, against minio-go's PutObject with
//     size -1, the transfer manager's UploadObject, a raw multipart loop and
//     one PutObject of the same bytes from memory; Get with verification
//     against GetObject with the SDK's checksum validation, minio-go's
//     GetObject and the transfer manager's GetObject;
//   - small objects (-small of -small-size KiB, default 1000 × 16 KiB,
//     -workers goroutines sharing one client): Put, Stat (HEAD), Get
//     (verified where the library can), List and Delete.
//
// It is a module of its own (minio-go and the transfer manager stay out of
// the library's go.mod); run it from this directory:
//
//	go run .                                      # in-process fake, HTTP
//	go run . -tls                                 # in-process fake, TLS with the bench's own CA
//	go run . -endpoint http://127.0.0.1:7070 -access KEY -secret SECRET
//	go run . -endpoint https://127.0.0.1:7070 -cacert ca.pem -access KEY -secret SECRET
//	bash versitygw.sh [-tls] [flags]              # versitygw on loopback, started and stopped for the run
//
// An external server is the normal mode: with the in-process fake the
// process's CPU time and allocations include the server's.
//
// Every family gets the same HTTP transport settings and the same root CAs
// (transport.go), explicitly: nothing reads AWS_CA_BUNDLE. It prints one
// line per contestant and round on stderr and Markdown tables of the
// medians on stdout. Per contestant and round it measures the rate, the
// process's CPU time (getrusage), heap allocations (runtime.MemStats
// Mallocs and TotalAlloc), the new connections its transport opened, and
// the peak heap: the largest growth of live and unswept heap objects over
// the contestant's start, sampled every 2 ms.
package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s3dest/s3dest/s3test"
)

var (
	endpoint        = flag.String("endpoint", "", "S3 server URL (http://host:port or https://host:port); empty: the in-process fake")
	useTLS          = flag.Bool("tls", false, "with the in-process fake: serve it over TLS with a CA of the bench's own; with -endpoint: require https")
	cacert          = flag.String("cacert", "", "PEM file of the CA(s) that signed an https endpoint's certificate; every contestant trusts these only")
	access          = flag.String("access", s3test.AccessKey, "access key id")
	secret          = flag.String("secret", s3test.SecretKey, "secret access key")
	region          = flag.String("region", "us-east-1", "signing region")
	bucket          = flag.String("bucket", "s3dest-bench", "bucket (created when missing)")
	sizeMiB         = flag.Int64("size", 512, "large object size, MiB")
	partMiB         = flag.Int64("part", 8, "part size of the 'same parts' large configuration, MiB")
	conc            = flag.Int("concurrency", 4, "parts in flight in the 'same parts' large configuration")
	configs         = flag.String("configs", "same,defaults", "large Put configurations: same (every library -part × -concurrency), defaults (each library's own)")
	rounds          = flag.Int("rounds", 5, "rounds; the tables show medians")
	small           = flag.Int("small", 1000, "small objects per contestant and phase")
	smallKiB        = flag.Int("small-size", 16, "small object size, KiB")
	workers         = flag.Int("workers", 16, "goroutines sharing one client in the small phases")
	lists           = flag.Int("lists", 5, "listings of the small objects per contestant and round")
	only            = flag.String("only", "", "comma-separated groups to run: put,get,small (default all)")
	contestantsFlag = flag.String("contestants", "", "comma-separated families to run: s3dest,sdk,tm,minio (default all)")
	transportMode   = flag.String("transport", "shared", "shared: every family the same transport settings; lib: each library's default transport (only the CA added)")
	idlePerHost     = flag.Int("idle-per-host", 64, "MaxIdleConnsPerHost of the shared transport")
	unsigned        = flag.Bool("unsigned", false, "every contestant sends UNSIGNED-PAYLOAD instead of a SHA-256 of the body: s3dest through its own s3-disable-payload-signing URL option, the SDK clients with the SDK's swap middleware, minio-go with DisableContentSha256")
	serverPID       = flag.Int("server-pid", 0, "PID of a local server process, to report its CPU time per small object too")
	profileDir      = flag.String("profile", "", "write a CPU profile and allocation profiles (before, after) of every contestant and round into this folder")
	memRate         = flag.Int("memprofilerate", 0, "runtime.MemProfileRate while profiling (0: Go's default, 512 KiB)")
	cpuprof         = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memprof         = flag.String("memprofile", "", "write an allocation profile of the whole run to this file")
	gencert         = flag.String("gencert", "", "write a new CA (ca.pem) and a server certificate for 127.0.0.1 (cert.pem, key.pem) into this folder, and exit")
)

const mib = 1 << 20

func main() {
	log.SetFlags(0)
	flag.Parse()
	if *gencert != "" {
		p, err := newPKI()
		if err == nil {
			err = p.writeTo(*gencert)
		}
		if err != nil {
			log.Fatal(err)
		}
		return
	}
	if *transportMode != "shared" && *transportMode != "lib" {
		log.Fatalf("-transport %q: want shared or lib", *transportMode)
	}
	if *profileDir != "" && *cpuprof != "" {
		log.Fatal("-profile and -cpuprofile both profile the CPU: give one")
	}
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
	if *profileDir != "" {
		if err := os.MkdirAll(*profileDir, 0o755); err != nil {
			log.Fatal(err)
		}
		if *memRate > 0 {
			runtime.MemProfileRate = *memRate
		}
	}

	server := *endpoint
	var roots *x509.CertPool
	if server == "" {
		url, r, stop, err := startFake(*useTLS)
		if err != nil {
			log.Fatal(err)
		}
		defer stop()
		server, roots = url, r
	} else {
		https := strings.HasPrefix(server, "https://")
		if *useTLS && !https {
			log.Fatalf("-tls with -endpoint %s: give an https:// endpoint", server)
		}
		if https && *cacert == "" {
			log.Fatalf("-endpoint %s: give -cacert, the CA that signed its certificate (AWS_CA_BUNDLE is not read)", server)
		}
		if *cacert != "" {
			r, err := loadRoots(*cacert)
			if err != nil {
				log.Fatal(err)
			}
			roots = r
		}
	}
	f, err := newFleet(ctx, server, roots)
	if err != nil {
		log.Fatal(err)
	}
	f.minioUnsigned = *unsigned || *endpoint == "" && roots == nil
	if err := f.large.CreateBucket(ctx); err != nil {
		log.Fatal(err)
	}
	b := &bench{f: f, size: *sizeMiB * mib}
	b.block = make([]byte, mib)
	_, _ = rand.NewChaCha8([32]byte{42}).Read(b.block)
	groups := map[string]bool{"put": true, "get": true, "small": true}
	if *only != "" {
		groups = map[string]bool{}
		for _, g := range strings.Split(*only, ",") {
			groups[g] = true
		}
	}
	if groups["small"] {
		b.smallSetup(ctx)
	}
	if err := f.warm(ctx); err != nil {
		log.Fatal(err)
	}
	var all []result
	for round := 1; round <= *rounds; round++ {
		var rs []result
		if groups["put"] {
			for _, cfg := range strings.Split(*configs, ",") {
				rs = append(rs, b.puts(ctx, round, cfg)...)
			}
		}
		if groups["get"] {
			rs = append(rs, b.gets(ctx, round)...)
		}
		if groups["small"] {
			rs = append(rs, b.smalls(ctx, round)...)
		}
		for _, r := range rs {
			fmt.Fprintf(os.Stderr, "round %d  %-18s %-52s %9.1f %-5s cpu %s allocs %s heap %7.1f MiB conns %d %s\n",
				round, r.group, r.name, r.rate(), r.unit, r.cpuText(), r.allocText(), float64(r.u.heap)/mib, r.u.conns, r.note)
		}
		all = append(all, rs...)
		b.cleanupLarge(ctx)
	}
	if groups["small"] {
		b.smallTeardown(ctx)
	}
	printTables(all, server, roots != nil)
}

// result is one contestant's run in one round.
type result struct {
	round                  int
	group, fam, name, note string
	unit                   string  // "MB/s" or "obj/s"
	units                  float64 // bytes or objects moved
	u                      usage
}

func (r result) rate() float64 {
	v := r.units / r.u.elapsed.Seconds()
	if r.unit == "MB/s" {
		v /= 1e6
	}
	return v
}

// per is the amount per object, or per MiB for byte rates.
func (r result) per(v float64) float64 {
	if r.unit == "MB/s" {
		return v / (r.units / mib)
	}
	return v / r.units
}

func (r result) cpuText() string {
	if r.unit == "MB/s" {
		return fmt.Sprintf("%6.2f ms/MiB", r.per(float64(r.u.cpu))/1e6)
	}
	return fmt.Sprintf("%6.0f µs/obj", r.per(float64(r.u.cpu))/1e3)
}

func (r result) allocText() string {
	if r.unit == "MB/s" {
		return fmt.Sprintf("%7.1f MB", float64(r.u.alloc)/1e6)
	}
	return fmt.Sprintf("%5.0f/obj %5.1f KiB/obj", r.per(float64(r.u.mallocs)), r.per(float64(r.u.alloc))/1024)
}

// printTables writes the medians as Markdown, with each rate's ratio to the
// first contestant of its group (s3dest's): the median of the per-round
// ratios, which are steadier than a ratio of medians on a machine whose
// load drifts.
func printTables(all []result, server string, tls bool) {
	transport := "every family the same transport settings (MaxIdleConnsPerHost " + strconv.Itoa(*idlePerHost) + ")"
	if *transportMode == "lib" {
		transport = "each library's default transport"
	}
	proto := "HTTP"
	if tls {
		proto = "TLS"
	}
	fmt.Printf("Server %s (%s), %s; %d rounds, medians; %s.\n\n", server, proto, transport, *rounds, time.Now().Format(time.DateOnly))
	var order []string
	byKey := map[string][]result{}
	for _, r := range all {
		k := r.group + "\x00" + r.name
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	first := map[string]map[int]float64{} // group -> round -> rate of the group's first contestant
	firstFam := map[string]string{}
	for _, k := range order {
		rs := byKey[k]
		if g := rs[0].group; first[g] == nil {
			first[g], firstFam[g] = map[int]float64{}, rs[0].fam
			for _, r := range rs {
				first[g][r.round] = r.rate()
			}
		}
	}
	ratio := func(rs []result) string {
		g := rs[0].group
		v := median(rs, func(r result) float64 { return r.rate() / first[g][r.round] })
		return fmt.Sprintf("%.2f×", v)
	}
	srv := *serverPID != 0
	for _, large := range []bool{true, false} {
		header := false
		for _, k := range order {
			rs := byKey[k]
			if (rs[0].unit == "MB/s") != large {
				continue
			}
			if !header {
				header = true
				if large {
					fmt.Printf("Large objects: %d MiB stream of unknown length; \"same\": parts of %d MiB × %d in flight for every library.\n\n",
						*sizeMiB, *partMiB, *conc)
					fmt.Printf("| group | contestant | MB/s | vs %s | CPU ms/MiB | MB allocated | peak heap MiB | new conns | note |\n", firstFam[rs[0].group])
					fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---|")
				} else {
					fmt.Printf("\nSmall objects: %d × %d KiB per contestant and phase, %d goroutines sharing one client.\n\n", *small, *smallKiB, *workers)
					cols := "| phase | contestant | obj/s | vs %s | allocs/obj | KiB alloc/obj | CPU µs/obj |"
					align := "|---|---|---:|---:|---:|---:|---:|"
					if srv {
						cols += " server CPU µs/obj |"
						align += "---:|"
					}
					fmt.Printf(cols+" new conns | note |\n", firstFam[rs[0].group])
					fmt.Println(align + "---:|---|")
				}
			}
			r0 := rs[0]
			med := func(f func(result) float64) float64 { return median(rs, f) }
			rate := med(result.rate)
			cpu := med(func(r result) float64 { return r.per(float64(r.u.cpu)) })
			conns := med(func(r result) float64 { return float64(r.u.conns) })
			if large {
				fmt.Printf("| %s | %s | %.0f | %s | %.2f | %.0f | %.0f | %.0f | %s |\n", r0.group, r0.name, rate, ratio(rs),
					cpu/1e6, med(func(r result) float64 { return float64(r.u.alloc) })/1e6,
					med(func(r result) float64 { return float64(r.u.heap) })/mib, conns, r0.note)
				continue
			}
			line := fmt.Sprintf("| %s | %s | %.0f | %s | %.0f | %.1f | %.0f |", r0.group, r0.name, rate, ratio(rs),
				med(func(r result) float64 { return r.per(float64(r.u.mallocs)) }),
				med(func(r result) float64 { return r.per(float64(r.u.alloc)) })/1024, cpu/1e3)
			if srv {
				line += fmt.Sprintf(" %.0f |", med(func(r result) float64 { return r.per(float64(r.u.srvCPU)) })/1e3)
			}
			fmt.Printf("%s %.0f | %s |\n", line, conns, r0.note)
		}
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

// usage is what one contestant's run cost.
type usage struct {
	elapsed        time.Duration
	heap           int64 // peak growth of heap objects, bytes
	mallocs, alloc uint64
	cpu, srvCPU    time.Duration // the process's (user + system); -server-pid's
	conns          int64         // connections the family's transport opened
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU reads -server-pid's user + system time from /proc (clock ticks
// of 10 ms).
func serverCPU() time.Duration {
	if *serverPID == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", *serverPID))
	if err != nil {
		log.Fatalf("-server-pid: %v", err)
	}
	// The command name may hold spaces: the fields follow its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// measure runs fn after a GC and returns what it cost: the time fn reports
// (the part of its work that counts), the peak growth of heap objects while
// it ran, the allocations, CPU time and new connections over the whole of
// fn. With -profile it writes the run's CPU profile and the allocation
// profiles before and after it as base+".cpu.pprof", base+".allocs-before.pprof"
// and base+".allocs.pprof".
func measure(fn func() (time.Duration, error), conns *dialCounter, base string) (usage, error) {
	runtime.GC()
	if base != "" {
		writeProfile(base + ".allocs-before.pprof")
		f, err := os.Create(base + ".cpu.pprof")
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	heap0 := read()
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		peak := heap0
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
	dials0, cpu0, srv0 := conns.n.Load(), processCPU(), serverCPU()
	elapsed, err := fn()
	cpu1, srv1, dials1 := processCPU(), serverCPU(), conns.n.Load()
	close(stop)
	peak := <-done
	runtime.ReadMemStats(&ms1)
	if base != "" {
		pprof.StopCPUProfile()
		runtime.GC()
		writeProfile(base + ".allocs.pprof")
	}
	return usage{elapsed: elapsed, heap: peak - heap0, mallocs: ms1.Mallocs - ms0.Mallocs, alloc: ms1.TotalAlloc - ms0.TotalAlloc,
		cpu: cpu1 - cpu0, srvCPU: srv1 - srv0, conns: dials1 - dials0}, err
}

func writeProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		log.Fatal(err)
	}
}

// A contestant is one way of doing a group's work.
type contestant struct {
	fam, name, note string
	units           float64 // bytes (rates in MB/s) or objects (obj/s)
	unit            string
	fn              func() (time.Duration, error)
}

// runAll runs a group's contestants (those of the families -contestants
// asks for), in reverse order on even rounds so that a drift in the
// machine's load favours none, and returns their results in the order
// given.
func (b *bench) runAll(group string, round int, cs []contestant) []result {
	cs = slices.DeleteFunc(slices.Clone(cs), func(c contestant) bool { return !wanted(c.fam) })
	rs := make([]result, len(cs))
	for j := range cs {
		i := j
		if round%2 == 0 {
			i = len(cs) - 1 - j
		}
		c := cs[i]
		base := ""
		if *profileDir != "" {
			base = filepath.Join(*profileDir, fmt.Sprintf("%s.%s.r%d", slug(group), slug(c.name), round))
		}
		u, err := measure(c.fn, b.f.conns[c.fam], base)
		if err != nil {
			log.Fatalf("%s: %s: %v", group, c.name, err)
		}
		rs[i] = result{round: round, group: group, fam: c.fam, name: c.name, note: c.note, unit: c.unit, units: c.units, u: u}
	}
	return rs
}

// slug is s with everything but letters and digits turned into '-'.
func slug(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}

// timed times fn.
func timed(fn func() error) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		start := time.Now()
		err := fn()
		return time.Since(start), err
	}
}

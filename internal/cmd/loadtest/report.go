package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/s3dest/s3dest/internal/faults"
)

func slogLogger(c *logCapture) *slog.Logger { return slog.New(c) }

// report prints the figures of a run.
func report(w io.Writer, r *run, ft *faults.Transport, wire *counting, logs *logCapture, wall time.Duration, summary string) {
	r.st.mu.Lock()
	fmt.Fprintf(w, "\nwall time %v for %d operations (%.0f ops/s); slowest operation %v: %s\n",
		wall.Round(time.Millisecond), r.done.Load(), float64(r.done.Load())/wall.Seconds(),
		r.slowest.Round(time.Millisecond), trim(r.slowestOp, 400))
	r.st.mu.Unlock()
	r.st.printOps(w)

	in := r.inj
	in.mu.Lock()
	var total int
	for _, n := range in.byKind {
		total += n
	}
	fmt.Fprintf(w, "\nfaults injected: %d into %d requests (faults.Transport counts %d of %d)\n", total, in.draws, ft.Injected(), ft.Requests())
	for k := range nKinds {
		fmt.Fprintf(w, "  %-18s %6d\n", kindNames[k], in.byKind[k])
	}
	ops := make([]string, 0, len(in.requests))
	for op := range in.requests {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return in.requests[ops[i]] > in.requests[ops[j]] })
	fmt.Fprintf(w, "\nrequests and faults by S3 operation\n  %-24s %8s  %s\n", "", "requests", "faults")
	for _, op := range ops {
		var parts []string
		if c := in.byOp[op]; c != nil {
			for k := range nKinds {
				if c[k] > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", kindNames[k], c[k]))
				}
			}
		}
		fmt.Fprintf(w, "  %-24s %8d  %s\n", op, in.requests[op], strings.Join(parts, ", "))
	}
	in.mu.Unlock()

	r.st.mu.Lock()
	fmt.Fprintf(w, "\nbytes: %s of data stored by Puts that returned nil, %s delivered by reads that returned nil; "+
		"on the wire %s sent, %s received (%.0f MB/s)\n",
		mb(r.st.putBytes), mb(r.st.getBytes), mb(wire.sent.Load()), mb(wire.rx.Load()),
		float64(wire.sent.Load()+wire.rx.Load())/1e6/wall.Seconds())
	r.st.mu.Unlock()
	logs.print(w)
	fmt.Fprintf(w, "\nfinal check without faults: %s\n", summary)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// record notes an operation in the history of each name it touched.
func (r *run) record(desc string, err error, t *trace, names ...string) {
	res := "nil"
	if err != nil {
		res = category(err) + ": " + trim(err.Error(), 220)
	}
	t.took = time.Since(t.start)
	res += fmt.Sprintf(" after %v", t.took.Round(time.Millisecond))
	t.result = res
	at := time.Now().Format("15:04:05.000")
	for _, n := range names {
		r.l.note(n, fmt.Sprintf("%s %s = %s; %v; ledger now %s", at, desc, res, t, describe(r.l.get(n))))
	}
}

// findn records a finding about name, with the name's history.
func (r *run) findn(name, verdict, format string, args ...any) {
	r.st.find(verdict, "%s%s", fmt.Sprintf(format, args...), r.l.history(name))
}

// knownSum returns the version whose CRC32C a Stat checksum is, if any.
func (r *run) knownSum(checksum string) *version {
	if v, ok := r.byCRC.Load(strings.TrimPrefix(checksum, "CRC32C:")); ok {
		return v.(*version)
	}
	return nil
}

// holdAfter keeps the names of an operation that ended with its context
// locked a while longer: its last request may still be under way on the
// server, which acts on it after the client gave up (a Put's body sent
// whole, a Complete), and the next operation on the name must not overtake it.
func (r *run) holdAfter(err error) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		time.Sleep(r.grace)
	}
}

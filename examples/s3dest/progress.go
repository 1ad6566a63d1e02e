package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/s3dest/s3dest"
)

// progress is one status line on a terminal (stderr) for a long operation:
// a transfer (put, get), a wait for restores, or a cleanup. It is redrawn in
// place with "\r", at most once every `every` for updates and once every
// `tick` so that elapsed times and rates move while nothing else does, and
// ended by finish with its final state and a newline. A nil *progress
// draws nothing, so commands call its methods without asking.
type progress struct {
	w     io.Writer
	width int              // the terminal's columns; lines take at most width-1
	every time.Duration    // least time between two redraws, but for final states
	tick  time.Duration    // redraw this often, once begun; 0: never
	now   func() time.Time // the clock, which tests fake

	mu       sync.Mutex
	start    time.Time
	last     time.Time // when the line was last drawn
	status   func(now time.Time, final bool) string
	drawn    bool // a line is on the terminal and not ended
	complete bool // and it shows a final state (a transfer's end)
	shown    int  // runes drawn last, to blank what a shorter line leaves
	finished bool
	stop     chan struct{} // ends the ticker
	ticking  sync.WaitGroup
}

func newProgress(w io.Writer, width int, every time.Duration) *progress {
	p := &progress{w: w, width: width, every: every, tick: time.Second, now: time.Now}
	p.start = p.now()
	return p
}

// progressFor is the progress line of a command, or nil when it has none:
// only put, get, wait and cleanup have one, only when stderr is a terminal,
// and never with --json. get to stdout on a terminal has none either, as
// the line would mix with the data.
func (a *app) progressFor(c *call) *progress {
	switch {
	case !a.stderrTTY || c.o.json:
		return nil
	case c.cmd.name == "get" && len(c.args) > 1 && c.args[1] == "-" && a.stdoutTTY:
		return nil
	case c.cmd.name != "put" && c.cmd.name != "get" && c.cmd.name != "wait" && c.cmd.name != "cleanup":
		return nil
	}
	width := a.stderrWidth
	if width <= 0 {
		width = 80
	}
	return newProgress(a.stderr, width, a.progressEvery)
}

// options are the library options that feed the progress line and write
// -v's log (verbose, when not nil). Transfers report through WithProgress;
// WaitRestored and CleanupUploads have no such reports, and the line shows
// what their Info log records say, the only running counts the library
// gives: objects readable so far, uploads aborted so far. The watchers
// match those records' messages; TestProgressOnTerminal fails if they
// change.
func (p *progress) options(c *call, verbose slog.Handler) []s3dest.Option {
	if p == nil {
		if verbose == nil {
			return nil
		}
		return []s3dest.Option{s3dest.WithLogger(slog.New(verbose))}
	}
	tap := &logTap{next: verbose, p: p}
	var opts []s3dest.Option
	switch c.cmd.name {
	case "put", "get":
		opts = append(opts, s3dest.WithProgress(p.transfer))
	case "wait":
		tap.fn = p.waitWatcher(uniqueCount(c.args), c.o.poll)
	case "cleanup":
		tap.fn = p.cleanupWatcher()
	}
	if tap.next != nil || tap.fn != nil {
		opts = append(opts, s3dest.WithLogger(slog.New(tap)))
	}
	return opts
}

func uniqueCount(names []string) int {
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	return len(seen)
}

// transfer is the WithProgress function of put and get.
func (p *progress) transfer(pr s3dest.Progress) {
	p.show(func(now time.Time, _ bool) string {
		return renderTransfer(pr, now.Sub(p.start), p.width)
	}, pr.Done == pr.Total)
}

// waitWatcher returns the log watcher of wait, and sets its first state
// (drawn by the ticker once begun, should the first check be slow).
func (p *progress) waitWatcher(total int, poll time.Duration) func(slog.Record) {
	p.set(func(now time.Time, final bool) string {
		return renderWait(-1, total, -1, now.Sub(p.start), final, p.width)
	})
	return func(r slog.Record) {
		ready, next := -1, time.Time{}
		switch r.Message {
		case "s3dest: waiting for restores":
			ready, next = attrInt(r, "ready"), p.now().Add(poll)
		case "s3dest: restores complete":
			ready = total
		default:
			return
		}
		p.show(func(now time.Time, final bool) string {
			wait := time.Duration(-1)
			if !next.IsZero() {
				wait = max(next.Sub(now), 0)
			}
			return renderWait(ready, total, wait, now.Sub(p.start), final, p.width)
		}, false)
	}
}

// cleanupWatcher returns the log watcher of cleanup, and sets its first
// state (drawn by the ticker once begun, should the listing be slow).
func (p *progress) cleanupWatcher() func(slog.Record) {
	show := func(aborted int) func(time.Time, bool) string {
		return func(now time.Time, final bool) string {
			return renderCleanup(aborted, now.Sub(p.start), final, p.width)
		}
	}
	p.set(show(0))
	aborted := 0
	return func(r slog.Record) {
		if r.Message == "s3dest: aborted a stale multipart upload" {
			aborted++ // CleanupUploads aborts one at a time
			p.show(show(aborted), false)
		}
	}
}

func attrInt(r slog.Record, key string) int {
	n := -1
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			n = int(a.Value.Int64())
			return false
		}
		return true
	})
	return n
}

// begin restarts the elapsed time and the ticker: wait and cleanup call it
// when the operation starts, after their own messages on stderr.
func (p *progress) begin() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start = p.now()
	p.startTickerLocked()
}

// set changes what the line says without drawing it.
func (p *progress) set(status func(time.Time, bool) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = status
}

// show changes what the line says and draws it, unless it was drawn less
// than `every` ago and this is not a final state.
func (p *progress) show(status func(time.Time, bool) string, final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.status = status
	p.startTickerLocked()
	now := p.now()
	if p.drawn && !final && now.Sub(p.last) < p.every {
		return
	}
	p.drawLocked(now, false)
	p.complete = final
}

func (p *progress) startTickerLocked() {
	if p.stop != nil || p.tick <= 0 || p.finished {
		return
	}
	p.stop = make(chan struct{})
	p.ticking.Add(1)
	go func(stop <-chan struct{}) {
		defer p.ticking.Done()
		t := time.NewTicker(p.tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.mu.Lock()
				if !p.finished && p.status != nil && !p.complete {
					p.drawLocked(p.now(), false)
				}
				p.mu.Unlock()
			}
		}
	}(p.stop)
}

// drawLocked writes the line over the one before.
func (p *progress) drawLocked(now time.Time, final bool) {
	line := fit(p.status(now, final), p.width-1)
	n := utf8.RuneCountInString(line)
	pad := max(p.shown-n, 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.last, p.drawn, p.shown = now, true, n
}

// interrupt blanks the line while f writes a whole line of its own (a -v
// log record), then draws it again under.
func (p *progress) interrupt(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	was := p.drawn && !p.finished
	if was {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shown))
		p.drawn, p.shown = false, 0
	}
	f()
	if was {
		p.drawLocked(p.now(), false)
	}
}

// finish stops the line: when it was drawn, it is drawn a last time in its
// final state and ended with a newline. Later calls do nothing, and so does
// finish on a line never drawn (an operation too short to need one).
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return
	}
	p.finished = true
	if p.stop != nil {
		close(p.stop)
	}
	if p.drawn {
		if !p.complete {
			p.drawLocked(p.now(), true)
		}
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	p.mu.Unlock()
	p.ticking.Wait()
}

// logTap is the library's log handler while a progress line is shown: it
// hands records to fn (wait's and cleanup's source of progress) and to
// next (-v's handler, if any), blanking the line while next writes.
type logTap struct {
	next slog.Handler
	p    *progress
	fn   func(slog.Record)
}

func (h *logTap) Enabled(ctx context.Context, l slog.Level) bool {
	return (h.fn != nil && l >= slog.LevelInfo) || (h.next != nil && h.next.Enabled(ctx, l))
}

func (h *logTap) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		h.p.interrupt(func() { err = h.next.Handle(ctx, r) })
	}
	if h.fn != nil && r.Level >= slog.LevelInfo {
		h.fn(r)
	}
	return err
}

// WithAttrs and WithGroup reach only next: the records fn reads carry
// their attributes themselves.
func (h *logTap) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	if c.next != nil {
		c.next = c.next.WithAttrs(attrs)
	}
	return &c
}

func (h *logTap) WithGroup(name string) slog.Handler {
	c := *h
	if c.next != nil {
		c.next = c.next.WithGroup(name)
	}
	return &c
}

// The rendering below is pure: counts, elapsed time and width in, a line
// out, at most width-1 columns so that the terminal never wraps it.

// renderTransfer is a transfer's line: the name, a bar, the percentage,
// the bytes, the average rate, and the time left (or, once done, taken):
//
//	backup.tar [=========>          ]  45%  1.4 MiB / 3.0 MiB  2.1 MiB/s  ETA 1.0s
//
// With the total unknown (a pipe), the bytes and the rate.
func renderTransfer(pr s3dest.Progress, elapsed time.Duration, width int) string {
	limit := width - 1
	rate := rateOf(pr.Done, elapsed)
	if pr.Total < 0 {
		stats := human(pr.Done)
		if rate > 0 {
			stats += "  " + human(int64(rate)) + "/s"
		}
		return fit(shorten(pr.Name, max(min(maxNameCols, limit-len(stats)-2), 0))+"  "+stats, limit)
	}
	frac := 1.0
	if pr.Total > 0 {
		frac = min(float64(pr.Done)/float64(pr.Total), 1)
	}
	stats := fmt.Sprintf("%3d%%  %s / %s", int(frac*100), human(pr.Done), human(pr.Total))
	if rate > 0 {
		stats += "  " + human(int64(rate)) + "/s"
	}
	switch {
	case pr.Done >= pr.Total && elapsed > 0:
		stats += "  in " + short(elapsed)
	case pr.Done < pr.Total && rate > 0:
		stats += "  ETA " + short(time.Duration(float64(pr.Total-pr.Done)/rate*float64(time.Second)))
	}
	name := shorten(pr.Name, max(min(maxNameCols, limit-len(stats)-1), 0))
	// The bar leaves room for the longest usual figures, so that it keeps
	// its length as they change.
	cols := min(maxBarCols, limit-utf8.RuneCountInString(name)-max(len(stats), statsCols)-4)
	if cols < minBarCols {
		return fit(name+" "+stats, limit)
	}
	return name + " " + bar(frac, cols) + " " + stats
}

const (
	maxNameCols = 24
	minBarCols  = 5
	maxBarCols  = 30
	statsCols   = len(" 25%  25.0 MiB / 100.0 MiB  5.0 MiB/s  ETA 15s")
)

// bar is a progress bar of cols columns inside brackets.
func bar(frac float64, cols int) string {
	full := int(frac * float64(cols))
	if full >= cols {
		return "[" + strings.Repeat("=", cols) + "]"
	}
	return "[" + strings.Repeat("=", full) + ">" + strings.Repeat(" ", cols-full-1) + "]"
}

// rateOf is the average rate in bytes a second, 0 when it cannot be told.
func rateOf(done int64, elapsed time.Duration) float64 {
	if elapsed <= 0 || done <= 0 {
		return 0
	}
	return float64(done) / elapsed.Seconds()
}

// renderWait is wait's line: how many objects are readable (ready -1: not
// known yet), when the next check is (next -1: not known) and the time
// elapsed; final says what was reached, and in how long.
func renderWait(ready, total int, next, elapsed time.Duration, final bool, width int) string {
	var s string
	switch {
	case ready < 0 && final:
		s = fmt.Sprintf("wait: %d object(s), stopped after %s", total, short(elapsed))
	case ready < 0:
		s = fmt.Sprintf("wait: checking %d object(s), %s elapsed", total, short(elapsed))
	case final:
		s = fmt.Sprintf("wait: %d of %d readable after %s", ready, total, short(elapsed))
	case next >= 0:
		s = fmt.Sprintf("wait: %d of %d readable, next check in %s, %s elapsed", ready, total, short(next), short(elapsed))
	default:
		s = fmt.Sprintf("wait: %d of %d readable, %s elapsed", ready, total, short(elapsed))
	}
	return fit(s, width-1)
}

// renderCleanup is cleanup's line: the uploads aborted so far, and the
// time elapsed; final says how many in all, and in how long.
func renderCleanup(aborted int, elapsed time.Duration, final bool, width int) string {
	if final {
		return fit(fmt.Sprintf("cleanup: %d upload(s) aborted in %s", aborted, short(elapsed)), width-1)
	}
	return fit(fmt.Sprintf("cleanup: %d upload(s) aborted so far, %s elapsed", aborted, short(elapsed)), width-1)
}

// short formats a duration for a status line: 0.4s, 9.9s, 42s, 3m05s, 2h07m.
func short(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= 100*time.Hour:
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	}
	switch s := d.Seconds(); {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", math.Floor(s*10)/10)
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(s))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(s)/60, int(s)%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(s)/3600, int(s)%3600/60)
	}
}

// shorten keeps the end of a name, which tells objects apart, within cols
// runes: "…kups/2026-01.tar".
func shorten(name string, cols int) string {
	r := []rune(name)
	switch {
	case len(r) <= cols:
		return name
	case cols <= 1:
		return string(r[len(r)-cols:])
	}
	return "…" + string(r[len(r)-cols+1:])
}

// fit cuts s to at most cols runes.
func fit(s string, cols int) string {
	if cols <= 0 {
		return ""
	}
	if r := []rune(s); len(r) > cols {
		return string(r[:cols])
	}
	return s
}

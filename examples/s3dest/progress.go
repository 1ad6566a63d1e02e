package main

import (
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

// progress is one status line on a terminal (stderr) for a long operation,
// a transfer (put, get). It is redrawn in place with "\r", at most once
// every `every` for updates and once every `tick` so that elapsed times and
// rates move while nothing else does, and ended by finish with its final
// state and a newline. A nil *progress draws nothing, so commands call its
// methods without asking.
type progress struct {
	w     io.Writer
	width int              // the terminal's columns; lines take at most width-1
	every time.Duration    // least time between two redraws, but for final states
	tick  time.Duration    // redraw this often, once shown; 0: never
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
// only put and get have one, only when stderr is a terminal, and never with
// --json. get to stdout on a terminal has none either, as the line would
// mix with the data.
func (a *app) progressFor(c *call) *progress {
	switch {
	case !a.stderrTTY || c.o.json:
		return nil
	case c.cmd.name == "get" && len(c.args) > 1 && c.args[1] == "-" && a.stdoutTTY:
		return nil
	case c.cmd.name != "put" && c.cmd.name != "get":
		return nil
	}
	width := a.stderrWidth
	if width <= 0 {
		width = 80
	}
	return newProgress(a.stderr, width, a.progressEvery)
}

// options are the library options that feed the progress line and write
// -v's log (verbose, when not nil).
func (p *progress) options(c *call, verbose slog.Handler) []s3dest.Option {
	var opts []s3dest.Option
	if verbose != nil {
		opts = append(opts, s3dest.WithLogger(slog.New(verbose)))
	}
	if p != nil {
		opts = append(opts, s3dest.WithProgress(p.transfer))
	}
	return opts
}

// transfer is the WithProgress function of put and get.
func (p *progress) transfer(pr s3dest.Progress) {
	p.show(func(now time.Time, _ bool) string {
		return renderTransfer(pr, now.Sub(p.start), p.width)
	}, pr.Done == pr.Total)
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

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/s3dest/s3dest"
)

func TestRenderTransfer(t *testing.T) {
	const MiB = 1 << 20
	for _, tc := range []struct {
		p       s3dest.Progress
		elapsed time.Duration
		width   int
		want    string
	}{
		{s3dest.Progress{Name: "a.tar", Done: 0, Total: 100 * MiB}, 0, 80,
			"a.tar [>                       ]   0%  0 B / 100.0 MiB"},
		{s3dest.Progress{Name: "a.tar", Done: 25 * MiB, Total: 100 * MiB}, 5 * time.Second, 80,
			"a.tar [======>                 ]  25%  25.0 MiB / 100.0 MiB  5.0 MiB/s  ETA 15s"},
		{s3dest.Progress{Name: "a.tar", Done: 99 * MiB, Total: 100 * MiB}, 99 * time.Second, 80,
			"a.tar [======================>]  99%  99.0 MiB / 100.0 MiB  1.0 MiB/s  ETA 1.0s"},
		{s3dest.Progress{Name: "a.tar", Done: 3 * MiB, Total: 3 * MiB}, 1500 * time.Millisecond, 80,
			"a.tar [========================] 100%  3.0 MiB / 3.0 MiB  2.0 MiB/s  in 1.5s"},
		{s3dest.Progress{Name: "empty", Done: 0, Total: 0}, time.Millisecond, 80,
			"empty [========================] 100%  0 B / 0 B  in 0.0s"},
		// Hours to go, and a slow link.
		{s3dest.Progress{Name: "big", Done: 1 << 30, Total: 10 << 30}, 1024 * time.Second, 80,
			"big [==>                       ]  10%  1.0 GiB / 10.0 GiB  1.0 MiB/s  ETA 2h33m"},
		// A pipe: no total, so no bar and no ETA.
		{s3dest.Progress{Name: "stdin.bin", Done: 12 * MiB, Total: -1}, 4 * time.Second, 80,
			"stdin.bin  12.0 MiB  3.0 MiB/s"},
		{s3dest.Progress{Name: "stdin.bin", Done: 0, Total: -1}, 0, 80, "stdin.bin  0 B"},
		// A long name keeps its end and shrinks the bar; a narrow terminal
		// drops the bar, then the name, then cuts the line.
		{s3dest.Progress{Name: "backups/laptop/2026/01/full.tar", Done: 50, Total: 100}, time.Second, 80,
			"…laptop/2026/01/full.tar [==>  ]  50%  50 B / 100 B  50 B/s  ETA 1.0s"},
		{s3dest.Progress{Name: "a.tar", Done: 50, Total: 100}, time.Second, 44,
			"a.tar  50%  50 B / 100 B  50 B/s  ETA 1.0s"},
		{s3dest.Progress{Name: "a.tar", Done: 50, Total: 100}, time.Second, 20,
			"  50%  50 B / 100 B"},
	} {
		got := renderTransfer(tc.p, tc.elapsed, tc.width)
		if got != tc.want {
			t.Errorf("renderTransfer(%+v, %s, %d)\n got %q\nwant %q", tc.p, tc.elapsed, tc.width, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > tc.width-1 {
			t.Errorf("renderTransfer(%+v, %s, %d) is %d columns, more than %d", tc.p, tc.elapsed, tc.width, n, tc.width-1)
		}
	}
}

func TestShort(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0.0s", 0: "0.0s", 49 * time.Millisecond: "0.0s", 1999 * time.Millisecond: "1.9s",
		10 * time.Second: "10s", 59999 * time.Millisecond: "59s", time.Minute: "1m00s", 61 * time.Minute: "1h01m",
		150 * time.Hour: "150h",
	} {
		if got := short(d); got != want {
			t.Errorf("short(%s) = %q, want %q", d, got, want)
		}
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestProgressThrottle: updates are drawn at most every `every`, a final
// state always; finish draws the final state and ends the line once.
func TestProgressThrottle(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	p := &progress{w: &buf, width: 80, every: 100 * time.Millisecond, now: clock.now}
	p.start = clock.now()
	const total = 1000 << 10
	for done := int64(0); done < total; done += 1 << 10 { // 1,000 updates over 10 s
		p.transfer(s3dest.Progress{Name: "f", Done: done, Total: total})
		clock.advance(10 * time.Millisecond)
	}
	if n := strings.Count(buf.String(), "\r"); n < 90 || n > 101 {
		t.Errorf("1,000 updates over 10s drew %d times, want about 100", n)
	}
	p.transfer(s3dest.Progress{Name: "f", Done: total, Total: total})
	if !strings.HasSuffix(buf.String(), "\rf [========================] 100%  1000.0 KiB / 1000.0 KiB  100.0 KiB/s  in 10s") {
		t.Errorf("the final state was not drawn at once: %q", buf.String()[max(buf.Len()-120, 0):])
	}
	buf.Reset()
	p.finish()
	p.finish()
	if got := buf.String(); got != "\n" {
		t.Errorf("finish after the final state: want the line ended once; got %q", got)
	}
	buf.Reset()
	p.transfer(s3dest.Progress{Name: "f", Done: 1, Total: 2})
	if buf.Len() != 0 {
		t.Errorf("an update after finish drew %q", buf.String())
	}

	// A transfer cut short (an error, Ctrl-C): finish draws where it was
	// and ends the line.
	buf.Reset()
	p = &progress{w: &buf, width: 80, every: time.Second, now: clock.now}
	p.start = clock.now()
	p.transfer(s3dest.Progress{Name: "f", Done: 0, Total: 4 << 10})
	clock.advance(time.Second / 2)
	p.transfer(s3dest.Progress{Name: "f", Done: 1 << 10, Total: 4 << 10}) // within `every`: not drawn
	clock.advance(time.Second / 2)
	p.finish()
	if got, want := buf.String(), "\rf [>                           ]   0%  0 B / 4.0 KiB"+
		"\rf [=======>                    ]  25%  1.0 KiB / 4.0 KiB  1.0 KiB/s  ETA 3.0s\n"; got != want {
		t.Errorf("finish of a transfer cut short\n got %q\nwant %q", got, want)
	}

	// A shorter line blanks what the longer one before it left.
	buf.Reset()
	p = &progress{w: &buf, width: 80, now: clock.now}
	p.show(func(time.Time, bool) string { return "long line" }, false)
	p.show(func(time.Time, bool) string { return "short" }, false)
	if got, want := buf.String(), "\rlong line\rshort    "; got != want {
		t.Errorf("redraw = %q, want %q", got, want)
	}
	// A line never drawn is never ended: short operations leave nothing.
	buf.Reset()
	p = &progress{w: &buf, width: 80, now: clock.now}
	p.set(func(time.Time, bool) string { return "never shown" })
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("finish of a line never drawn wrote %q", buf.String())
	}
}

// onTerminal runs the tool in-process as if stderr (and, with stdoutTTY,
// stdout) were an 80-column terminal.
func onTerminal(t *testing.T, stdin string, stdoutTTY bool, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: noEnv,
		stdoutTTY: stdoutTTY, stderrTTY: true, stderrWidth: 80}
	code := a.run(t.Context(), args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// checkLines fails the test unless every drawn line fits 79 columns.
func checkLines(t *testing.T, what, stderr string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		for _, drawn := range strings.Split(line, "\r") {
			if n := utf8.RuneCountInString(drawn); n > 79 {
				t.Errorf("%s: a %d-column line on an 80-column terminal: %q", what, n, drawn)
			}
		}
	}
}

// TestProgressOnTerminal: on a terminal, put and get draw a line on
// stderr that ends in its final state; stdout gets only the results.
func TestProgressOnTerminal(t *testing.T) {
	_, raw := withBucket(t)
	data := strings.Repeat("x", 3<<20)
	r := onTerminal(t, data, false, "put", raw, "-", "p.bin")
	want(t, "put progress", r.stderr, "\rp.bin", "100%  3.0 MiB / 3.0 MiB", "/s  in ")
	if !strings.HasSuffix(r.stderr, "\n") || r.stdout != "put p.bin: 3.0 MiB (the server's default storage class)\n" {
		t.Errorf("put on a terminal: the line is left open, or stdout holds more than the result: %s", r)
	}
	checkLines(t, "put", r.stderr)

	r = onTerminal(t, "", false, "get", raw, "p.bin", "-")
	want(t, "get progress", r.stderr, "\rp.bin", "100%  3.0 MiB / 3.0 MiB")
	if r.code != 0 || r.stdout != data {
		t.Errorf("get - on a terminal: stdout is not exactly the data (%d bytes, %q...)", len(r.stdout), r.stdout[:min(len(r.stdout), 20)])
	}
	// Data on a terminal too: no line to mix with it.
	if r := onTerminal(t, "", true, "get", raw, "p.bin", "-"); r.code != 0 || r.stderr != "" || r.stdout != data {
		t.Errorf("get - with stdout on the terminal drew progress: %q", r.stderr)
	}
}

// TestNoProgressOffTerminal: with stderr not a terminal (a buffer), or with
// --json, nothing is drawn, and --json output is JSON alone.
func TestNoProgressOffTerminal(t *testing.T) {
	_, raw := withBucket(t)
	data := strings.Repeat("y", 3<<20)
	// Through run: the buffers are no terminals.
	for _, args := range [][]string{{"put", raw, "-", "q.bin"}, {"get", raw, "q.bin", "-"}} {
		if r := cli(t, nil, data, args...); r.code != 0 || r.stderr != "" {
			t.Errorf("s3dest %s off a terminal wrote on stderr: %s", args[0], r)
		}
	}
	// --json on a terminal.
	for _, args := range [][]string{{"put", "--json", raw, "-", "j.bin"}, {"get", "--json", raw, "j.bin", t.TempDir()}} {
		r := onTerminal(t, data, false, args...)
		if r.code != 0 || r.stderr != "" || !json.Valid([]byte(r.stdout)) {
			t.Errorf("s3dest %s --json on a terminal: want JSON on stdout and nothing on stderr; got %s", args[0], r)
		}
	}
}

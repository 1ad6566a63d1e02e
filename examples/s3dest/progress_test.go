package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"
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

func TestRenderWait(t *testing.T) {
	for _, tc := range []struct {
		ready, total  int
		next, elapsed time.Duration
		final         bool
		want          string
	}{
		{-1, 3, -1, 200 * time.Millisecond, false, "wait: checking 3 object(s), 0.2s elapsed"},
		{1, 3, 40 * time.Second, 2*time.Minute + 10*time.Second, false, "wait: 1 of 3 readable, next check in 40s, 2m10s elapsed"},
		{1, 3, -1, 5 * time.Second, false, "wait: 1 of 3 readable, 5.0s elapsed"},
		{3, 3, -1, 3*time.Hour + 4*time.Minute, true, "wait: 3 of 3 readable after 3h04m"},
		{1, 3, 0, time.Minute, true, "wait: 1 of 3 readable after 1m00s"},
		{-1, 2, -1, 12 * time.Second, true, "wait: 2 object(s), stopped after 12s"},
	} {
		if got := renderWait(tc.ready, tc.total, tc.next, tc.elapsed, tc.final, 80); got != tc.want {
			t.Errorf("renderWait(%d, %d, %s, %s, %v)\n got %q\nwant %q", tc.ready, tc.total, tc.next, tc.elapsed, tc.final, got, tc.want)
		}
	}
	if got := renderWait(1, 3, time.Second, time.Second, false, 21); got != "wait: 1 of 3 readabl" {
		t.Errorf("renderWait on 21 columns = %q", got)
	}
}

func TestRenderCleanup(t *testing.T) {
	if got, want := renderCleanup(2, 3*time.Second, false, 80), "cleanup: 2 upload(s) aborted so far, 3.0s elapsed"; got != want {
		t.Errorf("renderCleanup running = %q, want %q", got, want)
	}
	if got, want := renderCleanup(7, 95*time.Second, true, 80), "cleanup: 7 upload(s) aborted in 1m35s"; got != want {
		t.Errorf("renderCleanup final = %q, want %q", got, want)
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
	p.begin()
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

// TestProgressOnTerminal: on a terminal, put, get, wait and cleanup draw a
// line on stderr that ends in its final state; stdout gets only results.
func TestProgressOnTerminal(t *testing.T) {
	srv, raw := withBucket(t)
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

	srv.RestorePolls = 2
	ok(t, "cold", "put", "--storage-class", "GLACIER", raw, "-", "cold.bin")
	ok(t, "", "restore", raw, "cold.bin")
	r = onTerminal(t, "", false, "wait", raw, "cold.bin", "cold.bin", "--poll", "1ms")
	want(t, "wait progress", r.stderr, "waiting for 2 object(s) to be readable, checking every 1ms\n",
		"\rwait: 0 of 1 readable, next check in ", "\rwait: 1 of 1 readable after ")
	if r.code != 0 || !strings.HasSuffix(r.stderr, "\n") || r.stdout != "readable now: cold.bin, cold.bin\n" {
		t.Errorf("wait on a terminal: %s", r)
	}
	checkLines(t, "wait", r.stderr)

	d := open(t, raw)
	for _, key := range []string{"pre/a.bin", "pre/b.bin"} {
		if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: ptr("bkt"), Key: ptr(key)}); err != nil {
			t.Fatal(err)
		}
	}
	r = onTerminal(t, "", false, "cleanup", raw, "--older-than", "0")
	want(t, "cleanup progress", r.stderr, "\rcleanup: 1 upload(s) aborted so far", "\rcleanup: 2 upload(s) aborted in ")
	if r.code != 0 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stdout, "aborted 2 incomplete") {
		t.Errorf("cleanup on a terminal: %s", r)
	}
	// Nothing to abort, quickly: no line at all.
	if r := onTerminal(t, "", false, "cleanup", raw); r.code != 0 || r.stderr != "" {
		t.Errorf("a quick cleanup drew a line: %s", r)
	}
}

// TestProgressAndVerboseLog: -v's log lines start on a line of their own,
// the progress line blanked under them.
func TestProgressAndVerboseLog(t *testing.T) {
	_, raw := withBucket(t)
	d := open(t, raw)
	for _, key := range []string{"pre/a.bin", "pre/b.bin"} {
		if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: ptr("bkt"), Key: ptr(key)}); err != nil {
			t.Fatal(err)
		}
	}
	r := onTerminal(t, "", false, "cleanup", "-v", raw, "--older-than", "0")
	if r.code != 0 || strings.Count(r.stderr, "msg=\"s3dest: aborted a stale multipart upload\"") != 2 {
		t.Fatalf("cleanup -v: %s", r)
	}
	for i := 0; ; {
		j := strings.Index(r.stderr[i:], "time=")
		if j < 0 {
			break
		}
		if at := i + j; at > 0 && r.stderr[at-1] != '\n' && r.stderr[at-1] != '\r' {
			t.Errorf("a log line starts in the middle of the progress line: %q", r.stderr[max(at-40, 0):at+5])
		}
		i += j + 1
	}
	want(t, "cleanup -v", r.stderr, "\rcleanup: 2 upload(s) aborted in ")
}

// TestNoProgressOffTerminal: with stderr not a terminal (a buffer), or with
// --json, nothing is drawn, and --json output is JSON alone.
func TestNoProgressOffTerminal(t *testing.T) {
	srv, raw := withBucket(t)
	data := strings.Repeat("y", 3<<20)
	srv.RestorePolls = 2
	ok(t, "cold", "put", "--storage-class", "GLACIER", raw, "-", "cold.bin")
	ok(t, "", "restore", raw, "cold.bin")
	d := open(t, raw)
	if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: ptr("bkt"), Key: ptr("pre/x.bin")}); err != nil {
		t.Fatal(err)
	}

	// Through run: the buffers are no terminals.
	for _, args := range [][]string{
		{"put", raw, "-", "q.bin"}, {"get", raw, "q.bin", "-"}, {"cleanup", raw, "--older-than", "0"},
	} {
		if r := cli(t, nil, data, args...); r.code != 0 || r.stderr != "" {
			t.Errorf("s3dest %s off a terminal wrote on stderr: %s", args[0], r)
		}
	}
	if r := cli(t, nil, "", "wait", raw, "cold.bin", "--poll", "1ms"); r.code != 0 || strings.Contains(r.stderr, "\r") ||
		r.stderr != "waiting for 1 object(s) to be readable, checking every 1ms\n" {
		t.Errorf("wait off a terminal drew progress: %s", r)
	}

	// --json on a terminal.
	srv.SetRestoring("bkt", "pre/cold.bin", 2)
	if _, err := d.Client().CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: ptr("bkt"), Key: ptr("pre/y.bin")}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"put", "--json", raw, "-", "j.bin"}, {"get", "--json", raw, "j.bin", t.TempDir()},
		{"wait", "--json", raw, "cold.bin", "--poll", "1ms"}, {"cleanup", "--json", raw, "--older-than", "0"},
	} {
		r := onTerminal(t, data, false, args...)
		if r.code != 0 || r.stderr != "" || !json.Valid([]byte(r.stdout)) {
			t.Errorf("s3dest %s --json on a terminal: want JSON on stdout and nothing on stderr; got %s", args[0], r)
		}
	}
}

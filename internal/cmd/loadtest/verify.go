package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3dest/s3dest"
)

// verify compares the bucket, read through a destination without faults,
// with the ledger: every certain object byte for byte, every certain
// absence, every uncertain object against its candidates, and the
// multipart uploads left. It returns a summary line.
func (r *run) verify(ctx context.Context, clean *s3dest.Destination, uploadPrefix string, logs *logCapture) string {
	listed := map[string]bool{}
	for fi, err := range clean.List(ctx) {
		if err != nil {
			r.st.find(vUnexplained, "the final listing failed: %v", err)
			break
		}
		listed[fi.Name] = true
		if _, ok := r.l.entries[fi.Name]; !ok {
			r.st.find(vUnexplained, "%q exists, a name never used", fi.Name)
		}
	}
	sk := newSink()
	var exist, absent, uncertain int
	for _, name := range r.l.names {
		cands, how := r.l.get(name), r.l.how(name)
		found, err := r.readClean(ctx, clean, sk, name)
		if err != nil {
			r.st.find(vUnexplained, "%q could not be read without faults: %v", name, err)
			continue
		}
		if found != listed[name] {
			r.st.find(vUnexplained, "%q: Get found it %v, the listing %v", name, found, listed[name])
		}
		if found {
			exist++
		} else {
			absent++
		}
		if len(cands) > 1 {
			uncertain++
		}
		c := cands[0]
		switch {
		case len(cands) == 1 && c == nil && found:
			r.findn(name, vDeletedExist, "%q exists (%d bytes) after %s", name, sk.buf.Len(), how)
		case len(cands) == 1 && c != nil && !found:
			r.findn(name, vPutOther, "%q is missing; the last %s stored %v", name, how, c)
		case len(cands) == 1 && c != nil && !sk.matches(c):
			r.findn(name, vPutOther, "%q differs after %s: %s", name, how, sk.diff(r.g, c, 0))
		case len(cands) > 1 && found && !slices.ContainsFunc(cands, sk.matches):
			r.findn(name, vUnexplained, "%q holds %d bytes that are none of %s (%s): %s", name, sk.buf.Len(), describe(cands), how, sk.diff(r.g, first(cands), 0))
		case len(cands) > 1 && !found && !hasAbsent(cands):
			r.findn(name, vUnexplained, "%q is missing; the ledger holds %s (%s)", name, describe(cands), how)
		}
	}
	ups, err := r.uploads(ctx, clean, uploadPrefix)
	if err != nil {
		r.st.find(vUploadsLeft, "ListMultipartUploads failed: %v", err)
	}
	for _, u := range ups {
		warned := logs.warnings(u.key)
		why := r.wire.creator(u.id, u.key) + "; s3dest's warnings about the key: " + warned
		if strings.Contains(warned, "CleanupUploads will remove") {
			r.st.find(vLoggedLeft, "%q upload %s: see below", u.key, u.id)
		}
		name := strings.TrimPrefix(u.key, clean.Prefix())
		if _, ok := r.l.entries[name]; ok {
			r.findn(name, vUploadsLeft, "%q upload %s initiated %s (%s)", u.key, u.id, u.initiated.Format(time.TimeOnly), why)
		} else {
			r.st.find(vUploadsLeft, "%q upload %s initiated %s (%s)", u.key, u.id, u.initiated.Format(time.TimeOnly), why)
		}
	}
	return fmt.Sprintf("%d objects exist, %d absent, %d of them uncertain in the ledger; %d multipart uploads left",
		exist, absent, uncertain, len(ups))
}

// readClean reads name whole, verified; a corrupt stored object is a
// finding, and its raw bytes are read instead. Transient errors are tried
// again: the clean client has no faults but the server may still fail.
func (r *run) readClean(ctx context.Context, clean *s3dest.Destination, sk *sink, name string) (bool, error) {
	var err error
	for range 3 {
		sk.reset()
		err = clean.Get(ctx, name, sk)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, s3dest.ErrObjectNotFound):
			return false, nil
		case errors.Is(err, s3dest.ErrCorrupt):
			return true, r.rawRead(ctx, clean, sk, name, err)
		}
	}
	return false, err
}

// rawRead reads an object that a clean Get called corrupt without
// checking it, and says whether its stored checksum or the first read was
// wrong.
func (r *run) rawRead(ctx context.Context, clean *s3dest.Destination, sk *sink, name string, getErr error) error {
	again := "a second clean Get = nil"
	if err := clean.Get(ctx, name, newSink()); err != nil {
		again = "a second clean Get = " + err.Error()
	}
	fi, serr := clean.Stat(ctx, name)
	sk.reset()
	out, err := clean.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(clean.Bucket()), Key: aws.String(clean.Prefix() + name)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	if _, err := io.Copy(sk, out.Body); err != nil {
		return err
	}
	crc := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(sk.buf.Bytes(), castagnoli)))
	whose, verdict := "no version written has it", vUnexplained
	if v := r.knownSum(fi.Checksum); v != nil {
		whose = "it is the checksum of " + v.String()
		if slices.ContainsFunc(r.l.get(name), sk.matches) {
			verdict = vFakeSum // the right bytes under another version's checksum
		}
	}
	r.findn(name, verdict, "%q: a clean Get fails its own check: %v; %s; Stat = %d B %s (%s; %v); the raw bytes: %d B, CRC32C %s, ETag %s",
		name, getErr, again, fi.Size, fi.Checksum, whose, serr, sk.buf.Len(), crc, aws.ToString(out.ETag))
	return nil
}

type upload struct {
	key, id   string
	initiated time.Time
}

// uploads lists the multipart uploads under prefix ("" for the bucket).
func (r *run) uploads(ctx context.Context, clean *s3dest.Destination, prefix string) ([]upload, error) {
	var out []upload
	var km, im *string
	for {
		page, err := clean.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{
			Bucket: aws.String(clean.Bucket()), Prefix: aws.String(prefix), KeyMarker: km, UploadIdMarker: im})
		if err != nil {
			return out, err
		}
		for _, u := range page.Uploads {
			out = append(out, upload{aws.ToString(u.Key), aws.ToString(u.UploadId), aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		km, im = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// logCapture is the destination's logger: it counts s3dest's messages and
// keeps its warnings by key, to explain what is left behind.
type logCapture struct {
	mu     sync.Mutex
	counts map[string]int
	warns  map[string][]string
	echo   bool
}

func newLogCapture(echo bool) *logCapture {
	return &logCapture{counts: map[string]int{}, warns: map[string][]string{}, echo: echo}
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }

func (c *logCapture) Handle(_ context.Context, rec slog.Record) error {
	var key, detail string
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "key" {
			key = a.Value.String()
		}
		detail += " " + a.Key + "=" + trim(a.Value.String(), 200)
		return true
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[rec.Level.String()+" "+rec.Message]++
	if rec.Level >= slog.LevelWarn {
		c.warns[key] = append(c.warns[key], rec.Message+detail)
	}
	if c.echo {
		fmt.Printf("log %s %s%s\n", rec.Level, rec.Message, detail)
	}
	return nil
}

func (c *logCapture) warnings(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.warns[key], "; ")
}

func (c *logCapture) print(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msgs := slices.Sorted(maps.Keys(c.counts))
	fmt.Fprintf(w, "\ns3dest's log\n")
	for _, m := range msgs {
		fmt.Fprintf(w, "  %6d  %s\n", c.counts[m], trim(m, 140))
	}
}

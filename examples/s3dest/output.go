package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/s3dest/s3dest"
)

// categories name the error categories in JSON ("code") and say, for the
// command line, how to get past them. An empty hint keeps the library's.
var categories = []struct {
	err  error
	code string
	hint string
}{
	{s3dest.ErrBucketNotFound, "bucket_not_found", "create it with 's3dest mb', or with 's3dest test --create'"},
	{s3dest.ErrObjectNotFound, "object_not_found", "'s3dest ls' lists the names"},
	{s3dest.ErrObjectArchived, "archived", "restore it with 's3dest restore', then 's3dest wait' until it is readable"},
	{s3dest.ErrAccessDenied, "access_denied", ""},
	{s3dest.ErrBucketNameTaken, "bucket_name_taken", ""},
	{s3dest.ErrWrongRegion, "wrong_region", ""},
	{s3dest.ErrCorrupt, "corrupt", ""},
	{s3dest.ErrInvalid, "invalid", ""},
	{s3dest.ErrNotSupported, "not_supported", ""},
}

// cliError is an error the tool words itself; it keeps its cause for
// errors.Is (and so for the exit code).
type cliError struct {
	msg  string
	hint string
	err  error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

// errorInfo is an error as printed: one message per failure, the category,
// the S3 error code and a hint.
type errorInfo struct {
	Error  string `json:"error"`
	Code   string `json:"code"`              // category: usage, bucket_not_found, archived, ..., error
	S3Code string `json:"s3_code,omitempty"` // the server's error code, when it gave one
	Hint   string `json:"hint,omitempty"`
	Exit   int    `json:"exit"`
}

// fail prints err on stderr, as text or JSON, and returns its exit code.
func (a *app) fail(o *opts, cmd *command, err error) int {
	info := errorInfo{Code: "error", Exit: exitCode(err)}
	var ue *usageError
	var ce *cliError
	var se *s3dest.Error
	switch {
	case errors.As(err, &ue):
		info.Code = "usage"
		info.Error, info.Hint = ue.msg, ue.hint
		if info.Hint == "" {
			info.Hint = fmt.Sprintf("run 's3dest %s --help' for usage", cmd.name)
		}
	case errors.As(err, &ce):
		info.Error, info.Hint = ce.msg, ce.hint
	default:
		info.Error = describe(err)
	}
	first := firstFailure(err)
	for _, c := range categories {
		if errors.Is(first, c.err) {
			info.Code = c.code
			if info.Hint == "" {
				info.Hint = c.hint
			}
			break
		}
	}
	if errors.As(first, &se) {
		info.S3Code = se.Code
		if info.Hint == "" {
			info.Hint = se.Hint
		}
	}
	info.Error, info.Hint = a.scrub(info.Error), a.scrub(info.Hint)
	if o.json {
		writeJSON(a.stderr, info)
		return info.Exit
	}
	msg := info.Error
	if info.Code != "usage" {
		// One failure a line, under the first; "s3dest get: s3://b/k: ..."
		// rather than "s3dest get: get s3://b/k: ...".
		lines := strings.Split(msg, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimPrefix(l, cmd.name+" ")
		}
		msg = strings.Join(lines, "\n  ")
	}
	fmt.Fprintf(a.stderr, "s3dest %s: %s\n", cmd.name, msg)
	if info.Hint != "" {
		fmt.Fprintf(a.stderr, "hint: %s\n", info.Hint)
	}
	return info.Exit
}

// firstFailure is the first of joined errors (restore's, rm's), which
// decides the exit code; any other error is itself.
func firstFailure(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, single := err.(*s3dest.Error); !single {
			if errs := j.Unwrap(); len(errs) > 0 {
				return firstFailure(errs[0])
			}
		}
	}
	return err
}

// describe words an error in one line per failure: the operation, the
// object, the category and what the server said, without the SDK's request
// details when a category already says what happened.
func describe(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, single := err.(*s3dest.Error); !single {
			var lines []string
			for _, e := range j.Unwrap() {
				lines = append(lines, describe(e))
			}
			return strings.Join(lines, "\n")
		}
	}
	var e *s3dest.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	kind := ""
	for _, c := range categories {
		if errors.Is(e, c.err) {
			kind = c.err.Error()
			break
		}
	}
	if kind == "" {
		// The hint goes on a line of its own (fail): not twice.
		msg := strings.TrimPrefix(e.Error(), "s3dest: ")
		if e.Hint != "" {
			msg = strings.Replace(msg, " ("+e.Hint+")", "", 1)
		}
		return msg
	}
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Bucket != "" {
		b.WriteString(" s3://" + e.Bucket)
		if e.Key != "" {
			b.WriteString("/" + e.Key)
		}
	}
	b.WriteString(": " + kind)
	var api interface {
		ErrorCode() string
		ErrorMessage() string
	}
	switch {
	case errors.As(e.Err, &api) && api.ErrorMessage() != "" && api.ErrorMessage() != api.ErrorCode():
		fmt.Fprintf(&b, " (%s: %s)", api.ErrorCode(), api.ErrorMessage())
	case e.Code != "":
		fmt.Fprintf(&b, " (%s)", e.Code)
	case e.Err != nil && !errors.As(e.Err, &api):
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// scrub removes the URL's secret from a message: the library promises
// never to put it in an error, and this keeps the tool's own words honest
// too.
func (a *app) scrub(s string) string {
	for _, secret := range a.secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// jsonIndent is json.MarshalIndent without HTML escaping or a final newline.
func jsonIndent(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// fileJSON is a FileInfo for --json output.
type fileJSON struct {
	Name          string     `json:"name"`
	Size          int64      `json:"size"`
	Modified      time.Time  `json:"modified"`
	ETag          string     `json:"etag,omitempty"`
	StorageClass  string     `json:"storage_class"`
	Archived      bool       `json:"archived"`
	Restoring     bool       `json:"restoring"`
	RestoredUntil *time.Time `json:"restored_until,omitempty"`
	Checksum      string     `json:"checksum,omitempty"`
}

func toJSON(fi s3dest.FileInfo) fileJSON {
	j := fileJSON{Name: fi.Name, Size: fi.Size, Modified: fi.ModTime.UTC(), ETag: fi.ETag,
		StorageClass: fi.StorageClass, Archived: fi.Archived, Restoring: fi.Restoring, Checksum: fi.Checksum}
	if !fi.RestoredUntil.IsZero() {
		t := fi.RestoredUntil.UTC()
		j.RestoredUntil = &t
	}
	return j
}

// state words what an object's archive state allows.
func state(fi s3dest.FileInfo) string {
	switch {
	case fi.Restoring:
		return "restoring"
	case fi.Archived:
		return "archived"
	case !fi.RestoredUntil.IsZero():
		return "restored until " + stamp(fi.RestoredUntil)
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// lsLine is one object in a text listing.
func lsLine(fi s3dest.FileInfo) string {
	line := fmt.Sprintf("%s %10d  %-12s  %s", stamp(fi.ModTime), fi.Size, fi.StorageClass, fi.Name)
	if s := state(fi); s != "" {
		line += "  (" + s + ")"
	}
	return line
}

// sizeUnits are binary units for sizes people read and give.
var sizeUnits = []string{"B", "KiB", "MiB", "GiB", "TiB"}

// human formats a byte count: 14 B, 1.5 KiB, 16.0 MiB.
func human(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, u := float64(n), 0
	for f >= 1024 && u < len(sizeUnits)-1 {
		f /= 1024
		u++
	}
	return fmt.Sprintf("%.1f %s", f, sizeUnits[u])
}

// parseSize reads a byte count: 8388608, 8MiB, 8M, 64KiB, 1GiB.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for i, u := range []string{"k", "m", "g"} {
		for _, suf := range []string{u + "ib", u + "b", u} {
			if strings.HasSuffix(strings.ToLower(t), suf) {
				t, mult = strings.TrimSpace(t[:len(t)-len(suf)]), int64(1)<<(10*(i+1))
				break
			}
		}
		if mult > 1 {
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("give a positive number of bytes, such as 8388608, 8MiB or 1GiB")
	}
	return n * mult, nil
}

// duration formats a duration without zero tails: 24h, 1h30m, 100ms.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/s3dest/s3dest"
)

// The verdicts; any non-zero one but the informational fails the run.
const (
	vWrongNil     = "wrong bytes returned as nil"
	vPutOther     = "Puts that returned nil but stored other bytes"
	vUploadsLeft  = "uploads left"
	vDeletedExist = "objects the ledger says are deleted that exist"
	vContradict   = "reads that contradict the ledger during the run"
	vUnexplained  = "final states no history explains"
	vPanics       = "panics"
	vRangeInfo    = "GetRange wrong bytes returned as nil after a damaged answer (content unchecked by design)"
	vFakeSum      = "objects the fake serves with another version's checksum (a defect of the fake)"
	vLoggedLeft   = "of the uploads left, those s3dest logged it could not clean up"
	vServerTemp   = "a server's temporary file listed as an object (versitygw's .NAME.sgwtmp.N, while a Put is under way)"
)

var verdictOrder = []string{vWrongNil, vPutOther, vUploadsLeft, vDeletedExist, vContradict, vUnexplained, vPanics}

type opStat struct{ ok, err, notFound int }

type finding struct{ verdict, detail string }

type stats struct {
	mu       sync.Mutex
	ops      map[string]*opStat
	cats     map[string]int
	samples  map[string][]string
	notError int // errors that are no *s3dest.Error (the contract says every one is)
	verdicts map[string]int
	findings []finding
	putBytes int64 // data bytes of Puts that returned nil
	getBytes int64 // data bytes delivered by reads that returned nil
}

func newStats() *stats {
	return &stats{ops: map[string]*opStat{}, cats: map[string]int{}, samples: map[string][]string{}, verdicts: map[string]int{}}
}

// op records the outcome of one operation.
func (s *stats) op(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ops[name]
	if st == nil {
		st = &opStat{}
		s.ops[name] = st
	}
	switch {
	case err == nil:
		st.ok++
		return
	case errors.Is(err, s3dest.ErrObjectNotFound):
		st.notFound++
	default:
		st.err++
	}
	for _, e := range leaves(err) {
		var se *s3dest.Error
		if !errors.As(e, &se) {
			s.notError++
		}
		c := category(e)
		s.cats[c]++
		if len(s.samples[c]) < 2 {
			s.samples[c] = append(s.samples[c], name+": "+trim(e.Error(), 300))
		}
	}
}

// leaves splits DeleteMany's joined error into its *Errors.
func leaves(err error) []error {
	if _, ok := err.(*s3dest.Error); ok {
		return []error{err}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrCorrupt", s3dest.ErrCorrupt}, {"ErrObjectNotFound", s3dest.ErrObjectNotFound},
	{"ErrAccessDenied", s3dest.ErrAccessDenied}, {"ErrInvalid", s3dest.ErrInvalid},
	{"ErrBucketNotFound", s3dest.ErrBucketNotFound}, {"ErrObjectArchived", s3dest.ErrObjectArchived},
	{"ErrWrongRegion", s3dest.ErrWrongRegion}, {"ErrNotSupported", s3dest.ErrNotSupported},
	{"ErrBucketNameTaken", s3dest.ErrBucketNameTaken},
	{"context.DeadlineExceeded", context.DeadlineExceeded}, {"context.Canceled", context.Canceled},
}

// category names an error's s3dest category, or for errors without one
// what caused it.
func category(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	var re *awshttp.ResponseError
	var ae smithy.APIError
	msg := err.Error()
	switch {
	case errors.As(err, &re) && errors.As(err, &ae):
		return fmt.Sprintf("none: HTTP %d %s", re.HTTPStatusCode(), ae.ErrorCode())
	case errors.As(err, &re):
		return fmt.Sprintf("none: HTTP %d", re.HTTPStatusCode())
	case strings.Contains(msg, "connection reset"):
		return "none: connection reset"
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(msg, "unexpected EOF"):
		return "none: answer cut short"
	case strings.Contains(msg, "deserialization failed") || strings.Contains(msg, "XML syntax"):
		return "none: answer not readable"
	}
	return "none: other"
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// find records a finding under a verdict.
func (s *stats) find(verdict, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verdicts[verdict]++
	s.findings = append(s.findings, finding{verdict, fmt.Sprintf(format, args...)})
}

func (s *stats) addBytes(put, get int64) {
	s.mu.Lock()
	s.putBytes += put
	s.getBytes += get
	s.mu.Unlock()
}

// printOps prints the operations table and the error categories.
func (s *stats) printOps(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := slices.Sorted(maps.Keys(s.ops))
	fmt.Fprintf(w, "\noperations           total      nil    error  not found\n")
	var t opStat
	for _, n := range names {
		st := s.ops[n]
		fmt.Fprintf(w, "  %-16s %8d %8d %8d %10d\n", n, st.ok+st.err+st.notFound, st.ok, st.err, st.notFound)
		t.ok, t.err, t.notFound = t.ok+st.ok, t.err+st.err, t.notFound+st.notFound
	}
	fmt.Fprintf(w, "  %-16s %8d %8d %8d %10d\n", "all", t.ok+t.err+t.notFound, t.ok, t.err, t.notFound)
	cats := make([]string, 0, len(s.cats))
	for c := range s.cats {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		return s.cats[cats[i]] > s.cats[cats[j]] || s.cats[cats[i]] == s.cats[cats[j]] && cats[i] < cats[j]
	})
	fmt.Fprintf(w, "\nerrors by category (DeleteMany's joined errors counted one by one)\n")
	for _, c := range cats {
		fmt.Fprintf(w, "  %-34s %6d   e.g. %s\n", c, s.cats[c], s.samples[c][0])
	}
	if s.notError > 0 {
		fmt.Fprintf(w, "  errors that are no *s3dest.Error: %d (the contract says every error is one)\n", s.notError)
	}
}

// printVerdicts prints the findings and the verdicts; it returns whether
// every verdict is zero.
func (s *stats) printVerdicts(w io.Writer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	shown := map[string]int{}
	if len(s.findings) > 0 {
		fmt.Fprintf(w, "\nfindings\n")
	}
	for _, f := range s.findings {
		if shown[f.verdict]++; shown[f.verdict] <= 12 {
			fmt.Fprintf(w, "  [%s] %s\n", f.verdict, f.detail)
		} else if shown[f.verdict] == 13 {
			fmt.Fprintf(w, "  [%s] ... more not shown\n", f.verdict)
		}
	}
	fmt.Fprintf(w, "\nverdicts\n")
	clean := true
	info := []string{vLoggedLeft, vRangeInfo, vFakeSum, vServerTemp}
	for _, v := range slices.Concat(verdictOrder, info) {
		n := s.verdicts[v]
		mark := ""
		if n > 0 && !slices.Contains(info, v) {
			mark, clean = "   <-- FAILURE", false
		}
		fmt.Fprintf(w, "  %s: %d%s\n", v, n, mark)
	}
	return clean
}

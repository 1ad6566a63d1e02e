package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/internal/faults"
	"github.com/s3dest/s3dest/s3test"
)

// Answers that are lost after the server acted: the SDK tries again and
// sees the effect of the first try. The verdict must be the truth, and
// nothing may be left behind.

// A lost answer to CompleteMultipartUpload: the retry finds the upload gone
// (404 NoSuchUpload). The object is stored; Put must say so.
func TestLostCompleteAnswer(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	for mode, hook := range checksumModes {
		t.Run(mode, func(t *testing.T) {
			srv := withBucket(t)
			srv.SetHook(hook)
			ft := &faults.Transport{}
			d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
			ft.Add(faults.Fault{Match: faults.Op("CompleteMultipartUpload"), Times: 1, LoseAnswer: true})
			data := randomBytes(3<<20+7, 31)
			if err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(data)}); err != nil {
				t.Fatalf("Put whose Complete answer was lost: %v, want nil (the object is stored)", err)
			}
			if n := ft.Injected(); n != 1 {
				t.Errorf("%d answers lost, want 1: the test tests nothing", n)
			}
			if got := get(t, d, "vol"); got != string(data) {
				t.Error("the object differs from the data")
			}
			assertNoUploads(t, d)
		})
	}
}

// The object found after a lost Complete answer is not the upload's (a
// writer replaced it, or the upload was aborted and an older object
// stays): Put fails, and never as "not found".
func TestLostCompleteAnswerWrongObject(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	data := randomBytes(3<<20+7, 32)
	other := randomBytes(3<<20+7, 33)
	for mode, hook := range checksumModes {
		for _, replace := range []bool{true, false} {
			t.Run(mode+map[bool]string{true: "/replaced", false: "/aborted"}[replace], func(t *testing.T) {
				srv := withBucket(t)
				ft := &faults.Transport{}
				d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
				put(t, d, "vol", string(other[:len(other)-1])) // an older object of another size
				srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
					if hook != nil && hook(w, r) {
						return true
					}
					if r.Method != http.MethodPost || !r.URL.Query().Has("uploadId") {
						return false
					}
					if !replace {
						s3test.WriteError(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
						return true
					}
					// Complete, then another writer stores its object of the
					// same size before the retry arrives.
					rec := httptest.NewRecorder()
					srv.ServeFake(rec, r)
					put := httptest.NewRequest(http.MethodPut, "/"+bucket+"/vol", bytes.NewReader(other))
					put.Header.Set("Content-Length", strconv.Itoa(len(other)))
					rec = httptest.NewRecorder()
					if srv.ServeFake(rec, put); rec.Code != http.StatusOK {
						t.Errorf("the other writer's PUT: %d %s", rec.Code, rec.Body)
					}
					s3test.WriteError(w, r, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
					return true
				})
				err := d.Put(t.Context(), "vol", unknownLength{bytes.NewReader(data)})
				if err == nil || errors.Is(err, s3dest.ErrObjectNotFound) || errors.Is(err, s3dest.ErrBucketNotFound) {
					t.Errorf("Put whose upload vanished under another object = %v, want an error that is not \"not found\"", err)
				}
			})
		}
	}
}

// The same for a multipart copy: Rename's Complete answer is lost.
func TestLostCompleteAnswerOfRename(t *testing.T) {
	srv := withBucket(t)
	ft := &faults.Transport{}
	d := faultDest(t, srv, ft, s3dest.WithLimitsForTest(0, 1<<20, 256<<10))
	data := randomBytes(3<<20+5, 34)
	put(t, d, "big", string(data))
	ft.Add(faults.Fault{Match: faults.Op("CompleteMultipartUpload"), Times: 1, LoseAnswer: true})
	if err := d.Rename(t.Context(), "big", "moved"); err != nil {
		t.Fatalf("Rename whose Complete answer was lost: %v", err)
	}
	if n := ft.Injected(); n != 1 {
		t.Errorf("%d answers lost, want 1: the test tests nothing", n)
	}
	if got := get(t, d, "moved"); got != string(data) {
		t.Error("the renamed object differs")
	}
	if _, err := d.Stat(t.Context(), "big"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat(big) after the rename: %v, want ErrObjectNotFound", err)
	}
	assertNoUploads(t, d)
}

// A CreateMultipartUpload that the server acted on but whose answer never
// came (every try lost, or the deadline ended the wait) leaves no upload.
func TestFailedCreateLeavesNoUpload(t *testing.T) {
	limits := s3dest.WithLimitsForTest(64<<10, 0, 0)
	t.Run("answers lost", func(t *testing.T) {
		srv := withBucket(t)
		ft := &faults.Transport{}
		d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
		ft.Add(faults.Fault{Match: faults.Op("CreateMultipartUpload"), LoseAnswer: true})
		if err := d.Put(t.Context(), "vol", noise(3, 3<<20)); err == nil {
			t.Fatal("Put whose every CreateMultipartUpload answer was lost = nil")
		}
		assertNoUploads(t, d)
	})
	t.Run("answer cut", func(t *testing.T) {
		// A 200 whose body is cut: the upload was made, the SDK cannot
		// read its id, and does not retry.
		srv := withBucket(t)
		ft := &faults.Transport{}
		d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
		ft.Add(faults.Fault{Match: faults.Op("CreateMultipartUpload"), Times: 1, CutBody: 1})
		if err := d.Put(t.Context(), "vol", noise(3, 3<<20)); err == nil {
			t.Fatal("Put whose CreateMultipartUpload answer was cut = nil")
		}
		assertNoUploads(t, d)
	})
	t.Run("answer cut, then the lookup's", func(t *testing.T) {
		// The listing that looks for the upload the lost answer left is
		// cut too, once: looking again finds it.
		srv := withBucket(t)
		ft := &faults.Transport{}
		d := faultDest(t, srv, ft, limits, s3dest.WithPartSize(1<<20))
		ft.Add(faults.Fault{Match: faults.Op("CreateMultipartUpload"), Times: 1, CutBody: 1})
		ft.Add(faults.Fault{Match: faults.Op("ListMultipartUploads"), Times: 1, CutBody: 30})
		if err := d.Put(t.Context(), "vol", noise(3, 3<<20)); err == nil {
			t.Fatal("Put whose CreateMultipartUpload answer was cut = nil")
		}
		s3dest.WaitCleanupsForTest(d)
		if n := ft.Injected(); n != 2 {
			t.Fatalf("%d faults injected, want the create's and the lookup's", n)
		}
		assertNoUploads(t, d)
	})
	t.Run("deadline", func(t *testing.T) {
		srv := withBucket(t)
		srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost || !r.URL.Query().Has("uploads") {
				return false
			}
			srv.ServeFake(httptest.NewRecorder(), r) // the upload starts...
			<-r.Context().Done()                     // ...and the answer never comes
			return true
		})
		d := newDest(t, srv, limits, s3dest.WithPartSize(1<<20))
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		if err := d.Put(ctx, "vol", noise(3, 3<<20)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Put = %v, want context.DeadlineExceeded", err)
		}
		assertNoUploads(t, d)
	})
}

// Lost answers against every target: the server's own multipart
// bookkeeping decides what the retry sees.
func TestLostAnswersOnServer(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		ft := &faults.Transport{}
		d := tg.dest(t, s3dest.WithHTTPClient(ft.Client()), s3dest.WithPartSize(5<<20), s3dest.WithConcurrency(2),
			s3dest.WithLimitsForTest(0, 6<<20, 5<<20))
		data := randomBytes(11<<20+3, 35)
		if tg.server == "rclone" {
			// rclone v1.76 deletes the folders an aborted upload created,
			// under the other uploads of the folder too: the upload a lost
			// Create answer left, which s3dest aborts, would take the
			// prefix with it. A folder that exists already stays.
			put(t, d, "keeps-the-folder", "x")
		}
		for _, op := range []string{"CreateMultipartUpload", "CompleteMultipartUpload"} {
			ft.Add(faults.Fault{Match: faults.Op(op), Times: 1, LoseAnswer: true})
		}
		if err := d.Put(t.Context(), "big", unknownLength{bytes.NewReader(data)}); err != nil {
			t.Fatalf("Put with lost Create and Complete answers: %v", err)
		}
		if n := ft.Injected(); n != 2 {
			t.Errorf("Put: %d answers lost, want 2 (Create, Complete): the test tests less than it says", n)
		}
		ft.Add(faults.Fault{Match: faults.Op("CompleteMultipartUpload"), Times: 1, LoseAnswer: true})
		ft.Add(faults.Fault{Match: faults.Op("DeleteObject"), Times: 1, LoseAnswer: true})
		if err := d.Rename(t.Context(), "big", "moved"); err != nil {
			t.Fatalf("Rename (multipart copy) with lost Complete and Delete answers: %v", err)
		}
		if n := ft.Injected(); n != 4 {
			t.Errorf("Rename: %d answers lost in all, want 4 (and Complete, Delete): the test tests less than it says", n)
		}
		if got := get(t, d, "moved"); got != string(data) {
			t.Error("the renamed object differs from the data")
		}
		if _, err := d.Stat(t.Context(), "big"); !errors.Is(err, s3dest.ErrObjectNotFound) {
			t.Errorf("Stat(big) after the rename: %v, want ErrObjectNotFound", err)
		}
		if left := uploadsLeft(t, d); len(left) != 0 {
			t.Errorf("uploads left behind: %v", left)
		}
	})
}

// A server that keeps no checksum and does not check x-amz-mp-object-size
// could assemble other bytes than uploaded (gofakes3 takes a damaged
// Complete body for one without parts): Put asks the object's size
// before it returns nil.
func TestCompleteAssembledOtherBytes(t *testing.T) {
	srv := withBucket(t)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if noChecksums(w, r) {
			return true
		}
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			// Complete only the first part, as a lenient server reading a
			// damaged list of parts would.
			body, _ := io.ReadAll(r.Body)
			first := regexp.MustCompile(`(?s)(<Part>.*?</Part>).*</CompleteMultipartUpload>`)
			body = first.ReplaceAll(body, []byte("$1</CompleteMultipartUpload>"))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			r.Header.Del("X-Amz-Mp-Object-Size")
		}
		return false
	})
	d := newDest(t, srv, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
	err := d.Put(t.Context(), "vol", noise(5, 3<<20+3))
	if !errors.Is(err, s3dest.ErrCorrupt) {
		t.Errorf("Put whose object was assembled from one part of four = %v, want ErrCorrupt", err)
	}
	if _, err := d.Stat(t.Context(), "vol"); !errors.Is(err, s3dest.ErrObjectNotFound) {
		t.Errorf("Stat after the refused Put = %v, want ErrObjectNotFound (the wrong object deleted)", err)
	}
}

// S3 warns that parts still being uploaded when an upload is aborted may
// land after the abort, so that the upload is there again. A failed Put
// checks that its upload is gone and aborts once more when it is not: here
// the first abort is answered 204 and not done.
func TestAbortIsCheckedAndRepeated(t *testing.T) {
	srv := withBucket(t)
	ft := &faults.Transport{}
	d := faultDest(t, srv, ft, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
	var ignored atomic.Int32
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodDelete && r.URL.Query().Has("uploadId") && ignored.Add(1) == 1 {
			w.WriteHeader(http.StatusNoContent) // answered, not done
			return true
		}
		return false
	})
	ft.Add(faults.Fault{Match: faults.Op("UploadPart"), Status: http.StatusBadRequest, Code: "InvalidArgument"})
	if err := d.Put(t.Context(), "vol", noise(4, 3<<20)); err == nil {
		t.Fatal("Put whose parts were all refused = nil")
	}
	if n := ignored.Load(); n < 2 {
		t.Errorf("%d aborts sent, want a second one after the first left the upload", n)
	}
	ft.Clear()
	assertNoUploads(t, d)
}

// An abort that fails on every attempt of the SDK's retryer (the server
// busy, a connection reset) is tried again before the upload is left to
// CleanupUploads.
func TestAbortRetriedAfterFailures(t *testing.T) {
	srv := withBucket(t)
	ft := &faults.Transport{}
	d := faultDest(t, srv, ft, s3dest.WithLimitsForTest(64<<10, 0, 0), s3dest.WithPartSize(1<<20))
	ft.Add(faults.Fault{Match: faults.Op("UploadPart"), Status: http.StatusBadRequest, Code: "InvalidArgument"})
	ft.Add(faults.Fault{Match: faults.Op("AbortMultipartUpload"), Times: 3, Status: http.StatusServiceUnavailable, Code: "SlowDown"})
	if err := d.Put(t.Context(), "vol", noise(5, 3<<20)); err == nil {
		t.Fatal("Put whose parts were all refused = nil")
	}
	s3dest.WaitCleanupsForTest(d)
	ft.Clear()
	assertNoUploads(t, d)
}

package s3test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"
)

// Archive simulation: what AWS does for objects in archive tiers and
// gofakes3 does not. Objects stored with an archive class (GLACIER,
// DEEP_ARCHIVE) or given an Intelligent-Tiering archive status answer GET
// with 403 InvalidObjectState; POST ?restore starts a restore that completes
// after RestorePolls polls (a HEAD, or a listing that reports the object);
// HEAD answers x-amz-restore and x-amz-archive-status; listings asked for
// RestoreStatus carry it.

// restoreState is the archive state of one object.
type restoreState struct {
	tierStatus string    // Intelligent-Tiering x-amz-archive-status, "" if none
	pollsLeft  int       // HEADs until an ongoing restore completes; -1: none requested
	expiry     time.Time // end of the restored copy once complete
	days       int       // Days of the last restore request, 0 when omitted
	tier       string    // Tier of the last restore request
	requests   int       // restore requests received
}

// RestoreRequest is what the server saw of the last restore of an object.
type RestoreRequest struct {
	Days     int
	Tier     string
	Requests int
}

// Archive moves a stored object to an archive tier, as a lifecycle rule
// would: class GLACIER or DEEP_ARCHIVE (its storage class), or
// ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS (an INTELLIGENT_TIERING object's
// archive status). It cannot be read until a restore completes: after
// RestorePolls looks at it (a HEAD, or a listing), or at FinishRestore.
func (s *Server) Archive(bucket, key, class string) error {
	if !s.exists(bucket, key) {
		return fmt.Errorf("archive %s/%s: no such object", bucket, key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &restoreState{pollsLeft: -1}
	switch class {
	case "GLACIER", "DEEP_ARCHIVE":
		s.classes[bucket+"/"+key] = class
	case "ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS":
		s.classes[bucket+"/"+key] = "INTELLIGENT_TIERING"
		st.tierStatus = class
	default:
		return fmt.Errorf("archive %s/%s: class %q: use GLACIER, DEEP_ARCHIVE, ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS", bucket, key, class)
	}
	s.restores[bucket+"/"+key] = st
	return nil
}

// FinishRestore completes the restore under way of an archived object now:
// it becomes readable, for the days the restore asked for.
func (s *Server) FinishRestore(bucket, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.restores[bucket+"/"+key]
	if st == nil || st.pollsLeft <= 0 {
		return fmt.Errorf("finish restore %s/%s: no restore is under way", bucket, key)
	}
	st.pollsLeft = 1
	s.pollLocked(st)
	return nil
}

// SetArchiveStatus gives an object an Intelligent-Tiering archive status
// (ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS): it then cannot be read until
// restored.
func (s *Server) SetArchiveStatus(bucket, key, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.restoreLocked(bucket, key)
	st.tierStatus = status
}

// SetRestored marks an archived object as restored until expiry, as if a
// restore had completed earlier.
func (s *Server) SetRestored(bucket, key string, expiry time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.restoreLocked(bucket, key)
	st.pollsLeft, st.expiry = 0, expiry
}

// SetRestoring marks an archived object as being restored, finishing after
// polls HEAD requests.
func (s *Server) SetRestoring(bucket, key string, polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restoreLocked(bucket, key).pollsLeft = polls
}

// Restore returns the last restore request made for an object.
func (s *Server) Restore(bucket, key string) RestoreRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.restores[bucket+"/"+key]
	if st == nil {
		return RestoreRequest{}
	}
	return RestoreRequest{Days: st.days, Tier: st.tier, Requests: st.requests}
}

func (s *Server) restoreLocked(bucket, key string) *restoreState {
	st := s.restores[bucket+"/"+key]
	if st == nil {
		st = &restoreState{pollsLeft: -1}
		s.restores[bucket+"/"+key] = st
	}
	return st
}

// archivedLocked reports whether the object is in an archive tier and not
// (or not yet) readable.
func (s *Server) archivedLocked(bucket, key string) (archived bool, st *restoreState) {
	class := s.classes[bucket+"/"+key]
	st = s.restores[bucket+"/"+key]
	inArchive := class == "GLACIER" || class == "DEEP_ARCHIVE" || st != nil && st.tierStatus != ""
	if !inArchive {
		return false, st
	}
	readable := st != nil && st.pollsLeft == 0 && (st.expiry.IsZero() || st.expiry.After(s.now()))
	return !readable, st
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// serveArchive answers what the archive simulation owns; it returns false
// for requests the fake should serve.
func (s *Server) serveArchive(w http.ResponseWriter, r *http.Request, bucket, key string) bool {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && key != "" && q.Has("restore"):
		s.restoreObject(w, r, bucket, key)
		return true
	case r.Method == http.MethodGet && key != "" && !q.Has("uploadId"):
		s.mu.Lock()
		archived, _ := s.archivedLocked(bucket, key)
		s.mu.Unlock()
		if archived {
			WriteError(w, r, http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's storage class")
			return true
		}
	case r.Method == http.MethodHead && key != "":
		rec := httptest.NewRecorder()
		s.serveClasses(rec, r, bucket, key)
		if rec.Code == http.StatusOK {
			s.mu.Lock()
			s.restoreHeaders(rec.Header(), bucket, key, true)
			s.mu.Unlock()
		}
		copyResponse(w, rec)
		return true
	}
	return false
}

// restoreHeaders writes x-amz-restore and x-amz-archive-status; a HEAD is a
// poll that moves an ongoing restore one step closer to done.
func (s *Server) restoreHeaders(h http.Header, bucket, key string, poll bool) {
	st := s.restores[bucket+"/"+key]
	if st == nil {
		return
	}
	if st.tierStatus != "" && st.pollsLeft != 0 {
		h.Set("X-Amz-Archive-Status", st.tierStatus)
	}
	switch {
	case st.pollsLeft > 0:
		h.Set("X-Amz-Restore", `ongoing-request="true"`)
		if poll {
			s.pollLocked(st)
		}
	case st.pollsLeft == 0 && !st.expiry.IsZero():
		h.Set("X-Amz-Restore", fmt.Sprintf(`ongoing-request="false", expiry-date="%s"`, st.expiry.UTC().Format(http.TimeFormat)))
	}
}

// pollLocked counts one look at an ongoing restore.
func (s *Server) pollLocked(st *restoreState) {
	st.pollsLeft--
	if st.pollsLeft == 0 && st.days > 0 {
		st.expiry = s.now().Add(time.Duration(st.days) * 24 * time.Hour)
	}
}

var restoreDays = regexp.MustCompile(`<Days>([0-9]+)</Days>`)
var restoreTier = regexp.MustCompile(`<Tier>([A-Za-z]+)</Tier>`)

func (s *Server) restoreObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	class := s.classes[bucket+"/"+key]
	st := s.restores[bucket+"/"+key]
	if class != "GLACIER" && class != "DEEP_ARCHIVE" && (st == nil || st.tierStatus == "") {
		WriteError(w, r, http.StatusForbidden, "InvalidObjectState", "Restore is not allowed for the object's current storage class")
		return
	}
	st = s.restoreLocked(bucket, key)
	st.requests++
	st.days = 0
	if m := restoreDays.FindSubmatch(body); m != nil {
		fmt.Sscan(string(m[1]), &st.days)
	}
	st.tier = "Standard"
	if m := restoreTier.FindSubmatch(body); m != nil {
		st.tier = string(m[1])
	}
	if class == "DEEP_ARCHIVE" && st.tier == "Expedited" {
		WriteError(w, r, http.StatusBadRequest, "InvalidArgument", "Expedited retrieval is not available for DEEP_ARCHIVE")
		return
	}
	switch {
	case st.pollsLeft > 0:
		WriteError(w, r, http.StatusConflict, "RestoreAlreadyInProgress", "Object restore is already in progress")
	case st.pollsLeft == 0 && !st.expiry.IsZero():
		st.expiry = s.now().Add(time.Duration(st.days) * 24 * time.Hour) // extends the copy
		w.WriteHeader(http.StatusOK)
	default:
		st.pollsLeft = s.RestorePolls
		if st.pollsLeft <= 0 {
			st.pollsLeft = 1
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

// restoreStatus adds RestoreStatus to a listing's entries, as S3 does when
// asked with x-amz-optional-object-attributes: RestoreStatus.
func (s *Server) restoreStatus(bucket string, body []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return eachEntry(body, func(entry []byte, key string) []byte {
		rs := s.restoreStatusLocked(s.restores[bucket+"/"+key])
		if rs == "" {
			return entry
		}
		return []byte(strings.Replace(string(entry), "</Contents>", rs+"</Contents>", 1))
	})
}

// restoreStatusLocked is the RestoreStatus element of a listing entry, ""
// when no restore was requested; a restore under way counts the look as a
// poll.
func (s *Server) restoreStatusLocked(st *restoreState) string {
	if st == nil || st.pollsLeft < 0 {
		return ""
	}
	inProgress := st.pollsLeft > 0
	if inProgress {
		s.pollLocked(st)
	}
	var rs strings.Builder
	rs.WriteString("<RestoreStatus>")
	fmt.Fprintf(&rs, "<IsRestoreInProgress>%v</IsRestoreInProgress>", inProgress)
	if !inProgress && !st.expiry.IsZero() {
		fmt.Fprintf(&rs, "<RestoreExpiryDate>%s</RestoreExpiryDate>", st.expiry.UTC().Format(time.RFC3339))
	}
	rs.WriteString("</RestoreStatus>")
	return rs.String()
}

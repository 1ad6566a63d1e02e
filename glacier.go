package s3dest

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// defaultArchiveClasses are the storage classes whose objects cannot be read
// without a restore. GLACIER_IR (Instant Retrieval) is readable at once and is
// not among them, unlike Duplicati's default.
var defaultArchiveClasses = []string{"GLACIER", "DEEP_ARCHIVE"}

// IsArchiveClass reports whether objects of the storage class must be
// restored before they can be read: GLACIER and DEEP_ARCHIVE (case is
// ignored). A Destination uses its own list (WithArchiveClasses).
func IsArchiveClass(class string) bool {
	return slices.Contains(defaultArchiveClasses, strings.ToUpper(class))
}

// isArchiveClass applies the destination's archive classes.
func (d *Destination) isArchiveClass(class string) bool {
	return slices.Contains(d.archive, strings.ToUpper(class))
}

// classFor is the storage class of an upload; what WithStorageClassFunc
// returns is checked as WithStorageClass is by New.
func (d *Destination) classFor(name string, size int64) (types.StorageClass, error) {
	if d.cfg.classFunc == nil {
		return types.StorageClass(d.cfg.storageClass), nil
	}
	class := d.cfg.classFunc(name, size)
	if err := checkHeaderValue("storage class from WithStorageClassFunc", class); err != nil {
		return "", err
	}
	return types.StorageClass(class), nil
}

// archiveState is what decides whether an object can be read now.
type archiveState struct {
	class         string    // storage class, "STANDARD" when none was reported
	tierStatus    string    // Intelligent-Tiering x-amz-archive-status, from HEAD only
	restoring     bool      // a restore was requested and is not finished
	restoredUntil time.Time // end of a readable restored copy, zero if none
}

// apply fills the archive fields of fi: an object in an archive class (or an
// Intelligent-Tiering archive tier) is archived unless a restored copy is
// readable now.
func (d *Destination) apply(fi *FileInfo, s archiveState) {
	fi.StorageClass = s.class
	fi.Restoring = s.restoring
	inArchive := d.isArchiveClass(s.class) ||
		s.tierStatus == string(types.ArchiveStatusArchiveAccess) ||
		s.tierStatus == string(types.ArchiveStatusDeepArchiveAccess)
	if !inArchive {
		fi.Restoring = false
		fi.RestoredUntil = s.restoredUntil
		return
	}
	readable := !s.restoring && !s.restoredUntil.IsZero() && s.restoredUntil.After(d.clock.Now())
	fi.Archived = !readable
	if readable {
		fi.RestoredUntil = s.restoredUntil
	}
}

// listState reads the archive state from a listing entry.
func listState(o types.Object) archiveState {
	s := archiveState{class: storageClass(string(o.StorageClass))}
	if rs := o.RestoreStatus; rs != nil {
		s.restoring = aws.ToBool(rs.IsRestoreInProgress)
		s.restoredUntil = aws.ToTime(rs.RestoreExpiryDate)
	}
	return s
}

var restoreExpiry = regexp.MustCompile(`expiry-date="([^"]+)"`)

// parseRestoreHeader reads x-amz-restore: ongoing-request="true", or
// ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT".
func parseRestoreHeader(h string) (ongoing bool, expiry time.Time) {
	if strings.Contains(h, `ongoing-request="true"`) {
		return true, time.Time{}
	}
	if m := restoreExpiry.FindStringSubmatch(h); m != nil {
		// RFC 1123 with the day in one digit or two (RFC 1123 allows one).
		for _, layout := range []string{"Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700", time.RFC3339} {
			if t, err := time.Parse(layout, m[1]); err == nil {
				return false, t
			}
		}
	}
	return false, time.Time{}
}

// rejectsRestoreStatus reports whether a listing failed because the server
// does not know the RestoreStatus attribute.
func rejectsRestoreStatus(err error) bool {
	code, status := errorCode(err)
	switch code {
	case "InvalidArgument", "InvalidRequest", "NotImplemented":
		return true
	}
	return code == "" && (status == 400 || status == 501)
}

// noteNoRestoreStatus remembers, once, that listings must go without
// RestoreStatus.
func (d *Destination) noteNoRestoreStatus(err error) {
	if !d.noRestoreStatus.Swap(true) {
		code, status := errorCode(err)
		d.log.Info("s3dest: the server refuses RestoreStatus in listings; objects in archive classes are listed as archived",
			"bucket", d.bucket, "code", code, "status", status)
	}
}

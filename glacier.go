package s3dest

import (
	"slices"
	"strings"
)

// defaultArchiveClasses are the storage classes whose objects cannot be read
// without a restore. GLACIER_IR (Instant Retrieval) is readable at once and is
// not among them, unlike Duplicati's default.
var defaultArchiveClasses = []string{"GLACIER", "DEEP_ARCHIVE"}

// IsArchiveClass reports whether objects of the storage class must be
// restored before they can be read, by defaultArchiveClasses (case is
// ignored). A Destination uses its own list (WithArchiveClasses).
func IsArchiveClass(class string) bool {
	return slices.Contains(defaultArchiveClasses, strings.ToUpper(class))
}

// isArchiveClass applies the destination's archive classes.
func (d *Destination) isArchiveClass(class string) bool {
	return slices.Contains(d.archive, strings.ToUpper(class))
}

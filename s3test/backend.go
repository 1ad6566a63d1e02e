package s3test

import (
	"io"
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// replacingBackend is gofakes3's in-memory backend with S3's rule for the
// metadata of a new object: a PUT (or a Complete) replaces it whole, where
// gofakes3 carries the old object's user metadata over. Each old key the
// new object does not have is given an empty value, and answers leave out
// empty user metadata (blankMetadata). Every other method, the versioned
// ones included, is the backend's.
type replacingBackend struct{ *s3mem.Backend }

func (b replacingBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64,
	conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if old, err := b.HeadObject(bucket, key); err == nil && old != nil {
		for k := range old.Metadata {
			if _, ok := meta[k]; !ok && isUserMeta(k) {
				meta[k] = ""
			}
		}
	}
	return b.Backend.PutObject(bucket, key, meta, input, size, conditions)
}

func isUserMeta(k string) bool { return strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Amz-Meta-") }

// blankMetadata leaves the emptied user metadata out of an answer.
func blankMetadata(w http.ResponseWriter) http.ResponseWriter {
	return &headerFix{ResponseWriter: w, fix: func(h http.Header, _ int) {
		for k, v := range h {
			if isUserMeta(k) && (len(v) == 0 || len(v) == 1 && v[0] == "") {
				delete(h, k)
			}
		}
	}}
}

package s3dest

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3's multipart limits (parts of 5 MiB to 5 GiB, 10,000 of them, objects
// up to 5 TiB) and s3dest's defaults, measured in
// docs/BENCHMARKS.md.
const (
	maxPartSize        = 5 << 30
	maxParts           = 10000
	maxObjectSize      = 5 << 40
	defaultPartSize    = 16 << 20
	defaultConcurrency = 4
	maxConcurrency     = 64
	// partsPerSize is how many parts of one size an upload of unknown
	// length sends before doubling it: from the 5 MiB minimum, 11 sizes of
	// 900 parts reach 5 TiB by part 9,900.
	partsPerSize = 900
)

// sizeLimits are S3's sizes that tests lower (WithLimitsForTest in
// export_test.go) to reach the large-object paths with little data.
type sizeLimits struct {
	minPart  int64 // the smallest part S3 takes, but for the last
	maxCopy  int64 // the largest object CopyObject takes
	copyPart int64 // the smallest part of a multipart copy
}

// validateTransfer applies S3's size limits where no test lowered them and
// checks the transfer options; New calls it.
func validateTransfer(c *config) error {
	limits := &c.limits
	limits.minPart = cmp.Or(limits.minPart, 5<<20)
	limits.maxCopy = cmp.Or(limits.maxCopy, maxSinglePut)
	limits.copyPart = cmp.Or(limits.copyPart, 512<<20)
	if c.partSize != 0 && (c.partSize < limits.minPart || c.partSize > maxPartSize) {
		return fmt.Errorf("part size %d is outside S3's limits: give %d (5 MiB) to %d (5 GiB)", c.partSize, limits.minPart, int64(maxPartSize))
	}
	if c.maxPartSize != 0 && (c.maxPartSize < max(limits.minPart, c.partSize) || c.maxPartSize > maxPartSize) {
		return fmt.Errorf("max part size %d: give the part size (%d) or more, up to %d (5 GiB)",
			c.maxPartSize, max(limits.minPart, c.partSize), int64(maxPartSize))
	}
	if c.memoryLimit != 0 && c.memoryLimit < limits.minPart {
		return fmt.Errorf("memory limit %d bytes: give at least %d (5 MiB, one part), or 0 for the default", c.memoryLimit, limits.minPart)
	}
	if c.concurrency < 0 || c.concurrency > maxConcurrency {
		return fmt.Errorf("concurrency %d: give 1 to %d", c.concurrency, maxConcurrency)
	}
	return nil
}

func (d *Destination) partSize() int64 {
	if d.cfg.partSize > 0 {
		return d.cfg.partSize
	}
	return defaultPartSize
}

func (d *Destination) concurrency() int {
	if d.cfg.concurrency > 0 {
		return d.cfg.concurrency
	}
	return defaultConcurrency
}

// maxPart is the largest part a Put cuts (WithMaxPartSize).
func (d *Destination) maxPart() int64 {
	if d.cfg.maxPartSize > 0 {
		return d.cfg.maxPartSize
	}
	return maxPartSize
}

// partSizeAt returns the size of part n (from 1) of an upload that starts
// with parts of base bytes: base, doubled after every partsPerSize parts,
// at most limit.
func partSizeAt(base, limit int64, n int) int64 {
	size := base
	for i := (n - 1) / partsPerSize; i > 0 && size < limit; i-- {
		size *= 2
	}
	return min(size, limit)
}

// mpu is one multipart upload on the server, from its creation to its
// completion or abort: the one lifecycle that streaming uploads (Put) and
// multipart copies (Rename) share. It chooses the checksum mode the server
// takes, keeps the parts stored, completes the object and checks what the
// server assembled, and never leaves an upload behind that a lost answer
// made (createOnce, verifyLost).
type mpu struct {
	d    *Destination
	op   string // the Op of its errors: "put" or "rename"
	key  string
	id   string
	sums sumMode     // what the server took at create
	md5  atomic.Bool // parts carry Content-MD5 (uploads only)
	// full is the full-object CRC32C a copy completes with (its source's);
	// an upload's is combined from its parts.
	full     string
	ifAbsent bool   // complete with If-None-Match: * (IfAbsent)
	putID    string // its object's putIDMeta

	mu    sync.Mutex
	parts []types.CompletedPart
	crcs  []uint32 // CRC32C of each part, when known
	known []bool   // crcs[i] is known
	sizes []int64
}

// putIDMeta is the user metadata key of a random id each multipart upload,
// and each IfAbsent PutObject, gives its object: after a lost answer, the
// object under the key is shown to be this upload's, or another writer's,
// by it, not by its bytes (two writers may store the same bytes, with other
// metadata, class or lock).
const putIDMeta = "s3dest-put-id"

func newPutID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ownership says whether an object's HEAD shows it is the upload id's:
// yes, no (another writer's id), or unknown (no id: a server that drops
// metadata, or an object written before ids).
func ownership(head *s3.HeadObjectOutput, id string) (mine, known bool) {
	got := head.Metadata[putIDMeta]
	return got == id, got != "" && id != ""
}

// sumMode is how a multipart upload is checked.
type sumMode int

const (
	sumFull      sumMode = iota // CRC32C parts and a FULL_OBJECT CRC32C (AWS, versitygw)
	sumComposite                // CRC32C parts, a checksum of checksums (R2's only CRC32C type)
	sumNone                     // Content-MD5 parts: no flexible checksums (B2)
)

// create starts the upload in the strongest checksum mode the server takes,
// from strongest on: a full-object CRC32C, else a composite CRC32C, else no
// flexible checksum (with Content-MD5 on every part). What the server
// refused is remembered for the Destination's later uploads.
func (m *mpu) create(ctx context.Context, in *s3.CreateMultipartUploadInput, strongest sumMode) error {
	d := m.d
	// Start from the strongest mode this server took before: a refusal
	// costs one request per Destination, not one per upload.
	start := max(strongest, sumMode(d.multipartSums.Load()))
	for m.sums = start; ; m.sums++ {
		in.ChecksumAlgorithm, in.ChecksumType = types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject
		switch m.sums {
		case sumComposite:
			in.ChecksumType = ""
		case sumNone:
			in.ChecksumAlgorithm, in.ChecksumType = "", ""
		}
		echoed, err := m.createOnce(ctx, in)
		if err == nil && in.ChecksumAlgorithm != "" && echoed == "" {
			// The server took the checksum headers without a word (S3
			// answers the algorithm back): it may ignore them, as rclone
			// serve s3 does. The parts get Content-MD5 too, which such
			// servers check; they keep their CRC32C for a server that
			// honours it without saying so.
			m.md5.Store(true)
			if d.putSums.CompareAndSwap(putCRC, putCRCAndMD5) {
				d.log.Info("s3dest: the server does not answer multipart checksums back; parts are sent with Content-MD5 too", "key", m.key)
			}
			return nil
		}
		if err == nil {
			if m.sums > start {
				d.multipartSums.Store(int32(m.sums))
			}
			return nil
		}
		if _, refused := checksumFallback(err); !refused || m.sums == sumNone || d.lockRefused(err) {
			return err
		}
		d.log.Info("s3dest: the server refused a multipart checksum mode; trying a weaker one", "key", m.key,
			"mode", []string{"full-object CRC32C", "composite CRC32C"}[m.sums], "error", err)
	}
}

// createOnce sends one CreateMultipartUpload. When its answer is lost, the
// SDK's retry creates a second upload, and the first stays, billed, with
// nobody to complete or abort it; a create that ends without an answer may
// have started one too. So when the request went out more than once, or
// failed in a way the server may have acted on, the uploads of this key
// the server started since are aborted, but for the one returned.
// It returns the checksum algorithm the server answered back.
func (m *mpu) createOnce(ctx context.Context, in *s3.CreateMultipartUploadInput) (echoed types.ChecksumAlgorithm, err error) {
	d := m.d
	var attempts atomic.Int32
	began := time.Now()
	var out *s3.CreateMultipartUploadOutput
	err = d.do(ctx, m.op, m.key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		var err error
		out, err = c.CreateMultipartUpload(ctx, in, countAttempts(&attempts))
		return err
	})
	if err == nil {
		m.id, echoed = aws.ToString(out.UploadId), out.ChecksumAlgorithm
	}
	if attempts.Load() > 1 || err != nil && mayHaveActed(err) {
		m.abortOthers(ctx, time.Since(began))
	}
	return echoed, err
}

// errReplaced: the object an upload stored was replaced by another writer
// before s3dest could check it.
var errReplaced = errors.New("another writer replaced the object before it could be checked; it was left as it is")

// mayHaveActed reports a failure after which the server may still have done
// what was asked: no answer came (a broken connection, a timeout), a
// server error, or a success whose body was cut or garbled on the way.
func mayHaveActed(err error) bool {
	_, status := errorCode(err)
	return status == 0 || status >= 500 || status >= 200 && status < 300
}

// countAttempts counts the tries the SDK makes of one request.
func countAttempts(n *atomic.Int32) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("s3dest:CountAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
					middleware.FinalizeOutput, middleware.Metadata, error) {
					n.Add(1)
					return next.HandleFinalize(ctx, in)
				}), "Retry", middleware.After)
		})
	}
}

// abortOthers aborts the uploads of the key that the server started within
// the last `within` (by the server's clock: the listing's Date), but for
// m.id: those a create whose answer was lost left. A concurrent Put of the
// same key started in that window is aborted too, and fails: two writers of
// one key race anyway, and a failure is no loss. It runs as a cleanup.
func (m *mpu) abortOthers(ctx context.Context, within time.Duration) {
	m.d.cleanup(ctx, func(ctx context.Context) { m.abortOthersNow(ctx, within) })
}

func (m *mpu) abortOthersNow(ctx context.Context, within time.Duration) {
	d := m.d
	var keyMarker, idMarker *string
	for {
		in := &s3.ListMultipartUploadsInput{Bucket: &d.bucket, Prefix: &m.key, KeyMarker: keyMarker, UploadIdMarker: idMarker}
		out, err := d.Client().ListMultipartUploads(ctx, in)
		// The SDK retries no answer whose body was cut or garbled (a 200
		// it cannot read): the cleanup is worth a few more looks.
		for try := 1; err != nil && try < 4 && mayHaveActed(err) && ctx.Err() == nil; try++ {
			_ = sleepCtx(ctx, time.Duration(try)*100*time.Millisecond)
			out, err = d.Client().ListMultipartUploads(ctx, in)
		}
		if err != nil {
			d.log.Warn("s3dest: could not look for uploads a lost CreateMultipartUpload answer left: CleanupUploads will remove them",
				"key", m.key, "error", err)
			return
		}
		now := time.Now()
		if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok {
			if t, err := http.ParseTime(raw.Header.Get("Date")); err == nil {
				now = t
			}
		}
		// Date has a resolution of a second.
		since := now.Add(-within - 2*time.Second)
		for _, up := range out.Uploads {
			id := aws.ToString(up.UploadId)
			if aws.ToString(up.Key) != m.key || id == m.id || up.Initiated == nil || up.Initiated.Before(since) {
				continue
			}
			_, err := d.Client().AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &d.bucket, Key: &m.key, UploadId: &id})
			if code, _ := errorCode(err); err != nil && code != "NoSuchUpload" {
				d.log.Warn("s3dest: could not abort an upload a lost answer left: CleanupUploads will remove it",
					"key", m.key, "upload", id, "error", err)
				continue
			}
			d.log.Info("s3dest: aborted an upload that a lost CreateMultipartUpload answer left", "key", m.key, "upload", id)
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextKeyMarker) == "" && aws.ToString(out.NextUploadIdMarker) == "" {
			return
		}
		keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// addPart records a stored part; crc is its CRC32C when known.
func (m *mpu) addPart(n int32, etag *string, crc *uint32, size int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for int(n) > len(m.parts) {
		m.parts = append(m.parts, types.CompletedPart{})
		m.crcs, m.known, m.sizes = append(m.crcs, 0), append(m.known, false), append(m.sizes, 0)
	}
	p := types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag}
	if crc != nil {
		m.crcs[n-1], m.known[n-1] = *crc, true
		if m.sums != sumNone {
			p.ChecksumCRC32C = aws.String(crcBase64(*crc))
		}
	}
	m.parts[n-1], m.sizes[n-1] = p, size
}

// fullSum is the full-object CRC32C: a copy's source's, else combined from
// the parts' (crc32cCombine), "" when a part's is unknown.
func (m *mpu) fullSum() string {
	if m.full != "" {
		return m.full
	}
	if len(m.crcs) == 0 || slices.Contains(m.known, false) {
		return ""
	}
	full := m.crcs[0]
	for i := 1; i < len(m.crcs); i++ {
		full = crc32cCombine(full, m.crcs[i], m.sizes[i])
	}
	return crcBase64(full)
}

// compositeSum is S3's composite CRC32C of the parts: the CRC32C of their
// CRC32Cs, "-N"; "" when a part's is unknown.
func (m *mpu) compositeSum() string {
	if len(m.crcs) == 0 || slices.Contains(m.known, false) {
		return ""
	}
	b := make([]byte, 0, 4*len(m.crcs))
	for _, c := range m.crcs {
		b = binary.BigEndian.AppendUint32(b, c)
	}
	return crcBase64(crc32.Checksum(b, crc32cTable)) + "-" + strconv.Itoa(len(m.crcs))
}

// etag is S3's ETag of a multipart object: the MD5 of the part MD5s (the
// parts' ETags), "-N"; "" when a part's ETag is no MD5 (SSE-KMS, some
// servers).
func (m *mpu) etag() string {
	h := md5.New()
	for _, p := range m.parts {
		raw, err := hex.DecodeString(strings.Trim(aws.ToString(p.ETag), `"`))
		if err != nil || len(raw) != md5.Size {
			return ""
		}
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(m.parts))
}

// complete assembles the parts, giving the server the full-object CRC32C to
// check them against. A server that accepted a full-object upload but
// refuses to complete it so (some MinIO versions answer InvalidPart) gets
// one more try without the full-object checksum: each part was verified. A
// checksum the server answers that is not the upload's deletes the object
// (ErrCorrupt). When the answer is lost and the retry finds the upload gone
// (NoSuchUpload), the object is checked against the upload instead.
func (m *mpu) complete(ctx context.Context, total int64) error {
	d := m.d
	in := &s3.CompleteMultipartUploadInput{
		Bucket: &d.bucket, Key: &m.key, UploadId: &m.id, MpuObjectSize: aws.Int64(total),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: m.parts},
	}
	if full := m.fullSum(); m.sums == sumFull && full != "" {
		in.ChecksumCRC32C, in.ChecksumType = aws.String(full), types.ChecksumTypeFullObject
	}
	if m.ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	d.withCustomerKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	var out *s3.CompleteMultipartUploadOutput
	var attempts atomic.Int32
	send := func() error {
		return d.do(ctx, m.op, m.key, NoTimeout, func(ctx context.Context, c *s3.Client) error {
			var err error
			out, err = c.CompleteMultipartUpload(ctx, in, countAttempts(&attempts))
			return err
		})
	}
	err := send()
	if code, _ := errorCode(err); in.ChecksumType != "" && (code == "InvalidPart" || code == "InvalidArgument" ||
		code == "InvalidRequest" || code == "NotImplemented") {
		d.log.Info("s3dest: the server refused to complete with a full-object checksum; completing without", "key", m.key, "error", err)
		in.ChecksumCRC32C, in.ChecksumType = nil, ""
		if err = send(); err == nil {
			// Later uploads ask for composite checksums from the start.
			d.multipartSums.CompareAndSwap(int32(sumFull), int32(sumComposite))
		}
	}
	if m.ifAbsent && preconditionFailed(err) {
		// The upload is not completed by this answer: abort it (after a
		// completed first try, the abort finds nothing: NoSuchUpload).
		m.abort(ctx)
		if attempts.Load() > 1 && m.verifyLost(ctx, total) == nil {
			d.log.Info("s3dest: the answer to an If-None-Match CompleteMultipartUpload was lost; the object stored is the one uploaded", "key", m.key)
			return nil
		}
		return d.objectExists(m.op, m.key, err)
	}
	if code, _ := errorCode(err); code == "NoSuchUpload" {
		if verr := m.verifyLost(ctx, total); verr != nil {
			return d.wrap(m.op, m.key, fmt.Errorf("%w; %w", verr, err))
		}
		d.log.Info("s3dest: the answer to CompleteMultipartUpload was lost; the object stored is the one uploaded", "key", m.key)
		return nil
	}
	if err != nil {
		m.abort(ctx)
		return err
	}
	got := aws.ToString(out.ChecksumCRC32C)
	if got != "" && !m.matches(got) {
		return d.discardCorrupt(ctx, m.op, m.key, fmt.Errorf("the server assembled CRC32C %s, not the upload's", got))
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	if etag != "" && !d.encrypted() {
		// Whether Get may check this server's multipart ETags (no MD5
		// under SSE-KMS or SSE-C).
		d.learnETagRule(etag == m.etag())
	}
	if got == "" {
		return m.checkAssembled(ctx, total, etag)
	}
	return nil
}

// checkAssembled asks, where Complete answered no checksum, whether the
// server assembled what was uploaded: the object's size (which a server
// that ignores x-amz-mp-object-size does not check), and its ETag where
// this server is known to follow S3's rule. Another object is deleted and
// ErrCorrupt, unless it is not this upload's at all: another writer's id,
// or another ETag than Complete answered (completed, "" when none), means
// it was replaced since, and it is left alone.
func (m *mpu) checkAssembled(ctx context.Context, total int64, completed string) error {
	d := m.d
	head, err := m.stored(ctx)
	if err != nil {
		return err
	}
	headETag := strings.Trim(aws.ToString(head.ETag), `"`)
	if mine, known := ownership(head, m.putID); known && !mine || completed != "" && headETag != completed {
		// Another writer replaced it since Complete: not ours to judge,
		// or to delete.
		return d.wrap(m.op, m.key, errReplaced)
	}
	if size := aws.ToInt64(head.ContentLength); size != total {
		return d.discardCorrupt(ctx, m.op, m.key, fmt.Errorf("the server assembled %d bytes of the %d uploaded", size, total))
	}
	etag, want := strings.Trim(aws.ToString(head.ETag), `"`), m.etag()
	if d.etagRule.Load() == etagRuleHolds && !d.encrypted() && !encryptedObject(head) && strings.Contains(etag, "-") && want != "" && etag != want {
		return d.discardCorrupt(ctx, m.op, m.key, fmt.Errorf("the server assembled ETag %s, not the upload's %s", etag, want))
	}
	return nil
}

// matches reports whether a CRC32C the server answered is the upload's:
// its full-object or, "-N", its composite checksum. One s3dest cannot
// compute (a part's CRC32C unknown) is taken as it is.
func (m *mpu) matches(sum string) bool {
	want := m.fullSum()
	if strings.Contains(sum, "-") {
		want = m.compositeSum()
	}
	return want == "" || !sumsDiffer(sum, want)
}

// verifyLost checks, after Complete's answer was lost and its retry found
// the upload gone, that the object stored is the one uploaded: its size,
// and its full-object or composite CRC32C, or else its multipart ETag. Any
// of them matching is proof enough; none to compare is an error, as is a
// mismatch: another writer's object, or an upload aborted meanwhile.
func (m *mpu) verifyLost(ctx context.Context, total int64) error {
	head, err := m.stored(ctx)
	if err != nil {
		return fmt.Errorf("the upload is gone and the object could not be read to check it: %v", err)
	}
	if mine, known := ownership(head, m.putID); known {
		if mine {
			return nil
		}
		return errors.New("the upload is gone and the object stored is another writer's")
	}
	if size := aws.ToInt64(head.ContentLength); size != total {
		return fmt.Errorf("the upload is gone and the object stored has %d bytes, not the %d uploaded", size, total)
	}
	if sum := aws.ToString(head.ChecksumCRC32C); sum != "" && m.matches(sum) &&
		(strings.Contains(sum, "-") && m.compositeSum() != "" || !strings.Contains(sum, "-") && m.fullSum() != "") {
		return nil
	}
	if etag := m.etag(); etag != "" && !m.d.encrypted() && !encryptedObject(head) && strings.Trim(aws.ToString(head.ETag), `"`) == etag {
		return nil
	}
	return errors.New("the upload is gone and the object stored cannot be shown to be the one uploaded")
}

// stored is the HEAD of the object the upload made, with its checksum.
func (m *mpu) stored(ctx context.Context) (*s3.HeadObjectOutput, error) {
	d := m.d
	return d.head(ctx, m.op, m.key)
}

// abort removes the upload and its parts, as a cleanup. S3 warns that a
// part still being uploaded when the upload is aborted may land after the
// abort: the upload is there again (versitygw shows it under load). So
// the abort is checked with ListParts, and repeated while the upload
// stays; an abort that failed for a passing reason (no answer, 5xx, after
// the retryer's attempts) is repeated too. Three rounds at most; what is
// still there then is left to CleanupUploads, and logged.
func (m *mpu) abort(ctx context.Context) {
	d := m.d
	d.cleanup(ctx, func(ctx context.Context) {
		for round := 1; ; round++ {
			_, err := d.Client().AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &d.bucket, Key: &m.key, UploadId: &m.id})
			code, _ := errorCode(err)
			switch {
			case err == nil || code == "NoSuchUpload":
				_, err = d.Client().ListParts(ctx, &s3.ListPartsInput{Bucket: &d.bucket, Key: &m.key, UploadId: &m.id, MaxParts: aws.Int32(1)})
				if code, _ := errorCode(err); err != nil {
					if code != "NoSuchUpload" && ctx.Err() == nil {
						d.log.Info("s3dest: could not check that an aborted upload is gone", "key", m.key, "upload", m.id, "error", err)
					}
					return // gone, or the server cannot say
				}
				if round == 3 {
					d.log.Warn("s3dest: an aborted upload is still there after three aborts: CleanupUploads will remove it", "key", m.key, "upload", m.id)
					return
				}
			case round == 3 || !mayHaveActed(err) || ctx.Err() != nil:
				d.log.Warn("s3dest: could not abort a failed upload: CleanupUploads will remove it", "key", m.key, "upload", m.id, "error", err)
				return
			}
			_ = sleepCtx(ctx, time.Duration(round)*100*time.Millisecond) // for a part in flight to land, or the server to recover
		}
	})
}

// cleanup runs fn, requests that clean up after a failure (aborts,
// deletes), on a fresh context bounded by the short timeout: the caller's
// may be what failed. When the caller's ctx has ended, fn runs in the
// background, so that a stalled server cannot hold a cancelled call for
// the timeout; Destination.cleanups counts those under way.
func (d *Destination) cleanup(ctx context.Context, fn func(context.Context)) {
	run := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cleanupTimeout())
		defer cancel()
		fn(ctx)
	}
	if ctx.Err() == nil {
		run()
		return
	}
	d.cleanups.Go(run)
}

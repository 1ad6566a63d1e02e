package s3dest

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// What Get checks a body against (docs/INTEGRITY.md), the cheapest first:
//  1. the object's whole-object checksum (CRC32C, CRC32, CRC64NVME, SHA256,
//     SHA1): S3 and versitygw keep one for every object s3dest writes;
//  2. a composite checksum "...-N", the checksum of the part checksums
//     (R2, some MinIO versions, AWS uploads of other tools): hashed part by
//     part, with the part boundaries s3dest cut;
//  3. where no flexible checksum exists (B2, older servers, gofakes3), the
//     ETag: the MD5 of a single-part object, or the MD5 of the part MD5s
//     "-N" of a multipart one. It is hashed alongside the transfer (MD5 is
//     about 20 times slower than CRC32C), the parts of a multipart one on
//     several goroutines at once (partHashing), and not where the ETag is
//     no MD5 (SSE-KMS, SSE-C).
// The part boundaries come from the s3dest-parts metadata s3dest gives the
// multipart objects it writes (partsMeta), else from the lengths of the
// first and last part (HEAD ?partNumber) and s3dest's rules for cutting
// parts. A layout inferred so that then fails the check is confirmed part
// by part before the object is called corrupt: another tool's object cut
// another way is not verified, rather than wrongly refused.

// partsMeta is the user metadata key that records how s3dest cut a
// multipart object: "fixed:SIZE" (every part SIZE bytes but the last) or
// "grow:SIZE:MAX" (SIZE bytes, doubled after every 900 parts up to MAX:
// partSizeAt).
const partsMeta = "s3dest-parts"

// layoutMeta is the partsMeta value of parts cut from base, fixed or
// growing up to limit, marked when this server was seen to follow S3's
// multipart ETag rule.
func (d *Destination) layoutMeta(base, limit int64, fixed bool) string {
	v := "grow:" + strconv.FormatInt(base, 10) + ":" + strconv.FormatInt(limit, 10)
	if fixed {
		v = "fixed:" + strconv.FormatInt(base, 10)
	}
	if d.etagRule.Load() == etagRuleHolds {
		v += md5ETagMark
	}
	return v
}

// verifier hashes a body as it streams and says whether it matches what
// the server said of the object. For a multipart digest it hashes each part
// on its own and the part digests together.
type verifier struct {
	what   string // "CRC32C", "composite CRC32C", "ETag", ...
	want   string
	newH   func() hash.Hash
	h      hash.Hash // the whole object's, or the current part's
	encode func([]byte) string

	// trusted: a mismatch may mean corruption (corruptVerdict); false for a
	// multipart ETag whose rule this server was not seen to follow.
	trusted  bool
	etagRule bool // a multipart ETag: a match shows the server follows S3's rule

	// Multipart digests only.
	sizes []int64 // the parts' lengths
	asked []int   // the parts whose length the server told
	part  int
	left  int64  // bytes left in the current part
	sums  []byte // the finished parts' digests
}

// slow reports a hash much slower than the transfer: anything but CRC32
// and CRC32C (13 GB/s here), such as MD5 (0.6 GB/s) or SHA-256. copyBody
// runs it alongside the transfer.
func (v *verifier) slow() bool {
	_, crc := v.h.(hash.Hash32)
	return !crc
}

func (v *verifier) Write(p []byte) (int, error) {
	if v.sizes == nil {
		return v.h.Write(p)
	}
	n := len(p)
	for len(p) > 0 && v.part < len(v.sizes) {
		k := min(int64(len(p)), v.left)
		v.h.Write(p[:k])
		p, v.left = p[k:], v.left-k
		if v.left == 0 {
			v.sums = v.h.Sum(v.sums)
			if v.part++; v.part < len(v.sizes) {
				v.h, v.left = v.newH(), v.sizes[v.part]
			}
		}
	}
	return n, nil // bytes past the parts: the length check reports them
}

func (v *verifier) got() string {
	if v.sizes == nil {
		return v.encode(v.h.Sum(nil))
	}
	outer := v.newH()
	outer.Write(v.sums)
	return v.encode(outer.Sum(nil)) + "-" + strconv.Itoa(len(v.sizes))
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var flexibleSums = []struct {
	algo string
	get  func(*s3.GetObjectOutput) *string
	h    func() hash.Hash
}{
	{"CRC32C", func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC32C }, func() hash.Hash { return crc32.New(crc32cTable) }},
	{"CRC32", func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC32 }, func() hash.Hash { return crc32.NewIEEE() }},
	{"CRC64NVME", func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC64NVME },
		func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) }},
	{"SHA256", func(o *s3.GetObjectOutput) *string { return o.ChecksumSHA256 }, sha256.New},
	{"SHA1", func(o *s3.GetObjectOutput) *string { return o.ChecksumSHA1 }, sha1.New},
}

var (
	compositeSum = regexp.MustCompile(`^([A-Za-z0-9+/=]+)-([0-9]+)$`)
	md5ETag      = regexp.MustCompile(`^[0-9a-f]{32}$`)
	multiETag    = regexp.MustCompile(`^[0-9a-f]{32}-([0-9]+)$`)
)

// bodyVerifier picks what to check a whole-object GetObject body against;
// nil when there is nothing (the length is still checked). c and key serve
// the HEAD ?partNumber requests a multipart layout may need.
func (d *Destination) bodyVerifier(ctx context.Context, c *s3.Client, key string, version *string, out *s3.GetObjectOutput) *verifier {
	for _, f := range flexibleSums {
		if v := aws.ToString(f.get(out)); v != "" && !strings.Contains(v, "-") {
			return &verifier{what: f.algo, want: canonicalSum(v), newH: f.h, h: f.h(), encode: b64, trusted: true}
		}
	}
	size := aws.ToInt64(out.ContentLength)
	for _, f := range flexibleSums {
		if m := compositeSum.FindStringSubmatch(aws.ToString(f.get(out))); m != nil {
			return d.partsVerifier(ctx, c, key, version, out, size, m[2], "composite "+f.algo, canonicalSum(m[0]), f.h, b64, true)
		}
	}
	etag := strings.ToLower(strings.Trim(aws.ToString(out.ETag), `"`))
	kms := out.ServerSideEncryption == types.ServerSideEncryptionAwsKms || out.ServerSideEncryption == types.ServerSideEncryptionAwsKmsDsse
	if kms || out.SSECustomerAlgorithm != nil {
		return nil // the ETag is no MD5 of the data
	}
	if md5ETag.MatchString(etag) {
		// S3: an ETag of 32 hex digits is an MD5 digest of the data.
		return &verifier{what: "ETag (MD5)", want: etag, newH: md5.New, h: md5.New(), encode: hex.EncodeToString, trusted: true}
	}
	if m := multiETag.FindStringSubmatch(etag); m != nil && d.etagRule.Load() != etagRuleFails {
		// The MD5 of the part MD5s is S3's rule, not every server's (GCS,
		// some MinIO versions): trusted where this server was seen to
		// follow it, by this Destination or by the one that wrote the
		// object (its metadata says so); elsewhere a match teaches it and a
		// mismatch proves nothing.
		trusted := d.etagRule.Load() == etagRuleHolds || strings.Contains(out.Metadata[partsMeta], md5ETagMark)
		return d.partsVerifier(ctx, c, key, version, out, size, m[1], "ETag (MD5 of the part MD5s)", etag, md5.New, hex.EncodeToString, trusted)
	}
	return nil
}

// What this Destination saw of the server's multipart ETags (etagRule).
const (
	etagRuleUnknown int32 = iota
	etagRuleHolds         // the MD5 of the part MD5s, "-N", as on S3
	etagRuleFails         // something else
)

// md5ETagMark in s3dest-parts says the writer saw the server follow S3's
// multipart ETag rule.
const md5ETagMark = ";md5etag"

// learnETagRule records whether the server's multipart ETag (answered by
// Complete, or matched by a Get) follows S3's rule.
func (d *Destination) learnETagRule(holds bool) {
	v := etagRuleFails
	if holds {
		v = etagRuleHolds
	}
	if d.etagRule.Swap(v) != v && !holds {
		d.log.Info("s3dest: the server's multipart ETags are not the MD5 of the part MD5s: on this server, " +
			"multipart objects without checksums are read with their length checked")
	}
}

// partsVerifier is a verifier of a multipart digest over n parts, or nil
// when the part boundaries cannot be known.
func (d *Destination) partsVerifier(ctx context.Context, c *s3.Client, key string, version *string, out *s3.GetObjectOutput, size int64,
	count, what, want string, h func() hash.Hash, encode func([]byte) string, trusted bool) *verifier {
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxParts {
		return nil
	}
	sizes, asked := d.partLayout(ctx, c, key, version, out.Metadata[partsMeta], size, n)
	if sizes == nil {
		d.log.Debug("s3dest: the parts of a multipart object are not cut as s3dest cuts them: checked for length only",
			"key", key, "parts", n)
		return nil
	}
	return &verifier{what: what, want: want, newH: h, h: h(), encode: encode, sizes: sizes, asked: asked,
		left: sizes[0], trusted: trusted, etagRule: strings.HasPrefix(what, "ETag")}
}

// partLayout returns the lengths of the n parts of a size-byte object: from
// its s3dest-parts metadata, else inferred from the lengths of its first
// and last part, as s3dest cuts fixed or growing parts. nil when neither
// fits. asked lists the parts whose length the server told.
func (d *Destination) partLayout(ctx context.Context, c *s3.Client, key string, version *string, meta string, size int64, n int) (sizes []int64, asked []int) {
	layout, _, _ := strings.Cut(meta, ";")
	if kind, rest, ok := strings.Cut(layout, ":"); ok && (kind == "fixed" || kind == "grow") {
		base, limit, _ := strings.Cut(rest, ":")
		b, err := strconv.ParseInt(base, 10, 64)
		l, lerr := strconv.ParseInt(limit, 10, 64)
		if lerr != nil {
			l = maxPartSize
		}
		if err == nil && b > 0 && b <= maxPartSize && l >= b && l <= maxPartSize {
			return cutParts(size, n, b, l, kind == "fixed"), nil
		}
	}
	first, err := d.partLength(ctx, c, key, version, 1)
	if err != nil || first <= 0 || first > maxPartSize {
		return nil, nil
	}
	for _, fixed := range []bool{true, false} {
		sizes := cutParts(size, n, first, maxPartSize, fixed)
		if sizes == nil {
			continue
		}
		if n == 1 {
			return sizes, []int{1}
		}
		if last, err := d.partLength(ctx, c, key, version, n); err == nil && last == sizes[n-1] {
			return sizes, []int{1, n}
		}
	}
	return nil, nil
}

// cutParts returns the lengths of n parts of a size-byte object cut from
// base bytes (at most 5 GiB), fixed or growing up to limit (partSizeAt);
// nil when they cannot add up.
func cutParts(size int64, n int, base, limit int64, fixed bool) []int64 {
	at := func(i int) int64 {
		if fixed {
			return base
		}
		return partSizeAt(base, limit, i)
	}
	sizes := make([]int64, n)
	var sum int64
	for i := range n - 1 {
		sizes[i] = at(i + 1)
		sum += sizes[i] // at most 10,000 × 5 GiB: no overflow
	}
	last := size - sum
	if last <= 0 || last > at(n) {
		return nil
	}
	sizes[n-1] = last
	return sizes
}

// partLength asks the server the length of part n (HEAD ?partNumber=n) of
// the version read (nil: the current one).
func (d *Destination) partLength(ctx context.Context, c *s3.Client, key string, version *string, n int) (int64, error) {
	in := &s3.HeadObjectInput{Bucket: &d.bucket, Key: &key, PartNumber: aws.Int32(int32(n)), VersionId: version}
	d.withCustomerKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5)
	out, err := d.headObjectCall(ctx, c, in)
	if err != nil {
		return 0, err
	}
	if pc := aws.ToInt32(out.PartsCount); pc != 0 && n > int(pc) {
		return 0, fmt.Errorf("part %d of %d", n, pc)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// corruptVerdict reports whether a body that failed v's check is corrupt.
// A multipart digest is checked against the boundaries of the parts, so
// their lengths are asked of the server first (but those it told already):
// an object cut otherwise than its metadata or s3dest's rules say is read
// with its length checked, never called corrupt. Neither is an object
// whose multipart ETag follows an unknown rule.
func (d *Destination) corruptVerdict(ctx context.Context, c *s3.Client, key string, version *string, v *verifier) bool {
	if !v.trusted {
		d.log.Debug("s3dest: the multipart ETag does not match the MD5 of the part MD5s, which this server may not follow: "+
			"checked for length only", "key", key)
		return false
	}
	for i := 1; i <= len(v.sizes); i++ {
		if slices.Contains(v.asked, i) {
			continue
		}
		n, err := d.partLength(ctx, c, key, version, i)
		if err != nil {
			// The mismatch stands: a layout that could not be read does
			// not explain it, and good-looking data is no proof.
			d.log.Warn("s3dest: could not read a part's length to tell a mismatch from another layout: reported as corrupt",
				"key", key, "part", i, "error", err)
			return true
		}
		if n != v.sizes[i-1] {
			d.log.Warn("s3dest: the parts of a multipart object are not cut as its metadata or s3dest's rules say: "+
				"checked for length only", "key", key, "part", i)
			return false
		}
	}
	return true
}

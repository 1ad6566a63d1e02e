package s3dest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3dest/s3dest"
	"github.com/s3dest/s3dest/s3test"
)

// lifecycleTypes compares the SDK's lifecycle types by their fields.
var lifecycleTypes = cmpopts.IgnoreUnexported(types.LifecycleRule{}, types.LifecycleRuleFilter{},
	types.LifecycleRuleAndOperator{}, types.Tag{}, types.Transition{}, types.LifecycleExpiration{},
	types.NoncurrentVersionTransition{}, types.NoncurrentVersionExpiration{}, types.AbortIncompleteMultipartUpload{})

// rawLifecycle reads the bucket's lifecycle configuration with the SDK
// alone; none is nil rules and ok false. It and putRawLifecycle work in
// Cleanup too, after t.Context has ended.
func rawLifecycle(t *testing.T, c *s3.Client, bkt string) (rules []types.LifecycleRule, minSize types.TransitionDefaultMinimumObjectSize, ok bool) {
	t.Helper()
	out, err := c.GetBucketLifecycleConfiguration(context.Background(), &s3.GetBucketLifecycleConfigurationInput{Bucket: &bkt})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchLifecycleConfiguration" {
		return nil, "", false
	}
	if err != nil {
		t.Fatalf("GetBucketLifecycleConfiguration: %v", err)
	}
	return out.Rules, out.TransitionDefaultMinimumObjectSize, true
}

// putRawLifecycle writes a lifecycle configuration with the SDK alone.
func putRawLifecycle(t *testing.T, c *s3.Client, bkt string, minSize types.TransitionDefaultMinimumObjectSize, rules ...types.LifecycleRule) {
	t.Helper()
	_, err := c.PutBucketLifecycleConfiguration(context.Background(), &s3.PutBucketLifecycleConfigurationInput{
		Bucket: &bkt, LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules},
		TransitionDefaultMinimumObjectSize: minSize,
	}, func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported })
	if err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
}

// archiveRuleOf is the rule s3dest writes for a key prefix.
func archiveRuleOf(prefix string, days int32, class types.TransitionStorageClass) types.LifecycleRule {
	return types.LifecycleRule{
		ID:          aws.String("s3dest-archive-after:" + prefix),
		Status:      types.ExpirationStatusEnabled,
		Filter:      &types.LifecycleRuleFilter{Prefix: aws.String(prefix)},
		Transitions: []types.Transition{{Days: aws.Int32(days), StorageClass: class}},
	}
}

// lifecycleWrites counts the requests that change a lifecycle configuration.
func lifecycleWrites(srv *s3test.Server) (puts, deletes int) {
	for _, r := range srv.Requests() {
		if !r.Query.Has("lifecycle") {
			continue
		}
		switch r.Method {
		case http.MethodPut:
			puts++
		case http.MethodDelete:
			deletes++
		}
	}
	return puts, deletes
}

// readBody reads a request's body and puts it back for the fake.
func readBody(t *testing.T, r *http.Request) []byte {
	t.Helper()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Error(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body
}

func checkArchiveAfter(t *testing.T, d *s3dest.Destination, wantDays int, wantClass string) {
	t.Helper()
	days, class, err := d.ArchiveAfter(t.Context())
	if err != nil || days != wantDays || class != wantClass {
		t.Errorf("ArchiveAfter = %d, %q, %v; want %d, %q", days, class, err, wantDays, wantClass)
	}
}

// TestArchiveAfter: the rule is set, read, changed and removed; setting
// what is set writes nothing, and removing the only rule deletes the
// configuration.
func TestArchiveAfter(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("laptop"))
	checkArchiveAfter(t, d, 0, "")

	if err := d.SetArchiveAfter(t.Context(), 30, "GLACIER"); err != nil {
		t.Fatalf("SetArchiveAfter: %v", err)
	}
	checkArchiveAfter(t, d, 30, "GLACIER")
	rules, _, _ := rawLifecycle(t, d.Client(), bucket)
	if diff := cmp.Diff([]types.LifecycleRule{archiveRuleOf("laptop/", 30, "GLACIER")}, rules, lifecycleTypes); diff != "" {
		t.Errorf("the bucket's rules (-want +got):\n%s", diff)
	}

	if err := d.SetArchiveAfter(t.Context(), 90, "DEEP_ARCHIVE"); err != nil {
		t.Fatalf("SetArchiveAfter: %v", err)
	}
	checkArchiveAfter(t, d, 90, "DEEP_ARCHIVE")
	rules, _, _ = rawLifecycle(t, d.Client(), bucket)
	if diff := cmp.Diff([]types.LifecycleRule{archiveRuleOf("laptop/", 90, "DEEP_ARCHIVE")}, rules, lifecycleTypes); diff != "" {
		t.Errorf("the bucket's rules after a change (-want +got):\n%s", diff)
	}

	srv.ResetRequests()
	if err := d.SetArchiveAfter(t.Context(), 90, "DEEP_ARCHIVE"); err != nil {
		t.Fatal(err)
	}
	if puts, deletes := lifecycleWrites(srv); puts+deletes != 0 {
		t.Errorf("setting the rule as it is sent %d PUTs and %d DELETEs", puts, deletes)
	}

	srv.ResetRequests()
	if err := d.SetArchiveAfter(t.Context(), 0, ""); err != nil {
		t.Fatalf("SetArchiveAfter(0): %v", err)
	}
	if puts, deletes := lifecycleWrites(srv); puts != 0 || deletes != 1 {
		t.Errorf("removing the only rule: %d PUTs, %d DELETEs; want the configuration deleted", puts, deletes)
	}
	if _, _, ok := rawLifecycle(t, d.Client(), bucket); ok {
		t.Error("the bucket still has a lifecycle configuration")
	}
	checkArchiveAfter(t, d, 0, "")

	srv.ResetRequests()
	if err := d.SetArchiveAfter(t.Context(), 0, "any class"); err != nil {
		t.Fatalf("SetArchiveAfter(0) without a rule: %v", err)
	}
	if puts, deletes := lifecycleWrites(srv); puts+deletes != 0 {
		t.Errorf("removing no rule sent %d PUTs and %d DELETEs", puts, deletes)
	}
}

// TestArchiveAfterKeepsOtherRules: the rules of other tools and other
// prefixes, and the bucket's minimum object size, are written back as they
// were read, whatever s3dest does to its own rule.
func TestArchiveAfterKeepsOtherRules(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("laptop"))
	foreign := []types.LifecycleRule{{
		ID:     aws.String("expire-logs"),
		Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{
			Prefix:                aws.String("logs/"),
			Tags:                  []types.Tag{{Key: aws.String("kind"), Value: aws.String("debug")}},
			ObjectSizeGreaterThan: aws.Int64(1024),
		}},
		Expiration:                  &types.LifecycleExpiration{Days: aws.Int32(365)},
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(7), NewerNoncurrentVersions: aws.Int32(2)},
	}, {
		ID:     aws.String("tagged-to-ir"),
		Status: types.ExpirationStatusDisabled,
		Filter: &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("tier"), Value: aws.String("cold")}},
		Transitions: []types.Transition{
			{Days: aws.Int32(60), StorageClass: types.TransitionStorageClassGlacierIr},
			{Days: aws.Int32(400), StorageClass: types.TransitionStorageClassDeepArchive},
		},
		NoncurrentVersionTransitions:   []types.NoncurrentVersionTransition{{NoncurrentDays: aws.Int32(30), StorageClass: types.TransitionStorageClassStandardIa}},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(3)},
	}}
	putRawLifecycle(t, d.Client(), bucket, types.TransitionDefaultMinimumObjectSizeVariesByStorageClass, foreign...)
	other := newDest(t, srv, s3dest.WithPrefix("desktop"))

	check := func(step string, ours ...types.LifecycleRule) {
		t.Helper()
		rules, minSize, _ := rawLifecycle(t, d.Client(), bucket)
		if diff := cmp.Diff(append(append([]types.LifecycleRule(nil), foreign...), ours...), rules, lifecycleTypes); diff != "" {
			t.Errorf("%s: the bucket's rules (-want +got):\n%s", step, diff)
		}
		if minSize != types.TransitionDefaultMinimumObjectSizeVariesByStorageClass {
			t.Errorf("%s: minimum object size %q, want varies_by_storage_class kept", step, minSize)
		}
	}
	if err := d.SetArchiveAfter(t.Context(), 30, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	check("set", archiveRuleOf("laptop/", 30, "GLACIER"))
	if err := other.SetArchiveAfter(t.Context(), 200, "DEEP_ARCHIVE"); err != nil {
		t.Fatal(err)
	}
	check("another prefix's rule", archiveRuleOf("laptop/", 30, "GLACIER"), archiveRuleOf("desktop/", 200, "DEEP_ARCHIVE"))
	if err := d.SetArchiveAfter(t.Context(), 45, "GLACIER_IR"); err != nil {
		t.Fatal(err)
	}
	check("changed", archiveRuleOf("laptop/", 45, "GLACIER_IR"), archiveRuleOf("desktop/", 200, "DEEP_ARCHIVE"))
	checkArchiveAfter(t, other, 200, "DEEP_ARCHIVE")

	srv.ResetRequests()
	if err := d.SetArchiveAfter(t.Context(), 0, ""); err != nil {
		t.Fatal(err)
	}
	check("removed", archiveRuleOf("desktop/", 200, "DEEP_ARCHIVE"))
	if err := other.SetArchiveAfter(t.Context(), 0, ""); err != nil {
		t.Fatal(err)
	}
	check("both removed")
	if puts, deletes := lifecycleWrites(srv); puts != 2 || deletes != 0 {
		t.Errorf("removing s3dest's rules beside others: %d PUTs, %d DELETEs; want 2 PUTs and no DELETE", puts, deletes)
	}
}

// TestArchiveAfterPrefix: a rule for the names that start with a prefix,
// as Duplicati's documentation sets for its dblock files, lives beside the
// whole prefix's rule.
func TestArchiveAfterPrefix(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("pc"))
	if err := d.SetArchiveAfterPrefix(t.Context(), "duplicati-b", 7, "DEEP_ARCHIVE"); err != nil {
		t.Fatal(err)
	}
	checkArchiveAfter(t, d, 0, "")
	if days, class, err := d.ArchiveAfterPrefix(t.Context(), "duplicati-b"); err != nil || days != 7 || class != "DEEP_ARCHIVE" {
		t.Errorf("ArchiveAfterPrefix = %d, %q, %v; want 7 DEEP_ARCHIVE", days, class, err)
	}
	if err := d.SetArchiveAfter(t.Context(), 30, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	rules, _, _ := rawLifecycle(t, d.Client(), bucket)
	want := []types.LifecycleRule{archiveRuleOf("pc/duplicati-b", 7, "DEEP_ARCHIVE"), archiveRuleOf("pc/", 30, "GLACIER")}
	if diff := cmp.Diff(want, rules, lifecycleTypes); diff != "" {
		t.Errorf("the bucket's rules (-want +got):\n%s", diff)
	}
	if err := d.SetArchiveAfterPrefix(t.Context(), "duplicati-b", 0, ""); err != nil {
		t.Fatal(err)
	}
	checkArchiveAfter(t, d, 30, "GLACIER")
	if days, _, err := d.ArchiveAfterPrefix(t.Context(), "duplicati-b"); err != nil || days != 0 {
		t.Errorf("ArchiveAfterPrefix after removal = %d, %v", days, err)
	}
}

// TestArchiveAfterInvalid: input s3dest refuses is ErrInvalid before any
// request.
func TestArchiveAfterInvalid(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("p"))
	srv.ResetRequests()
	for _, tc := range []struct {
		name       string
		namePrefix string
		days       int
		class      string
	}{
		{"negative days", "", -1, "GLACIER"},
		{"over a hundred years", "", 36501, "GLACIER"},
		{"no class", "", 30, ""},
		{"a space in the class", "", 30, "GLACIER IR"},
		{"a newline in the class", "", 30, "GLACIER\n"},
		{"a class not in ASCII", "", 30, "GLACIÉR"},
		{"a name prefix from the root", "/duplicati-b", 30, "GLACIER"},
		{"a control character in the name prefix", "dup\x01", 30, "GLACIER"},
		{"a name prefix not in UTF-8", "dup\xff", 30, "GLACIER"},
		{"a key prefix over 1024 bytes", strings.Repeat("n", 1024), 30, "GLACIER"},
		{"removal with a bad name prefix", "/x", 0, ""},
	} {
		err := d.SetArchiveAfterPrefix(t.Context(), tc.namePrefix, tc.days, tc.class)
		var e *s3dest.Error
		if !errors.Is(err, s3dest.ErrInvalid) || !errors.As(err, &e) || e.Op != "set-archive-after" {
			t.Errorf("%s: %v, want an *Error of set-archive-after that is ErrInvalid", tc.name, err)
		}
	}
	if _, _, err := d.ArchiveAfterPrefix(t.Context(), "/x"); !errors.Is(err, s3dest.ErrInvalid) {
		t.Errorf("ArchiveAfterPrefix(/x): %v, want ErrInvalid", err)
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("invalid input sent %d requests, the first %s %s %v", len(reqs), reqs[0].Method, reqs[0].Path, reqs[0].Query)
	}
	// The bounds themselves are valid.
	for _, days := range []int{1, 36500} {
		if err := d.SetArchiveAfter(t.Context(), days, "DEEP_ARCHIVE"); err != nil {
			t.Errorf("SetArchiveAfter(%d): %v", days, err)
		}
	}
}

// TestArchiveAfterChecksums: the PUT carries Content-MD5 of its body and
// the SDK's CRC32; a server that refuses the CRC32 gets Content-MD5 alone.
func TestArchiveAfterChecksums(t *testing.T) {
	srv := withBucket(t)
	var bodies [][]byte
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("lifecycle") && r.Method == http.MethodPut {
			body := readBody(t, r)
			bodies = append(bodies, body)
			if r.Header.Get("Content-Md5") != md5b64(body) || r.Header.Get("X-Amz-Checksum-Crc32") == "" {
				t.Errorf("PUT ?lifecycle: Content-MD5 %q (body's %q), x-amz-checksum-crc32 %q",
					r.Header.Get("Content-Md5"), md5b64(body), r.Header.Get("X-Amz-Checksum-Crc32"))
			}
		}
		return false
	})
	d := newDest(t, srv)
	if err := d.SetArchiveAfter(t.Context(), 30, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 {
		t.Fatalf("%d PUT ?lifecycle, want 1", len(bodies))
	}

	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		for k := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
				s3test.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "x-amz-checksum-* is not supported")
				return true
			}
		}
		return false
	})
	if err := d.SetArchiveAfter(t.Context(), 60, "GLACIER"); err != nil {
		t.Fatalf("SetArchiveAfter on a server without flexible checksums: %v", err)
	}
	checkArchiveAfter(t, d, 60, "GLACIER")
}

// TestArchiveAfterNotSupported: a server without lifecycle rules, whether
// it says so (NotImplemented) or takes PUT ?lifecycle for a CreateBucket
// (gofakes3 alone), is ErrNotSupported with a hint to upload in the
// archive class.
func TestArchiveAfterNotSupported(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("lifecycle") {
			s3test.WriteError(w, r, http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented.")
			return true
		}
		return false
	})
	_, _, readErr := d.ArchiveAfter(t.Context())
	for name, err := range map[string]error{
		"ArchiveAfter":     readErr,
		"SetArchiveAfter":  d.SetArchiveAfter(t.Context(), 30, "GLACIER"),
		"SetArchiveAfter0": d.SetArchiveAfter(t.Context(), 0, ""),
	} {
		var e *s3dest.Error
		if !errors.Is(err, s3dest.ErrNotSupported) || !errors.As(err, &e) || e.Code != "NotImplemented" ||
			!strings.Contains(e.Hint, "upload in the archive class") {
			t.Errorf("%s: %v, want ErrNotSupported with a hint", name, err)
		}
	}

	// gofakes3 takes PUT /bucket?lifecycle for a CreateBucket.
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("lifecycle") && r.Method == http.MethodPut {
			s3test.WriteError(w, r, http.StatusConflict, "BucketAlreadyExists", "")
			return true
		}
		return false
	})
	err := d.SetArchiveAfter(t.Context(), 30, "GLACIER")
	if !errors.Is(err, s3dest.ErrNotSupported) || errors.Is(err, s3dest.ErrBucketNameTaken) {
		t.Errorf("PUT ?lifecycle answered as a CreateBucket: %v, want ErrNotSupported only", err)
	}
}

// TestArchiveAfterRefused: what S3 refuses in a rule is ErrInvalid with a
// hint about classes and AWS's 30 days; a missing permission says which.
func TestArchiveAfterRefused(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv)
	for _, tc := range []struct {
		days  int
		class string
		code  string
	}{
		{10, "STANDARD_IA", "InvalidArgument"},
		{29, "ONEZONE_IA", "InvalidArgument"},
		{30, "glacier", "MalformedXML"},
		{30, "COLD", "MalformedXML"},
	} {
		err := d.SetArchiveAfter(t.Context(), tc.days, tc.class)
		var e *s3dest.Error
		if !errors.Is(err, s3dest.ErrInvalid) || !errors.As(err, &e) || e.Code != tc.code ||
			!strings.Contains(e.Hint, "30 days") || !strings.Contains(e.Hint, "DEEP_ARCHIVE") {
			t.Errorf("%d days to %s: %v; want ErrInvalid, code %s, a hint", tc.days, tc.class, err, tc.code)
		}
	}
	if err := d.SetArchiveAfter(t.Context(), 30, "STANDARD_IA"); err != nil {
		t.Errorf("30 days to STANDARD_IA: %v", err)
	}

	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Has("lifecycle") {
			s3test.WriteError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
			return true
		}
		return false
	})
	_, _, err := d.ArchiveAfter(t.Context())
	var e *s3dest.Error
	if !errors.Is(err, s3dest.ErrAccessDenied) || !errors.As(err, &e) || !strings.Contains(e.Hint, "s3:PutLifecycleConfiguration") {
		t.Errorf("ArchiveAfter denied: %v, want ErrAccessDenied naming the permission", err)
	}
}

// TestArchiveAfterStyles: beside rules of the old style (a Prefix, no
// Filter) s3dest writes its rule in that style and reads it back; a
// disabled rule of s3dest's is no rule, and setting it enables it.
func TestArchiveAfterStyles(t *testing.T) {
	srv := withBucket(t)
	d := newDest(t, srv, s3dest.WithPrefix("old"))
	old := types.LifecycleRule{ID: aws.String("old-style"), Status: types.ExpirationStatusEnabled, Prefix: aws.String("tmp/"),
		Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}
	putRawLifecycle(t, d.Client(), bucket, "", old)
	if err := d.SetArchiveAfter(t.Context(), 30, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	rules, _, _ := rawLifecycle(t, d.Client(), bucket)
	ours := types.LifecycleRule{ID: aws.String("s3dest-archive-after:old/"), Status: types.ExpirationStatusEnabled, Prefix: aws.String("old/"),
		Transitions: []types.Transition{{Days: aws.Int32(30), StorageClass: "GLACIER"}}}
	if diff := cmp.Diff([]types.LifecycleRule{old, ours}, rules, lifecycleTypes); diff != "" {
		t.Errorf("rules beside an old-style one (-want +got):\n%s", diff)
	}
	checkArchiveAfter(t, d, 30, "GLACIER")
	srv.ResetRequests()
	if err := d.SetArchiveAfter(t.Context(), 30, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	if puts, _ := lifecycleWrites(srv); puts != 0 {
		t.Errorf("an old-style rule as asked was written again (%d PUTs)", puts)
	}

	ours.Status = types.ExpirationStatusDisabled
	putRawLifecycle(t, d.Client(), bucket, "", old, ours)
	checkArchiveAfter(t, d, 0, "")
	if err := d.SetArchiveAfter(t.Context(), 30, "GLACIER"); err != nil {
		t.Fatal(err)
	}
	checkArchiveAfter(t, d, 30, "GLACIER")
}

// TestArchiveAfterLongPrefix: a prefix whose ID would pass S3's 255
// characters gets an ID of its SHA-256, the same every time.
func TestArchiveAfterLongPrefix(t *testing.T) {
	srv := withBucket(t)
	long := strings.Repeat("folder/", 40)
	d := newDest(t, srv, s3dest.WithPrefix(long))
	for _, days := range []int{30, 40} {
		if err := d.SetArchiveAfter(t.Context(), days, "GLACIER"); err != nil {
			t.Fatal(err)
		}
	}
	rules, _, _ := rawLifecycle(t, d.Client(), bucket)
	if len(rules) != 1 {
		t.Fatalf("%d rules, want 1", len(rules))
	}
	id := aws.ToString(rules[0].ID)
	if len(id) > 255 || !strings.HasPrefix(id, "s3dest-archive-after:sha256:") || aws.ToString(rules[0].Filter.Prefix) != long {
		t.Errorf("rule ID %q (%d characters), filter prefix %q", id, len(id), aws.ToString(rules[0].Filter.Prefix))
	}
	checkArchiveAfter(t, d, 40, "GLACIER")
}

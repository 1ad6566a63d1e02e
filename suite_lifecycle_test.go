package s3dest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/s3dest/s3dest"
)

// Cases of the behavioural suite (forEachTarget, suite_test.go) about the
// archive rule: the bucket's lifecycle rule that moves the objects of a
// prefix to an archive class.

// TestArchiveRule: the rule is set, read, changed and removed where the
// server has transitions, a rule of another tool in the bucket is left as
// it was, and a server without them says so with ErrNotSupported.
func TestArchiveRule(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		d := tg.dest(t)
		raw := tg.rawClient(t)
		wantErr := func(what string, err error, supported bool) {
			t.Helper()
			switch {
			case supported && err != nil:
				t.Fatalf("%s: %v", what, err)
			case !supported && !errors.Is(err, s3dest.ErrNotSupported):
				t.Fatalf("%s on %s: %v, want ErrNotSupported", what, tg.server, err)
			}
		}
		days, class, err := d.ArchiveAfter(ctx)
		wantErr("ArchiveAfter", err, tg.lifecycleReads())
		if days != 0 || class != "" {
			t.Errorf("ArchiveAfter before any rule = %d, %q", days, class)
		}

		// Another tool's rule, for a folder of the test's own.
		foreign := types.LifecycleRule{
			ID: aws.String("other-tool:" + tg.prefix), Status: types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String(tg.prefix + "tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(3)},
		}
		if tg.expirationRules() {
			editRules(t, raw, tg.bucket, func(rules []types.LifecycleRule) []types.LifecycleRule { return append(rules, foreign) })
			t.Cleanup(func() {
				editRules(t, raw, tg.bucket, func(rules []types.LifecycleRule) []types.LifecycleRule {
					return slices.DeleteFunc(rules, func(r types.LifecycleRule) bool { return aws.ToString(r.ID) == *foreign.ID })
				})
			})
		}
		checkForeign := func(step string) {
			t.Helper()
			if !tg.expirationRules() {
				return
			}
			rules, _ := readRules(t, raw, tg.bucket)
			i := slices.IndexFunc(rules, func(r types.LifecycleRule) bool { return aws.ToString(r.ID) == *foreign.ID })
			if i < 0 {
				t.Errorf("%s: the other tool's rule is gone", step)
			} else if diff := cmp.Diff(foreign, rules[i], lifecycleTypes); diff != "" {
				t.Errorf("%s: the other tool's rule changed (-before +after):\n%s", step, diff)
			}
		}

		err = d.SetArchiveAfter(ctx, 30, "GLACIER")
		wantErr("SetArchiveAfter", err, tg.transitionRules())
		if tg.transitionRules() {
			t.Cleanup(func() { _ = d.SetArchiveAfter(context.Background(), 0, "") })
			checkArchiveAfter(t, d, 30, "GLACIER")
			if err := d.SetArchiveAfter(ctx, 180, "DEEP_ARCHIVE"); err != nil {
				t.Fatal(err)
			}
			checkArchiveAfter(t, d, 180, "DEEP_ARCHIVE")
		}
		checkForeign("after SetArchiveAfter")

		// Removing: where the server reads rules, none is left of s3dest's.
		err = d.SetArchiveAfter(ctx, 0, "")
		wantErr("SetArchiveAfter(0)", err, tg.lifecycleReads())
		if tg.lifecycleReads() {
			checkArchiveAfter(t, d, 0, "")
		}
		checkForeign("after the removal")
	})
}

// readRules reads the bucket's rules with the SDK alone; a bucket without
// a configuration has none.
func readRules(t *testing.T, c *s3.Client, bkt string) ([]types.LifecycleRule, types.TransitionDefaultMinimumObjectSize) {
	t.Helper()
	rules, minSize, _ := rawLifecycle(t, c, bkt)
	return rules, minSize
}

// editRules changes the bucket's rules with the SDK alone, leaving those of
// other tests as they are; no rule left deletes the configuration.
func editRules(t *testing.T, c *s3.Client, bkt string, edit func([]types.LifecycleRule) []types.LifecycleRule) {
	t.Helper()
	rules, minSize := readRules(t, c, bkt)
	rules = edit(rules)
	if len(rules) == 0 {
		if _, err := c.DeleteBucketLifecycle(context.Background(), &s3.DeleteBucketLifecycleInput{Bucket: &bkt}); err != nil {
			t.Errorf("DeleteBucketLifecycle: %v", err)
		}
		return
	}
	putRawLifecycle(t, c, bkt, minSize, rules...)
}

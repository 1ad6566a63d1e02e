package s3dest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// RestoreOptions says how to restore an archived object.
type RestoreOptions struct {
	// Days the restored copy stays readable; default 7. Ignored for
	// Intelligent-Tiering, whose restores move the object back to a readable
	// tier for good.
	Days int
	// Tier is the retrieval speed: "Standard" (default), "Bulk" or
	// "Expedited" (not available for DEEP_ARCHIVE). Case is ignored.
	Tier string
}

// normalize applies the defaults and checks the values.
func (o RestoreOptions) normalize() (days int, tier types.Tier, err error) {
	days = o.Days
	switch {
	case days == 0:
		days = 7
	case days < 0 || days > 30000:
		return 0, "", fmt.Errorf("restore for %d days: give 1 to 30000", o.Days)
	}
	switch strings.ToLower(o.Tier) {
	case "", "standard":
		tier = types.TierStandard
	case "bulk":
		tier = types.TierBulk
	case "expedited":
		tier = types.TierExpedited
	default:
		return 0, "", fmt.Errorf("restore tier %q: use Standard, Bulk or Expedited", truncate(o.Tier, 30))
	}
	return days, tier, nil
}

// Restore asks the server to make an archived object readable again. It is
// idempotent: an object that is not archived, is being restored, or has a
// restored copy readable for the requested days needs no request; a
// restored copy about to expire is extended. Deep Archive with the Expedited
// tier is refused before any restore request (S3 has no such tier for it).
// Restore returns once the request is accepted: WaitRestored waits for the
// copy.
func (d *Destination) Restore(ctx context.Context, name string, opt RestoreOptions) error {
	key, err := validateName("restore", d.bucket, d.prefix, name)
	if err != nil {
		return err
	}
	days, tier, err := opt.normalize()
	if err != nil {
		return invalid("restore", d.bucket, key, "%v", err)
	}
	fi, version, err := d.restoreTarget(ctx, name, key) // in a view, the version it sees
	if err != nil {
		return err
	}
	switch {
	case fi.Restoring:
		return nil
	case !fi.Archived && (fi.RestoredUntil.IsZero() || longEnough(fi.RestoredUntil, days, d.clock.Now())):
		return nil // readable: never archived, or restored for long enough
	case strings.EqualFold(fi.StorageClass, "DEEP_ARCHIVE") && tier == types.TierExpedited:
		return invalid("restore", d.bucket, key, "DEEP_ARCHIVE objects cannot be restored with the Expedited tier: use Standard or Bulk")
	}
	req := &types.RestoreRequest{GlacierJobParameters: &types.GlacierJobParameters{Tier: tier}}
	if !strings.EqualFold(fi.StorageClass, "INTELLIGENT_TIERING") {
		req.Days = aws.Int32(int32(days))
	}
	err = d.do(ctx, "restore", key, d.cfg.timeouts.Short, func(ctx context.Context, c *s3.Client) error {
		_, err := c.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: &d.bucket, Key: &key, VersionId: version, RestoreRequest: req})
		return err
	})
	if code, _ := errorCode(err); code == "RestoreAlreadyInProgress" || code == "ObjectAlreadyInActiveTierError" {
		return nil
	}
	if err == nil {
		d.log.Info("s3dest: restore requested", "key", key, "class", fi.StorageClass, "tier", tier, "days", days)
	}
	return err
}

// longEnough reports whether a restored copy readable until `until` covers
// the requested days. S3 rounds expiry up to the next midnight UTC, so a
// copy restored for n days may expire up to a day early by a clock's count:
// a day of slack keeps Restore from extending what it just restored.
func longEnough(until time.Time, days int, now time.Time) bool {
	need := time.Duration(days-1) * 24 * time.Hour
	return until.Sub(now) >= max(need, 12*time.Hour)
}

// NotRestoringError names the objects that WaitRestored found archived with
// no restore under way: waiting would never end. Restore them first.
type NotRestoringError struct {
	Names []string
}

// Error names the objects, the first five of them when there are more.
func (e *NotRestoringError) Error() string {
	const show = 5
	names := e.Names
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(" and %d more", len(names)-show)
		names = names[:show]
	}
	return fmt.Sprintf("%d object(s) archived and not being restored: %s%s", len(e.Names), strings.Join(names, ", "), more)
}

// sweepAbove is the number of objects above which WaitRestored reads restore
// states from one listing instead of a HEAD per object.
const sweepAbove = 50

// WaitRestored polls, every poll (default one minute), until every named
// object is readable. It honours ctx, logs progress, and fails with an error
// that is ErrObjectArchived and carries a *NotRestoringError when some
// objects are archived with no restore under way.
func (d *Destination) WaitRestored(ctx context.Context, names []string, poll time.Duration) error {
	if poll <= 0 {
		poll = time.Minute
	}
	pending := make([]string, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		if _, err := validateName("wait-restored", d.bucket, d.prefix, n); err != nil {
			return err
		}
		if !seen[n] {
			seen[n] = true
			pending = append(pending, n)
		}
	}
	for round := 0; ; round++ {
		states, err := d.restoreStates(ctx, pending)
		if err != nil {
			return err
		}
		var waiting, stuck []string
		for _, n := range pending {
			switch fi := states[n]; {
			case !fi.Archived:
			case fi.Restoring:
				waiting = append(waiting, n)
			default:
				stuck = append(stuck, n)
			}
		}
		if len(stuck) > 0 {
			return &Error{Op: "wait-restored", Bucket: d.bucket, Key: d.prefix + stuck[0], kind: ErrObjectArchived,
				Err: &NotRestoringError{Names: stuck}, Hint: "call Restore for them first"}
		}
		if len(waiting) == 0 {
			d.log.Info("s3dest: restores complete", "objects", len(seen))
			return nil
		}
		d.log.Info("s3dest: waiting for restores", "ready", len(seen)-len(waiting), "total", len(seen), "poll", poll, "round", round)
		pending = waiting
		select {
		case <-ctx.Done():
			return &Error{Op: "wait-restored", Bucket: d.bucket, Key: d.prefix + waiting[0],
				Err: fmt.Errorf("%d object(s) still being restored: %w", len(waiting), context.Cause(ctx))}
		case <-d.clock.After(poll):
		}
	}
}

// restoreStates returns the current FileInfo of each name: one HEAD each, or
// one listing sweep when there are many and listings carry RestoreStatus.
// A missing object is an error.
func (d *Destination) restoreStates(ctx context.Context, names []string) (map[string]FileInfo, error) {
	states := make(map[string]FileInfo, len(names))
	if len(names) > sweepAbove && !d.noRestoreStatus.Load() {
		want := make(map[string]bool, len(names))
		for _, n := range names {
			want[n] = true
		}
		for fi, err := range d.List(ctx) {
			if err != nil {
				return nil, err
			}
			// Listings do not show Intelligent-Tiering archive tiers, and a
			// server that ignores the RestoreStatus request lists restores
			// as not requested: HEAD those.
			stuck := fi.Archived && !fi.Restoring
			if want[fi.Name] && !stuck && !strings.EqualFold(fi.StorageClass, "INTELLIGENT_TIERING") {
				states[fi.Name] = fi
			}
		}
		if d.noRestoreStatus.Load() { // the sweep found out the server cannot tell
			clear(states)
		}
	}
	for _, n := range names {
		if _, ok := states[n]; ok {
			continue
		}
		fi, err := d.Stat(ctx, n)
		if err != nil {
			return nil, err
		}
		states[n] = fi
	}
	return states, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s3dest/s3dest"
)

// restoreJSON is one object's outcome in restore --json.
type restoreJSON struct {
	Name          string     `json:"name"`
	State         string     `json:"state"` // requested, in_progress, restored, not_archived, error
	StorageClass  string     `json:"storage_class,omitempty"`
	RestoredUntil *time.Time `json:"restored_until,omitempty"`
	Error         string     `json:"error,omitempty"`
}

// restore asks for a readable copy of each archived object. It reports
// what it found for each (already restoring, not archived, restored), goes
// on after a failure, and fails at the end when any failed.
func cmdRestore(ctx context.Context, c *call) error {
	tier := strings.ToLower(c.o.tier)
	switch tier {
	case "standard", "bulk", "expedited":
	default:
		return usagef("--tier %q: use Standard, Bulk or Expedited", c.o.tier)
	}
	tier = strings.ToUpper(tier[:1]) + tier[1:]
	if c.o.days < 1 || c.o.days > 30000 {
		return usagef("--days %d: give 1 to 30000", c.o.days)
	}
	opt := s3dest.RestoreOptions{Days: c.o.days, Tier: tier}
	var results []restoreJSON
	var errs []error
	for _, name := range c.args {
		r := restoreJSON{Name: name}
		fi, err := c.dest.Stat(ctx, name)
		if err == nil {
			r.StorageClass = fi.StorageClass
			err = c.dest.Restore(ctx, name, opt)
		}
		var msg string
		switch {
		case err != nil:
			errs = append(errs, err)
			r.State, r.Error = "error", c.scrub(describe(err))
		case fi.Restoring:
			r.State, msg = "in_progress", "a restore is in progress already"
		case !fi.Archived && fi.RestoredUntil.IsZero():
			r.State, msg = "not_archived", fmt.Sprintf("not archived (%s): readable now", fi.StorageClass)
		case !fi.Archived:
			t := fi.RestoredUntil.UTC()
			r.State, r.RestoredUntil = "restored", &t
			msg = fmt.Sprintf("restored, readable until %s (extended when shorter than %d days)", stamp(t), c.o.days)
		default:
			r.State = "requested"
			msg = fmt.Sprintf("restore requested from %s (%s tier, readable for %d days once restored)", fi.StorageClass, tier, c.o.days)
		}
		results = append(results, r)
		if !c.o.json && msg != "" {
			fmt.Fprintf(c.stdout, "%s: %s\n", name, msg)
		}
	}
	if c.o.json {
		writeJSON(c.stdout, results)
	}
	return errors.Join(errs...)
}

// wait polls until every named object is readable.
func cmdWait(ctx context.Context, c *call) error {
	if c.o.poll <= 0 {
		return usagef("--poll %s: give a positive duration", c.o.poll)
	}
	if c.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	if !c.o.json {
		fmt.Fprintf(c.stderr, "waiting for %d object(s) to be readable, checking every %s\n", len(c.args), duration(c.o.poll))
	}
	c.bar.begin()
	err := c.dest.WaitRestored(ctx, c.args, c.o.poll)
	c.bar.finish()
	var nr *s3dest.NotRestoringError
	switch {
	case errors.As(err, &nr):
		return &cliError{msg: fmt.Sprintf("archived and not being restored: %s", strings.Join(nr.Names, ", ")),
			hint: "run 's3dest restore' for them first", err: err}
	case err != nil && ctx.Err() != nil && c.o.timeout > 0:
		return &cliError{msg: fmt.Sprintf("still being restored after --timeout %s", duration(c.o.timeout)), err: err}
	case err != nil:
		return err
	}
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"readable": c.args})
		return nil
	}
	fmt.Fprintf(c.stdout, "readable now: %s\n", strings.Join(c.args, ", "))
	return nil
}

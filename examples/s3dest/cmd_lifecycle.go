package main

import (
	"context"
	"fmt"
	"strconv"
)

// lifecycleJSON is the archive rule in lifecycle --json: days 0 and an
// empty class when there is none.
type lifecycleJSON struct {
	Bucket       string `json:"bucket"`
	Prefix       string `json:"prefix"`
	Names        string `json:"names,omitempty"` // --names: the rule's names start with it
	Days         int    `json:"days"`
	StorageClass string `json:"storage_class"`
	Changed      *bool  `json:"changed,omitempty"` // when setting: whether the rule was other before
}

// lifecycle shows the archive rule of the destination's prefix, or sets
// it: "lifecycle URL DAYS CLASS", DAYS 0 removing it.
func cmdLifecycle(ctx context.Context, c *call) error {
	d, names := c.dest, c.o.names
	scope := where(d) + names
	if names != "" {
		scope += "*"
	}
	days, class, err := lifecycleArgs(c.args)
	if err != nil {
		return err
	}
	before, beforeClass, err := d.ArchiveAfterPrefix(ctx, names)
	if err != nil {
		return err
	}
	out := lifecycleJSON{Bucket: d.Bucket(), Prefix: d.Prefix(), Names: names, Days: before, StorageClass: beforeClass}
	if len(c.args) == 0 {
		if c.o.json {
			writeJSON(c.stdout, out)
		} else if before == 0 {
			fmt.Fprintf(c.stdout, "no archive rule for %s\n", scope)
		} else {
			fmt.Fprintf(c.stdout, "archive rule for %s: objects move to %s %d days after upload\n", scope, beforeClass, before)
		}
		return nil
	}

	if err := d.SetArchiveAfterPrefix(ctx, names, days, class); err != nil {
		return err
	}
	changed := days != before || class != beforeClass
	out.Days, out.StorageClass, out.Changed = days, class, &changed
	switch {
	case c.o.json:
		writeJSON(c.stdout, out)
	case days == 0 && before == 0:
		fmt.Fprintf(c.stdout, "no archive rule for %s: nothing to remove\n", scope)
	case days == 0:
		fmt.Fprintf(c.stdout, "removed the archive rule for %s (objects moved to %s %d days after upload)\n", scope, beforeClass, before)
	case !changed:
		fmt.Fprintf(c.stdout, "archive rule for %s unchanged: objects move to %s %d days after upload\n", scope, class, days)
	default:
		fmt.Fprintf(c.stdout, "archive rule for %s set: objects move to %s %d days after upload\n", scope, class, days)
	}
	return nil
}

// lifecycleArgs reads DAYS and CLASS, before any request.
func lifecycleArgs(args []string) (days int, class string, err error) {
	if len(args) == 0 {
		return 0, "", nil
	}
	days, err = strconv.Atoi(args[0])
	switch {
	case err != nil || days < 0 || days > 36500:
		return 0, "", usagef("DAYS %q: give a whole number of days from 1 to 36500, or 0 to remove the rule", args[0])
	case days > 0 && len(args) < 2:
		return 0, "", usagef("missing CLASS: s3dest lifecycle URL %d CLASS, such as GLACIER or DEEP_ARCHIVE", days)
	case days > 0:
		class = args[1]
	}
	return days, class, nil
}

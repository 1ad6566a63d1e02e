package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"
)

// listBackups prints the versions, the volumes by storage class, and the
// files of one version (the latest by default). It reads only dlist files
// and the listing, which archive tiers never hide.
func listBackups(ctx context.Context, r *remote, version string, out io.Writer) error {
	c, err := scan(ctx, r)
	if err != nil {
		return err
	}
	if len(c.lists) == 0 {
		fmt.Fprintf(out, "no backups in %s\n", r.meta)
		return nil
	}
	show, err := pickList(c, version)
	if err != nil {
		return err
	}
	var shown listFile
	fmt.Fprintf(out, "%d version(s):\n", len(c.lists))
	for _, name := range c.lists {
		var list listFile
		if err := getJSON(ctx, r.meta, name, &list); err != nil {
			return err
		}
		var bytes int64
		for _, f := range list.Files {
			bytes += f.Size
		}
		fmt.Fprintf(out, "  %s  %4d files  %10d bytes  from %s\n", name, len(list.Files), bytes, list.Source)
		if name == show {
			shown = list
		}
	}

	classes := map[string]int{}
	archived := 0
	for _, v := range c.volumes {
		fi := c.objects[v]
		classes[fi.StorageClass]++
		if fi.Archived {
			archived++
		}
	}
	fmt.Fprintf(out, "%d volume(s), %d archived:", len(c.volumes), archived)
	for _, class := range slices.Sorted(maps.Keys(classes)) {
		fmt.Fprintf(out, " %d %s", classes[class], class)
	}
	fmt.Fprintf(out, "; %d index(es)\n", len(c.indexes))

	fmt.Fprintf(out, "files of %s:\n", show)
	for _, f := range shown.Files {
		fmt.Fprintf(out, "  %s  %10d  %s  %s\n", fs.FileMode(f.Mode), f.Size, f.ModTime.Format("2006-01-02 15:04"), f.Path)
	}
	return nil
}

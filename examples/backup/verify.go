package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// verifyReport is what verify found.
type verifyReport struct {
	Versions int
	Volumes  int
	Readable int                 // volumes with an index that can be read now
	Checked  []string            // volumes downloaded and checked block by block
	Skipped  map[string][]string // reason -> volumes not read, because they are archived
	Problems []string
	Warnings []string
}

// verify checks the backup without restoring anything, as Duplicati's
// verify does: every dlist must find all its blocks in the indexes, every
// volume must have the size its index says (from the listing, so archived
// volumes too), and a random sample of the readable volumes is downloaded
// and checked block by block. Archived volumes are skipped, counted and
// reported with the reason; a volume restored earlier is readable again and
// may be sampled. sample <= 0 checks every readable volume.
func verify(ctx context.Context, r *remote, sample int, out io.Writer) (verifyReport, error) {
	rep := verifyReport{Skipped: map[string][]string{}}
	c, err := scan(ctx, r)
	if err != nil {
		return rep, err
	}
	bi, err := loadIndexes(ctx, r, c)
	if err != nil {
		return rep, err
	}
	rep.Versions, rep.Volumes = len(c.lists), len(c.volumes)
	rep.Problems = append(rep.Problems, bi.issues...)
	for _, v := range bi.orphans {
		rep.Warnings = append(rep.Warnings, v+" has no index (left by an interrupted backup?)")
	}

	for _, name := range c.lists {
		var list listFile
		if err := getJSON(ctx, r.meta, name, &list); err != nil {
			return rep, err
		}
		missing, files := 0, 0
		for _, f := range list.Files {
			n := 0
			for _, h := range f.Blocks {
				if _, ok := bi.where[h]; !ok {
					n++
				}
			}
			if n > 0 {
				missing, files = missing+n, files+1
			}
		}
		if missing > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %d block(s) of %d file(s) are in no volume index", name, missing, files))
		}
	}

	var readable []string
	for _, v := range slices.Sorted(maps.Keys(bi.volumes)) {
		switch fi := c.objects[v]; {
		case fi.Archived && fi.Restoring:
			rep.Skipped["being restored"] = append(rep.Skipped["being restored"], v)
		case fi.Archived:
			reason := "in " + fi.StorageClass
			rep.Skipped[reason] = append(rep.Skipped[reason], v)
		default:
			readable = append(readable, v)
		}
	}
	rep.Readable = len(readable)
	rand.Shuffle(len(readable), func(i, j int) { readable[i], readable[j] = readable[j], readable[i] })
	if sample > 0 && sample < len(readable) {
		readable = readable[:sample]
	}
	slices.Sort(readable)
	for _, v := range readable {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Checked = append(rep.Checked, v)
		if err := checkVolume(ctx, r, bi.volumes[v]); err != nil {
			rep.Problems = append(rep.Problems, err.Error())
			continue
		}
		fmt.Fprintf(out, "  checked %s: %d block(s)\n", v, len(bi.volumes[v].Blocks))
	}
	rep.print(out)
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("verify found %d problem(s)", len(rep.Problems))
	}
	return rep, nil
}

// checkVolume downloads a volume and checks it against its index: size,
// SHA-256, and every block's content and hash, with no block missing or
// extra.
func checkVolume(ctx context.Context, r *remote, idx *indexFile) error {
	var buf bytes.Buffer
	if err := r.vol.Get(ctx, idx.Volume, &buf); err != nil {
		return err
	}
	zr, err := openVolume(buf.Bytes(), idx)
	if err != nil {
		return err
	}
	want := make(map[string]int64, len(idx.Blocks))
	for _, b := range idx.Blocks {
		want[b.Hash] = b.Size
	}
	for _, zf := range zr.File {
		size, ok := want[zf.Name]
		if !ok {
			return fmt.Errorf("%s: holds %q, which its index does not list", idx.Volume, zf.Name)
		}
		delete(want, zf.Name)
		if _, err := readBlock(zf, size); err != nil {
			return fmt.Errorf("%s: %w", idx.Volume, err)
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("%s: %d block(s) its index lists are missing", idx.Volume, len(want))
	}
	return nil
}

func (rep *verifyReport) print(out io.Writer) {
	skipped := 0
	var why []string
	for _, reason := range slices.Sorted(maps.Keys(rep.Skipped)) {
		skipped += len(rep.Skipped[reason])
		why = append(why, fmt.Sprintf("%d %s", len(rep.Skipped[reason]), reason))
	}
	fmt.Fprintf(out, "verify: %d version(s), %d volume(s); checked %d of %d readable volume(s)\n",
		rep.Versions, rep.Volumes, len(rep.Checked), rep.Readable)
	if skipped > 0 {
		fmt.Fprintf(out, "verify: skipped %d archived volume(s) (%s): they cannot be read without a restore; "+
			"their sizes were checked from the listing, their content was not\n", skipped, strings.Join(why, ", "))
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(out, "problem:", p)
	}
	if len(rep.Problems) == 0 {
		fmt.Fprintln(out, "verify: no problems found")
	}
}

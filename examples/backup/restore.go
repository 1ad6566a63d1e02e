package main

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/s3dest/s3dest"
)

// restoreOptions say which version to read and how to restore archived
// volumes.
type restoreOptions struct {
	version string        // "" for the latest
	tier    string        // Standard, Bulk or Expedited
	days    int           // how long restored copies stay readable
	poll    time.Duration // between looks at restores in progress
	wait    time.Duration // longest wait for restores; 0: no limit
}

// restoreStats is what one restore did.
type restoreStats struct {
	Version  string
	Path     string   // where the file was written
	Volumes  []string // volumes read
	Restored []string // archived volumes restored first
	Bytes    int64
}

// restoreFile writes the file at path (as the dlist names it) to dest, or
// into dest when dest is a directory. It reads the dlist and the dindex
// files, which are never archived, to find the volumes that hold the file's
// blocks; restores those of them that are archived, all at once, and waits
// for them; then reads each volume once, checks every block's SHA-256 and
// the whole file's, and moves the file into place.
func restoreFile(ctx context.Context, r *remote, file, dest string, opt restoreOptions, out io.Writer) (restoreStats, error) {
	var st restoreStats
	c, err := scan(ctx, r)
	if err != nil {
		return st, err
	}
	if st.Version, err = pickList(c, opt.version); err != nil {
		return st, err
	}
	var list listFile
	if err := getJSON(ctx, r.meta, st.Version, &list); err != nil {
		return st, err
	}
	if list.Format > formatVersion {
		return st, fmt.Errorf("%s has format %d; this program reads up to %d", st.Version, list.Format, formatVersion)
	}
	entry, err := findFile(&list, file)
	if err != nil {
		return st, fmt.Errorf("%s: %w", st.Version, err)
	}
	bi, err := loadIndexes(ctx, r, c)
	if err != nil {
		return st, err
	}

	// Where each block goes in the file, and which volume holds it.
	offsets := map[string][]int64{}
	byVolume := map[string][]string{}
	var off int64
	for _, h := range entry.Blocks {
		v, ok := bi.where[h]
		if !ok {
			return st, fmt.Errorf("%s: block %.12s… of %s is in no volume index", st.Version, h, entry.Path)
		}
		if len(offsets[h]) == 0 {
			byVolume[v] = append(byVolume[v], h)
		}
		offsets[h] = append(offsets[h], off)
		off += bi.size[h]
	}
	if off != entry.Size {
		return st, fmt.Errorf("%s: the blocks of %s add up to %d bytes, the list says %d", st.Version, entry.Path, off, entry.Size)
	}
	for v := range byVolume {
		st.Volumes = append(st.Volumes, v)
	}
	slices.Sort(st.Volumes)
	fmt.Fprintf(out, "restore %s from %s: %d bytes in %d block(s) from %d volume(s)\n",
		entry.Path, st.Version, entry.Size, len(entry.Blocks), len(st.Volumes))

	if err := restoreArchived(ctx, r, c, st.Volumes, opt, out, &st); err != nil {
		return st, err
	}

	st.Path = dest
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		st.Path = filepath.Join(dest, path.Base(entry.Path))
	}
	if err := writeFile(ctx, r, bi, entry, st.Path, st.Volumes, byVolume, offsets, out); err != nil {
		return st, err
	}
	st.Bytes = entry.Size
	fmt.Fprintf(out, "restored %s to %s (%d bytes, SHA-256 checked)\n", entry.Path, st.Path, entry.Size)
	return st, nil
}

// findFile looks a path up in a dlist.
func findFile(list *listFile, file string) (*fileEntry, error) {
	want := path.Clean(strings.TrimPrefix(filepath.ToSlash(file), "/"))
	for i := range list.Files {
		if list.Files[i].Path == want {
			return &list.Files[i], nil
		}
	}
	var near []string
	for _, f := range list.Files {
		if strings.Contains(f.Path, path.Base(want)) && len(near) < 5 {
			near = append(near, f.Path)
		}
	}
	if len(near) > 0 {
		return nil, fmt.Errorf("no file %q (did you mean %s?)", want, strings.Join(near, ", "))
	}
	return nil, fmt.Errorf("no file %q among its %d files", want, len(list.Files))
}

// restoreArchived asks for a restore of every archived volume among volumes,
// then waits until all are readable.
func restoreArchived(ctx context.Context, r *remote, c *catalog, volumes []string, opt restoreOptions, out io.Writer, st *restoreStats) error {
	for _, v := range volumes {
		if c.objects[v].Archived {
			st.Restored = append(st.Restored, v)
		}
	}
	if len(st.Restored) == 0 {
		return nil
	}
	ro := s3dest.RestoreOptions{Days: opt.days, Tier: opt.tier}
	for _, v := range st.Restored {
		if err := r.vol.Restore(ctx, v, ro); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "  %d of %d volume(s) are archived (%s): restore requested (tier %s, %d day(s)); waiting, polling every %s\n",
		len(st.Restored), len(volumes), c.objects[st.Restored[0]].StorageClass, cmp.Or(opt.tier, "Standard"), opt.days, opt.poll)
	wctx := ctx
	if opt.wait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, opt.wait)
		defer cancel()
	}
	if err := r.vol.WaitRestored(wctx, st.Restored, opt.poll); err != nil {
		return err
	}
	fmt.Fprintf(out, "  archived volumes are readable\n")
	return nil
}

// writeFile reads the volumes and writes the blocks at their offsets into a
// temporary file next to dest, checks the whole file and renames it to dest.
func writeFile(ctx context.Context, r *remote, bi *blockIndex, entry *fileEntry, dest string, volumes []string,
	byVolume map[string][]string, offsets map[string][]int64, out io.Writer) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Truncate(entry.Size); err != nil {
		return err
	}
	for _, v := range volumes {
		var buf bytes.Buffer
		if err := r.vol.Get(ctx, v, &buf); err != nil {
			return err
		}
		zr, err := openVolume(buf.Bytes(), bi.volumes[v])
		if err != nil {
			return err
		}
		files := make(map[string]*zip.File, len(zr.File))
		for _, zf := range zr.File {
			files[zf.Name] = zf
		}
		for _, h := range byVolume[v] {
			zf := files[h]
			if zf == nil {
				return fmt.Errorf("%s: block %.12s… is missing, though its index lists it", v, h)
			}
			data, err := readBlock(zf, bi.size[h])
			if err != nil {
				return fmt.Errorf("%s: %w", v, err)
			}
			for _, o := range offsets[h] {
				if _, err := tmp.WriteAt(data, o); err != nil {
					return err
				}
			}
		}
		fmt.Fprintf(out, "  read %s: %d block(s)\n", v, len(byVolume[v]))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, tmp); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != entry.SHA256 {
		return fmt.Errorf("%s: restored content hashes to %.12s…, the list says %.12s…", entry.Path, got, entry.SHA256)
	}
	if err := tmp.Chmod(fs.FileMode(entry.Mode).Perm()); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(tmp.Name(), entry.ModTime, entry.ModTime); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

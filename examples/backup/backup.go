package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// packOptions shape the volumes of a backup.
type packOptions struct {
	blockSize  int   // bytes per block; files are cut at fixed offsets
	volumeSize int64 // a volume is closed before it would grow past this
}

// backupStats is what one backup did.
type backupStats struct {
	Version   string // the dlist written
	Files     int
	Skipped   int   // not regular files
	Bytes     int64 // in the files
	Blocks    int   // in the files, duplicates included
	NewBlocks int   // uploaded
	NewBytes  int64 // in the new blocks
	Volumes   int   // uploaded
}

// backup stores dir as a new version. Blocks already in a volume of the
// destination (any earlier backup) or of this backup are not stored again:
// the dindex files say which blocks exist, so no local database is needed.
func backup(ctx context.Context, r *remote, dir string, opt packOptions, out io.Writer) (backupStats, error) {
	var st backupStats
	if opt.blockSize <= 0 || opt.volumeSize < int64(opt.blockSize) {
		return st, fmt.Errorf("block size %d and volume size %d: want 0 < block size <= volume size", opt.blockSize, opt.volumeSize)
	}
	if fi, err := os.Stat(dir); err != nil {
		return st, err
	} else if !fi.IsDir() {
		return st, fmt.Errorf("%s is not a directory", dir)
	}
	c, err := scan(ctx, r)
	if err != nil {
		return st, err
	}
	bi, err := loadIndexes(ctx, r, c)
	if err != nil {
		return st, err
	}
	for _, issue := range bi.issues {
		fmt.Fprintln(out, "warning:", issue)
	}
	for _, v := range bi.orphans {
		fmt.Fprintf(out, "warning: %s has no index (left by an interrupted backup?): its blocks are not reused\n", v)
	}
	p := &packer{r: r, opt: opt, out: out, st: &st, stored: bi.where, buf: make([]byte, opt.blockSize), cur: newVolumeWriter()}
	fmt.Fprintf(out, "backup %s: %d earlier version(s), %d blocks already stored in %d volume(s)\n",
		dir, len(c.lists), len(bi.where), len(bi.volumes))

	source, err := filepath.Abs(dir)
	if err != nil {
		return st, err
	}
	list := listFile{Format: formatVersion, Source: source, BlockSize: opt.blockSize, Files: []fileEntry{}}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			st.Skipped++
			fmt.Fprintf(out, "  skipped %s: not a regular file (%s)\n", filepath.ToSlash(rel), d.Type())
			return nil
		}
		e, err := p.addFile(ctx, path, filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		list.Files = append(list.Files, e)
		return nil
	})
	if err != nil {
		return st, err
	}
	if err := p.flush(ctx); err != nil {
		return st, err
	}

	// The version's time is now, or one second after the newest version,
	// so that names never collide and sort in backup order.
	list.Time = time.Now().UTC().Truncate(time.Second)
	if n := len(c.lists); n > 0 {
		if last, ok := listTime(c.lists[n-1]); ok && !list.Time.After(last) {
			list.Time = last.Add(time.Second)
		}
	}
	st.Version = listNameAt(list.Time)
	if err := putJSON(ctx, r.meta, st.Version, list); err != nil {
		return st, err
	}
	fmt.Fprintf(out, "backup %s: %d files (%d bytes, %d blocks), %d new blocks (%d bytes) in %d new volume(s), %d skipped\n",
		st.Version, st.Files, st.Bytes, st.Blocks, st.NewBlocks, st.NewBytes, st.Volumes, st.Skipped)
	return st, nil
}

// packer cuts files into blocks and packs the new ones into volumes.
type packer struct {
	r      *remote
	opt    packOptions
	out    io.Writer
	st     *backupStats
	stored map[string]string // block hash -> volume holding it
	cur    *volumeWriter
	buf    []byte
}

// addFile reads one file, packs its new blocks and returns its entry.
func (p *packer) addFile(ctx context.Context, path, rel string) (fileEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileEntry{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fileEntry{}, err
	}
	e := fileEntry{Path: rel, Mode: uint32(info.Mode().Perm()), ModTime: info.ModTime().UTC()}
	whole := sha256.New()
	for {
		n, err := io.ReadFull(f, p.buf)
		if n > 0 {
			block := p.buf[:n]
			whole.Write(block)
			h := hashHex(block)
			e.Blocks = append(e.Blocks, h)
			e.Size += int64(n)
			if err := p.addBlock(ctx, h, block); err != nil {
				return fileEntry{}, err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fileEntry{}, err
		}
	}
	e.SHA256 = hex.EncodeToString(whole.Sum(nil))
	p.st.Files++
	p.st.Bytes += e.Size
	p.st.Blocks += len(e.Blocks)
	return e, nil
}

// addBlock puts a block into the current volume unless it is stored already,
// first uploading the volume when the block would make it too big.
func (p *packer) addBlock(ctx context.Context, h string, block []byte) error {
	if _, ok := p.stored[h]; ok || p.cur.has[h] {
		return nil
	}
	// A block adds at most its size, deflate's 5 bytes per stored 64 KiB,
	// a local header, a data descriptor and a directory record.
	cost := int64(len(block)) + int64(len(block))/1000 + 256
	if len(p.cur.blocks) > 0 && p.cur.size()+cost > p.opt.volumeSize {
		if err := p.flush(ctx); err != nil {
			return err
		}
	}
	if _, err := p.cur.add(h, block); err != nil {
		return err
	}
	p.st.NewBlocks++
	p.st.NewBytes += int64(len(block))
	return nil
}

// flush uploads the current volume, then its index, and starts a new volume.
func (p *packer) flush(ctx context.Context) error {
	if len(p.cur.blocks) == 0 {
		return nil
	}
	volume, index := newVolumeNames()
	data, idx, err := p.cur.finish(volume)
	if err != nil {
		return err
	}
	if err := p.r.vol.Put(ctx, volume, bytes.NewReader(data)); err != nil {
		return err
	}
	if err := putJSON(ctx, p.r.meta, index, idx); err != nil {
		return err
	}
	for _, b := range idx.Blocks {
		p.stored[b.Hash] = volume
	}
	p.st.Volumes++
	class := p.r.class(volume, int64(len(data)))
	if class == "" {
		class = "the server's default class"
	}
	fmt.Fprintf(p.out, "  uploaded %s (%d blocks, %d bytes, %s) and its index\n", volume, len(idx.Blocks), len(data), class)
	p.cur = newVolumeWriter()
	return nil
}

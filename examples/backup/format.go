package main

// The remote format (see the package doc for the layout): names, the
// dindex and dlist documents, and zip volumes.

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"time"
)

const (
	formatVersion = 1
	timeLayout    = "20060102T150405Z"
)

// Object kinds, told apart by name.
const (
	kindOther = iota
	kindVolume
	kindIndex
	kindList
)

// volumePrefix starts every volume's name and no other name: index files
// start with s3dest-i, lists with s3dest- and a digit. S3 lifecycle rules
// pick objects by key prefix, so a rule for volumePrefix moves the
// volumes and nothing else (archiveRule).
const volumePrefix = "s3dest-b"

var (
	volumeName = regexp.MustCompile(`^` + volumePrefix + `([0-9a-f]{32})\.dblock\.zip$`)
	indexName  = regexp.MustCompile(`^s3dest-i([0-9a-f]{32})\.dindex\.json$`)
	listName   = regexp.MustCompile(`^s3dest-([0-9]{8}T[0-9]{6}Z)\.dlist\.json$`)
)

// kindOf tells what an object is from its name.
func kindOf(name string) int {
	switch {
	case volumeName.MatchString(name):
		return kindVolume
	case indexName.MatchString(name):
		return kindIndex
	case listName.MatchString(name):
		return kindList
	}
	return kindOther
}

// newVolumeNames returns the names of a new volume and its index.
func newVolumeNames() (volume, index string) {
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand doc)
	h := hex.EncodeToString(id[:])
	return volumePrefix + h + ".dblock.zip", "s3dest-i" + h + ".dindex.json"
}

func listNameAt(t time.Time) string { return "s3dest-" + t.UTC().Format(timeLayout) + ".dlist.json" }

// listTime is the time a dlist name carries.
func listTime(name string) (time.Time, bool) {
	m := listName.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(timeLayout, m[1])
	return t, err == nil
}

// indexFile is a dindex: what one volume holds.
type indexFile struct {
	Format       int        `json:"format"`
	Volume       string     `json:"volume"`
	VolumeSize   int64      `json:"volume_size"`
	VolumeSHA256 string     `json:"volume_sha256"`
	Blocks       []blockRef `json:"blocks"`
}

type blockRef struct {
	Hash string `json:"hash"`
	Size int64  `json:"size"`
}

// listFile is a dlist: one backup version.
type listFile struct {
	Format    int         `json:"format"`
	Time      time.Time   `json:"time"`
	Source    string      `json:"source"` // the directory backed up
	BlockSize int         `json:"block_size"`
	Files     []fileEntry `json:"files"`
}

type fileEntry struct {
	Path    string    `json:"path"` // slash-separated, relative to Source
	Size    int64     `json:"size"`
	Mode    uint32    `json:"mode"` // permission bits
	ModTime time.Time `json:"mtime"`
	SHA256  string    `json:"sha256"` // of the whole content
	Blocks  []string  `json:"blocks"` // block hashes, in file order
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// volumeWriter packs blocks into a zip volume in memory.
type volumeWriter struct {
	buf    bytes.Buffer
	zw     *zip.Writer
	blocks []blockRef
	has    map[string]bool
	last   int64 // bytes of the last block, which the compressor may hold
}

func newVolumeWriter() *volumeWriter {
	v := &volumeWriter{has: map[string]bool{}}
	v.zw = zip.NewWriter(&v.buf)
	return v
}

// add stores a block once; it reports whether the block was new here.
func (v *volumeWriter) add(hash string, data []byte) (bool, error) {
	if v.has[hash] {
		return false, nil
	}
	w, err := v.zw.CreateHeader(&zip.FileHeader{Name: hash, Method: zip.Deflate})
	if err != nil {
		return false, err
	}
	if _, err := w.Write(data); err != nil {
		return false, err
	}
	v.has[hash] = true
	v.last = int64(len(data))
	v.blocks = append(v.blocks, blockRef{Hash: hash, Size: int64(len(data))})
	return true, nil
}

// size bounds the size of the volume if it were finished now: the blocks
// before the last are compressed and written (once the zip writer's buffer
// is flushed), the last may still sit in the compressor and is counted
// whole, and the zip directory is yet to come.
func (v *volumeWriter) size() int64 {
	const dirEntry, dirEnd = 46 + 64, 22 // a directory record with a 64-byte name; the end record
	_ = v.zw.Flush()                     // into a bytes.Buffer: cannot fail
	return int64(v.buf.Len()) + v.last + int64(len(v.blocks))*dirEntry + dirEnd
}

// finish closes the zip and returns the volume and its index.
func (v *volumeWriter) finish(volume string) ([]byte, indexFile, error) {
	if err := v.zw.Close(); err != nil {
		return nil, indexFile{}, err
	}
	data := v.buf.Bytes()
	return data, indexFile{Format: formatVersion, Volume: volume, VolumeSize: int64(len(data)),
		VolumeSHA256: hashHex(data), Blocks: v.blocks}, nil
}

// openVolume checks a downloaded volume against its index and opens it.
func openVolume(data []byte, idx *indexFile) (*zip.Reader, error) {
	if int64(len(data)) != idx.VolumeSize {
		return nil, fmt.Errorf("%s: %d bytes, its index says %d", idx.Volume, len(data), idx.VolumeSize)
	}
	if got := hashHex(data); got != idx.VolumeSHA256 {
		return nil, fmt.Errorf("%s: SHA-256 %.12s…, its index says %.12s…", idx.Volume, got, idx.VolumeSHA256)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", idx.Volume, err)
	}
	return zr, nil
}

// readBlock reads one block of an open volume and checks its hash; size
// bounds what is decompressed.
func readBlock(zf *zip.File, size int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("block %.12s…: %w", zf.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return nil, fmt.Errorf("block %.12s…: %w", zf.Name, err)
	}
	if int64(len(data)) != size {
		return nil, fmt.Errorf("block %.12s…: %d bytes, the index says %d", zf.Name, len(data), size)
	}
	if got := hashHex(data); got != zf.Name {
		return nil, fmt.Errorf("block %.12s…: content hashes to %.12s…", zf.Name, got)
	}
	return data, nil
}

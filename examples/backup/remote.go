package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/s3dest/s3dest"
)

// remote is the backup destination with its storage-class policy: one
// function given to s3dest.WithStorageClassFunc decides the class of each
// upload from its name. meta and vol are the same Destination, named for
// what the code does with it.
type remote struct {
	meta  *s3dest.Destination // dindex and dlist: readable; also lists and reads
	vol   *s3dest.Destination // dblock volumes
	class func(name string, size int64) string
}

// openRemote opens the destination URL for a backup whose volumes go to
// volumeClass ("" for the URL's s3-storage-class).
func openRemote(ctx context.Context, rawURL, volumeClass string, opts ...s3dest.Option) (*remote, error) {
	u, err := s3dest.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	policy := classPolicy(u, volumeClass)
	d, err := s3dest.Open(ctx, rawURL, append(slices.Clone(opts), s3dest.WithStorageClassFunc(policy))...)
	if err != nil {
		return nil, err
	}
	return &remote{meta: d, vol: d, class: policy}, nil
}

// classPolicy returns the storage class of each upload: volumes go to
// volumeClass, else to the URL's class; index and list files to the URL's
// class unless it is an archive class, in which case to STANDARD, so that
// they stay readable without a restore.
func classPolicy(u *s3dest.URL, volumeClass string) func(name string, size int64) string {
	archive := func(class string) bool {
		if u.ArchiveClasses == nil {
			return s3dest.IsArchiveClass(class)
		}
		return slices.ContainsFunc(u.ArchiveClasses, func(c string) bool { return strings.EqualFold(c, class) })
	}
	meta := u.StorageClass
	if archive(meta) {
		meta = "STANDARD"
	}
	if volumeClass == "" {
		volumeClass = u.StorageClass
	}
	return func(name string, _ int64) string {
		if strings.HasSuffix(name, ".dblock.zip") {
			return volumeClass
		}
		return meta
	}
}

// catalog is what the destination holds, from one listing.
type catalog struct {
	objects map[string]s3dest.FileInfo
	volumes []string // sorted
	indexes []string
	lists   []string // oldest first
}

func scan(ctx context.Context, r *remote) (*catalog, error) {
	c := &catalog{objects: map[string]s3dest.FileInfo{}}
	for fi, err := range r.meta.List(ctx) {
		if err != nil {
			return nil, err
		}
		c.objects[fi.Name] = fi
		switch kindOf(fi.Name) {
		case kindVolume:
			c.volumes = append(c.volumes, fi.Name)
		case kindIndex:
			c.indexes = append(c.indexes, fi.Name)
		case kindList:
			c.lists = append(c.lists, fi.Name)
		}
	}
	return c, nil // List yields in key order: the slices are sorted
}

// blockIndex says where each stored block is.
type blockIndex struct {
	where   map[string]string     // block hash -> volume
	size    map[string]int64      // block hash -> size
	volumes map[string]*indexFile // volume -> its index
	issues  []string              // indexes without their volume, sizes that differ
	orphans []string              // volumes without an index
}

// loadIndexes reads every dindex (they are never archived). A block stored in
// several volumes is looked for in a readable one first. Indexes whose volume
// is gone or has another size are issues; volumes without an index, orphans.
func loadIndexes(ctx context.Context, r *remote, c *catalog) (*blockIndex, error) {
	bi := &blockIndex{where: map[string]string{}, size: map[string]int64{}, volumes: map[string]*indexFile{}}
	for _, name := range c.indexes {
		idx := new(indexFile)
		if err := getJSON(ctx, r.meta, name, idx); err != nil {
			return nil, err
		}
		if idx.Format > formatVersion {
			return nil, fmt.Errorf("%s has format %d; this program reads up to %d", name, idx.Format, formatVersion)
		}
		vfi, ok := c.objects[idx.Volume]
		switch {
		case !ok:
			bi.issues = append(bi.issues, fmt.Sprintf("%s: its volume %s is missing", name, idx.Volume))
			continue
		case vfi.Size != idx.VolumeSize:
			bi.issues = append(bi.issues, fmt.Sprintf("%s: %d bytes stored, its index says %d", idx.Volume, vfi.Size, idx.VolumeSize))
		}
		bi.volumes[idx.Volume] = idx
		for _, b := range idx.Blocks {
			if prev, ok := bi.where[b.Hash]; !ok || c.objects[prev].Archived && !vfi.Archived {
				bi.where[b.Hash] = idx.Volume
			}
			bi.size[b.Hash] = b.Size
		}
	}
	for _, v := range c.volumes {
		if bi.volumes[v] == nil {
			bi.orphans = append(bi.orphans, v)
		}
	}
	return bi, nil
}

// pickList returns the dlist for version: "" or "latest" for the newest, else
// a dlist name or the time it carries (20060102T150405Z).
func pickList(c *catalog, version string) (string, error) {
	if len(c.lists) == 0 {
		return "", fmt.Errorf("no backup found (no s3dest-*.dlist.json)")
	}
	if version == "" || version == "latest" {
		return c.lists[len(c.lists)-1], nil
	}
	for _, l := range c.lists {
		if l == version || strings.Contains(l, "-"+version+".") {
			return l, nil
		}
	}
	return "", fmt.Errorf("no backup version %q; there are %d, from %s to %s", version, len(c.lists), c.lists[0], c.lists[len(c.lists)-1])
}

func getJSON(ctx context.Context, d *s3dest.Destination, name string, v any) error {
	var buf bytes.Buffer
	if err := d.Get(ctx, name, &buf); err != nil {
		return err
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func putJSON(ctx context.Context, d *s3dest.Destination, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return d.Put(ctx, name, bytes.NewReader(append(data, '\n')))
}

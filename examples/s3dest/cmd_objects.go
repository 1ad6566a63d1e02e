package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
)

// ls prints the objects under the prefix, streaming: a JSON array is
// written element by element, so a huge listing never sits in memory.
func cmdLs(ctx context.Context, c *call) error {
	n := 0
	for fi, err := range c.dest.List(ctx) {
		if err != nil {
			if c.o.json && n > 0 {
				fmt.Fprintln(c.stdout, "\n]")
			}
			return err
		}
		switch {
		case !c.o.json:
			fmt.Fprintln(c.stdout, lsLine(fi))
		case n == 0:
			fmt.Fprint(c.stdout, "[\n  ")
		default:
			fmt.Fprint(c.stdout, ",\n  ")
		}
		if c.o.json {
			b, _ := jsonIndent(toJSON(fi), "  ")
			c.stdout.Write(b)
		}
		n++
	}
	if c.o.json {
		if n == 0 {
			fmt.Fprintln(c.stdout, "[]")
		} else {
			fmt.Fprintln(c.stdout, "\n]")
		}
	}
	return nil
}

func cmdStat(ctx context.Context, c *call) error {
	fi, err := c.dest.Stat(ctx, c.args[0])
	if err != nil {
		return c.pastNotFound(c.args[0], err)
	}
	if c.o.json {
		writeJSON(c.stdout, toJSON(fi))
		return nil
	}
	st := state(fi)
	if st == "" {
		st = "readable"
	}
	if fi.Archived {
		st += " (restore it before reading it)"
	}
	w := c.stdout
	fmt.Fprintf(w, "name:          %s\n", fi.Name)
	fmt.Fprintf(w, "size:          %d (%s)\n", fi.Size, human(fi.Size))
	fmt.Fprintf(w, "modified:      %s\n", stamp(fi.ModTime))
	fmt.Fprintf(w, "etag:          %s\n", fi.ETag)
	fmt.Fprintf(w, "storage class: %s\n", fi.StorageClass)
	if fi.Checksum != "" {
		fmt.Fprintf(w, "checksum:      %s\n", fi.Checksum)
	}
	fmt.Fprintf(w, "state:         %s\n", st)
	return nil
}

// put uploads a local file, or stdin for "-". A regular file goes as
// itself so that the library knows its length (one PUT when it fits in a
// part); a pipe streams in parts.
func cmdPut(ctx context.Context, c *call) error {
	local := c.args[0]
	name := filepath.Base(local)
	if len(c.args) > 1 {
		name = c.args[1]
	} else if local == "-" {
		return usagef("give the object's name when reading stdin: s3dest put URL - name")
	}
	var r io.Reader
	var size int64 = -1
	if local == "-" {
		r = c.stdin
		if f, ok := c.stdin.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				size = fi.Size()
			}
		}
	} else {
		f, err := os.Open(local)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return usagef("%s is a directory: put takes one file", local)
		}
		r, size = f, fi.Size()
	}
	cr := &countingReader{r: r}
	if size < 0 {
		r = cr
	}
	if err := c.dest.Put(ctx, name, r); err != nil {
		return err
	}
	c.bar.finish()
	if size < 0 {
		size = cr.n
	}
	class := c.dest.StorageClass()
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"name": name, "size": size, "storage_class": class})
		return nil
	}
	if class == "" {
		fmt.Fprintf(c.stdout, "put %s: %s (the server's default storage class)\n", name, human(size))
		return nil
	}
	fmt.Fprintf(c.stdout, "put %s: %s (storage class %s)\n", name, human(size), class)
	return nil
}

// get downloads an object to a local file (by default its base name in
// the current directory) or to stdout for "-". A file is written under a
// temporary name and renamed when the object is complete and its checksum
// matched, so a failed download never leaves a truncated file behind.
func cmdGet(ctx context.Context, c *call) error {
	name := c.args[0]
	local := path.Base(name)
	if len(c.args) > 1 {
		local = c.args[1]
	}
	if local == "-" {
		err := c.read(ctx, name, c.stdout)
		c.bar.finish()
		return err
	}
	if fi, err := os.Stat(local); err == nil && fi.IsDir() {
		local = filepath.Join(local, path.Base(name))
	}
	tmp, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".s3dest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	cw := &countingWriter{w: tmp}
	err = c.read(ctx, name, cw)
	c.bar.finish()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return err
	}
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"name": name, "size": cw.n, "file": local})
		return nil
	}
	fmt.Fprintf(c.stdout, "got %s: %s, into %s\n", name, human(cw.n), local)
	return nil
}

// rm deletes objects in batches. As with S3's DELETE, a name that does not
// exist counts as deleted.
func cmdRm(ctx context.Context, c *call) error {
	if err := c.dest.DeleteMany(ctx, c.args); err != nil {
		return err
	}
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"removed": c.args})
		return nil
	}
	for _, n := range c.args {
		fmt.Fprintf(c.stdout, "removed %s\n", n)
	}
	return nil
}

func cmdMv(ctx context.Context, c *call) error {
	from, to := c.args[0], c.args[1]
	if err := c.dest.Rename(ctx, from, to); err != nil {
		return err
	}
	if c.o.json {
		writeJSON(c.stdout, map[string]any{"from": from, "to": to})
		return nil
	}
	fmt.Fprintf(c.stdout, "renamed %s to %s\n", from, to)
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

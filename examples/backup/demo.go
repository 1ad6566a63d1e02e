package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/s3dest/s3dest/s3test"
)

// demo runs every command on an in-process fake S3 server that simulates
// archive tiers: volumes go to DEEP_ARCHIVE, verify skips them, and restore
// restores the ones a file needs (the fake completes a restore after a few
// polls instead of hours).
func demo(ctx context.Context, out io.Writer) error {
	srv := s3test.NewServer()
	defer srv.Close()
	srv.RestorePolls = 3
	if err := srv.CreateBucket("backups"); err != nil {
		return err
	}
	rawURL := srv.URL("backups", "laptop")
	fmt.Fprintln(out, "fake S3 server at", srv.Endpoint)

	dir, err := os.MkdirTemp("", "s3dest-backup-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	photo := make([]byte, 200<<10)
	_, _ = rand.Read(photo)
	notes := strings.Repeat("Remember: a backup you have not restored is a hope, not a backup.\n", 300)
	files := map[string][]byte{
		"notes.txt":           []byte(notes),
		"old/notes-copy.txt":  []byte(notes), // the same blocks: stored once
		"photos/holiday.jpg":  photo,         // bigger than a volume
		"docs/empty-file.txt": nil,
	}
	if err := writeTree(dir, files); err != nil {
		return err
	}
	pack := packOptions{blockSize: 16 << 10, volumeSize: 64 << 10}
	r, err := openRemote(ctx, rawURL, "DEEP_ARCHIVE")
	if err != nil {
		return err
	}
	step := func(cmd string) { fmt.Fprintf(out, "\n$ backup %s\n", cmd) }
	short := "s3://backups/laptop"

	step("backup " + dir + " " + short + " --volume-class DEEP_ARCHIVE --block-size 16KiB --volume-size 64KiB")
	if _, err := backup(ctx, r, dir, pack, out); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(notes+"One more line.\n"), 0o644); err != nil {
		return err
	}
	step("backup " + dir + " " + short + " ...   # notes.txt changed: only its last block is new")
	if _, err := backup(ctx, r, dir, pack, out); err != nil {
		return err
	}
	step("list " + short)
	if err := listBackups(ctx, r, "", out); err != nil {
		return err
	}
	step("verify " + short + " --sample 3")
	if _, err := verify(ctx, r, 3, out); err != nil {
		return err
	}
	dest := filepath.Join(dir, "restored.jpg")
	step("restore " + short + " photos/holiday.jpg " + dest + " --poll 20ms")
	opt := restoreOptions{tier: "Bulk", days: 1, poll: 20 * time.Millisecond, wait: time.Minute}
	if _, err := restoreFile(ctx, r, "photos/holiday.jpg", dest, opt, out); err != nil {
		return err
	}
	got, err := os.ReadFile(dest)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, photo) {
		return fmt.Errorf("the restored photo differs from the original")
	}
	fmt.Fprintln(out, "the restored file is identical to the original")
	step("verify " + short + " --sample 0   # the restored volumes are readable for a day")
	if _, err := verify(ctx, r, 0, out); err != nil {
		return err
	}
	return nil
}

// writeTree creates files (slash-separated paths) under dir.
func writeTree(dir string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

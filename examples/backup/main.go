// Command backup is a small backup program on top of s3dest: the case the
// library exists for. It packs a directory into content volumes, volume
// indexes and a file list, the way Duplicati does with its dblock, dindex
// and dlist files (simplified), and stores them with a storage-class policy:
// volumes may go to an archive class, while index and list files stay
// readable.
//
//	go run ./examples/backup                       # demo on an in-process fake S3
//	go run ./examples/backup backup DIR URL [--volume-class DEEP_ARCHIVE] [--archive-after DAYS] [--block-size 1MiB] [--volume-size 50MiB]
//	go run ./examples/backup list URL [--version TIME] [--at TIME]
//	go run ./examples/backup verify URL [--sample N]
//	go run ./examples/backup restore URL FILE DEST [--version TIME] [--at TIME] [--tier Bulk] [--days N] [--poll 1m]
//
// URL is a destination URL in Duplicati's grammar, for example
// s3://my-bucket/laptop?s3-location-constraint=eu-west-1&aws-access-key-id=...&aws-secret-access-key=...
//
// # What it does
//
// backup cuts files into blocks at fixed offsets and stores each distinct
// block once, whichever file or backup it comes from: the indexes say which
// blocks are stored, so no local database is needed, and a second backup of
// an unchanged directory uploads no volume. Volumes go to --volume-class (else
// the URL's s3-storage-class); index and list files go to the URL's class,
// or STANDARD when that is an archive class.
//
// --archive-after DAYS is the other way to archive volumes, the one
// Duplicati's documentation describes: volumes are uploaded readable, and
// a lifecycle rule of the bucket moves them to --archive-class (default
// DEEP_ARCHIVE) DAYS days later, so that recent volumes can still be
// verified and restored at once. Every object lives in one folder, and S3
// picks a rule's objects by key prefix (or by tags and size, which say
// nothing of what an object is: a size filter would catch big indexes and
// miss small volumes), so the rule is scoped to the prefix and "s3dest-b",
// which every volume name starts with and no other name does. Moving
// volumes to a folder of their own would change the layout, and every
// existing backup with it. Backup sets the rule each time it is given
// (s3dest writes nothing when it is as asked); 0 leaves the bucket's rules
// as they are, and "s3dest lifecycle URL 0 --names s3dest-b" removes it.
// Servers without lifecycle transitions (versitygw, SeaweedFS, rclone
// serve s3) refuse it before anything is uploaded.
//
// verify never restores, like Duplicati's: it checks that every version finds
// its blocks in the indexes and every volume has its indexed size, then
// downloads a random sample of the readable volumes and checks each block.
// Archived volumes are skipped, and it says how many and why.
//
// restore reads the list and the indexes (always readable), finds the
// volumes that hold the file's blocks, restores the archived ones among
// them and waits until they are readable, then downloads them, checks every
// block's SHA-256 and the file's, and writes the file. With --at it reads
// the backup as it stood at that time, from a versioned bucket's old
// versions: what ransomware or a bad prune has overwritten or deleted
// since is read back, never written (list --at shows what was there).
//
// # Remote layout
//
// Every object lives directly under the destination's prefix:
//
//	s3dest-b<id>.dblock.zip   a volume: a zip whose entries are blocks, each
//	                          named by the hex SHA-256 of its content
//	s3dest-i<id>.dindex.json  the volume's index: its name, size and SHA-256,
//	                          and the hash and size of every block in it
//	s3dest-<time>.dlist.json  one backup version: every file with its path,
//	                          size, mode, time, SHA-256 and block hashes
//
// <id> is 32 random hex digits, shared by a volume and its index; <time> is
// the backup's UTC time, 20060102T150405Z, so versions sort by name. The
// names say s3dest, not duplicati: the content is not Duplicati's format,
// and Duplicati must not take these files for its own.
//
// A volume is uploaded before its index, and the indexes before the list,
// so a list never names a block that is not stored. An interrupted backup
// leaves at most a volume without an index; the next backup warns about it
// and uploads its blocks again.
//
// # Left out
//
// Kept small on purpose: no encryption, no deletion of old versions or
// compaction of volumes, fixed-size blocks (an insertion shifts every later
// block), regular files only (symbolic links and empty directories are not
// kept), volumes built in memory, and every backup reads all indexes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/s3dest/s3dest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  backup                                  run the demo on an in-process fake S3
  backup demo                             the same
  backup backup DIR URL [flags]           back up a directory (--archive-after DAYS: archive volumes later)
  backup list URL [--version V] [--at T]  list versions, volumes and files
  backup verify URL [--sample N]          check the backup; archived volumes are skipped
  backup restore URL FILE DEST [flags]    restore one file (restoring archived volumes first);
                                          --at T restores it as the backup stood at time T

URL is an s3:// destination URL, as Duplicati writes it. Flags may come before
or after the arguments; run a command with -h for its flags.
`

// run executes one command and returns the exit code: 0 success, 1 failure
// (verify found problems, or an error), 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"demo"}
	}
	cmd, args := args[0], args[1:]
	fset := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fset.SetOutput(stderr)
	verbose := fset.Bool("verbose", false, "log what the library decides (regions, restores) to stderr")
	// open opens the destination, read when the command runs, after -verbose.
	open := func(rawURL, volumeClass string, opts ...s3dest.Option) (*remote, error) {
		if *verbose {
			opts = append(opts, s3dest.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
		}
		return openRemote(ctx, rawURL, volumeClass, opts...)
	}
	var nargs int
	var act func(pos []string) error
	switch cmd {
	case "demo":
		act = func([]string) error { return demo(ctx, stdout) }
	case "backup":
		block, volume := sizeFlag(1<<20), sizeFlag(50<<20)
		fset.Var(&block, "block-size", "block size, such as 1MiB or 100KiB")
		fset.Var(&volume, "volume-size", "largest volume, such as 50MiB")
		class := fset.String("volume-class", "", "storage class of volumes, such as DEEP_ARCHIVE or GLACIER (default: the URL's s3-storage-class)")
		create := fset.Bool("create-bucket", false, "create the bucket when it is missing")
		archiveAfter := fset.Int("archive-after", 0, "days after upload when a lifecycle rule moves volumes to --archive-class (0: leave the bucket's rules as they are)")
		archiveClass := fset.String("archive-class", "DEEP_ARCHIVE", "storage class the --archive-after rule moves volumes to")
		nargs, act = 2, func(pos []string) error {
			if *archiveAfter < 0 {
				return usageError(fmt.Sprintf("--archive-after %d: give a number of days, or 0", *archiveAfter))
			}
			r, err := open(pos[1], *class, s3dest.WithCreateBucket(*create))
			if err != nil {
				return err
			}
			if *archiveAfter > 0 {
				if err := archiveRule(ctx, r, *archiveAfter, *archiveClass, stdout); err != nil {
					return err
				}
			}
			_, err = backup(ctx, r, pos[0], packOptions{blockSize: int(block), volumeSize: int64(volume)}, stdout)
			return err
		}
	case "list":
		version := fset.String("version", "", "version to show the files of: a dlist name or its time (default: the latest)")
		at := fset.String("at", "", "list the backup as it stood at this RFC 3339 time (a versioned bucket)")
		nargs, act = 1, func(pos []string) error {
			view, err := atOptions(*at, stdout)
			if err != nil {
				return err
			}
			r, err := open(pos[0], "", view...)
			if err != nil {
				return err
			}
			return listBackups(ctx, r, *version, stdout)
		}
	case "verify":
		sample := fset.Int("sample", 3, "how many readable volumes to download and check (0: all)")
		nargs, act = 1, func(pos []string) error {
			r, err := open(pos[0], "")
			if err != nil {
				return err
			}
			_, err = verify(ctx, r, *sample, stdout)
			return err
		}
	case "restore":
		var opt restoreOptions
		fset.StringVar(&opt.version, "version", "", "version to restore from: a dlist name or its time (default: the latest)")
		fset.StringVar(&opt.tier, "tier", "Standard", "retrieval tier for archived volumes: Standard, Bulk or Expedited")
		fset.IntVar(&opt.days, "days", 1, "days restored volumes stay readable")
		fset.DurationVar(&opt.poll, "poll", time.Minute, "how often to look at restores in progress")
		fset.DurationVar(&opt.wait, "wait", 48*time.Hour, "longest wait for restores (Deep Archive takes up to 12h, Bulk 48h); 0: no limit")
		at := fset.String("at", "", "restore as the backup stood at this RFC 3339 time, such as 2026-11-25T12:00:00Z: "+
			"what was overwritten or deleted since is read from the bucket's old versions (a versioned bucket)")
		nargs, act = 3, func(pos []string) error {
			view, err := atOptions(*at, stdout)
			if err != nil {
				return err
			}
			r, err := open(pos[0], "", view...)
			if err != nil {
				return err
			}
			_, err = restoreFile(ctx, r, pos[1], pos[2], opt, stdout)
			return err
		}
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n%s", cmd, usage)
		return 2
	}
	pos, err := parseArgs(fset, args, nargs)
	if err == nil {
		err = act(pos)
	}
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %v\n%s", cmd, err, usage)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	return 0
}

type usageError string

func (e usageError) Error() string { return string(e) }

// parseArgs parses flags placed anywhere among the arguments, and wants
// exactly n positional arguments.
func parseArgs(fset *flag.FlagSet, args []string, n int) ([]string, error) {
	var pos []string
	for {
		if err := fset.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError(err.Error())
		}
		rest := fset.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...) // after "--", all are arguments
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != n {
		return nil, usageError(fmt.Sprintf("want %d argument(s), got %d", n, len(pos)))
	}
	return pos, nil
}

// sizeFlag is a byte count written as 1048576, 1MiB, 100KiB, 50MB, 2G ...
// (all suffixes are powers of 1024, as in Duplicati).
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	num := strings.TrimRightFunc(strings.ToLower(v), func(r rune) bool { return r >= 'a' && r <= 'z' })
	unit := strings.ToLower(v[len(num):])
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || mult == 0 || n <= 0 || n > (1<<40)/mult {
		return fmt.Errorf("%q is not a size such as 1048576, 100KiB or 50MiB", v)
	}
	*s = sizeFlag(n * mult)
	return nil
}

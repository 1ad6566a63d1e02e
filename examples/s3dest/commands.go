package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// commands is the command table, in the order help lists them.
func commands() []*command {
	return []*command{
		{name: "test", args: "URL", max: 0, run: cmdTest,
			summary: "test the connection; offer to create a missing bucket",
			detail: `Lists the bucket once, as Duplicati's "Test connection" does. When the bucket
does not exist, it asks on the terminal whether to create it in the
destination's region, creates it and tests again. --create answers yes for
scripts; without a terminal, or with --json, it asks nothing and exits 3
unless --create is given. --write also puts a small probe object, reads it
back and deletes it.`,
			flags: func(fs *flag.FlagSet, o *opts) {
				fs.BoolVar(&o.create, "create", false, "create the bucket without asking when it does not exist")
				fs.BoolVar(&o.write, "write", false, "also write, read back and delete a probe object")
			}},
		{name: "mb", args: "URL", max: 0, run: cmdMb,
			summary: "make the bucket, in the region of s3-location-constraint",
			detail: `Creates the bucket in the destination's region (s3-location-constraint, or the
region its server name implies, else us-east-1). A bucket you can list
already is left as it is.`},
		{name: "ls", args: "URL", max: 0, run: cmdLs,
			summary: "list the objects under the prefix",
			detail: `Lists the objects directly under the prefix (every key below it with
s3-recursive-list): modification time, size, storage class, name, and the
archive state of archived, restoring and restored objects. --json prints an
array of objects with name, size, modified, etag, storage_class, archived,
restoring and restored_until. --at lists the objects as they stood at a
time, in a versioned bucket: those deleted since are back, those created
since are not, and each shows the version current then.`,
			flags: atFlag},
		{name: "stat", args: "URL name", min: 1, max: 1, run: cmdStat,
			summary: "show one object: size, time, class, checksum, archive state",
			detail: `Shows one object from a HEAD request. --json prints the same fields as ls --json, plus checksum.
--at shows the version that was current at a time, in a versioned bucket.`,
			flags: atFlag},
		{name: "put", args: "URL localfile [name]", min: 1, max: 2, run: cmdPut,
			summary: "upload a file (\"-\" reads stdin); name defaults to its base name",
			detail: `Uploads localfile as the object name (by default the file's base name). With
"-" it reads stdin, and the name must be given. Large files go up in parts,
several at a time; a failed upload leaves nothing behind.`,
			flags: func(fs *flag.FlagSet, o *opts) {
				fs.StringVar(&o.storageClass, "storage-class", "", "storage class for the upload (overrides s3-storage-class), e.g. GLACIER")
				fs.StringVar(&o.partSize, "part-size", "", "size of upload parts, 5MiB to 5GiB (default 16MiB)")
				fs.IntVar(&o.concurrency, "concurrency", 0, "parts sent at the same time, 1 to 64 (default 4)")
			}},
		{name: "get", args: "URL name [localfile|-]", min: 1, max: 2, run: cmdGet,
			summary: "download an object (\"-\" writes stdout); file defaults to its base name",
			detail: `Downloads the object into localfile (by default its base name in the current
directory; a directory gets the base name inside it), or to stdout with "-".
The file is written under a temporary name and renamed once the data has
matched the object's checksum. An archived object fails with exit code 4.
In a versioned bucket, --version downloads one version ('s3dest versions'
lists the ids), and --at the version that was current at a time: the bytes
an object had before it was overwritten or deleted.`,
			flags: versionFlags},
		{name: "rm", args: "URL name...", min: 1, max: -1, run: cmdRm,
			summary: "delete objects",
			detail:  `Deletes the objects, up to 1,000 per request. As with S3's DELETE, a name that does not exist counts as deleted.`},
		{name: "mv", args: "URL from to", min: 2, max: 2, run: cmdMv,
			summary: "rename an object (server-side copy, keeps its storage class)",
			detail:  `Renames an object: a copy on the server that keeps its storage class and metadata, then a delete. Archived objects cannot be renamed (exit code 4).`},
		{name: "restore", args: "URL name...", min: 1, max: -1, run: cmdRestore,
			summary: "ask for readable copies of archived objects",
			detail: `Asks the server to restore each archived object (GLACIER, DEEP_ARCHIVE, ...)
for --days days at the --tier retrieval speed, and says what it found:
requested, already in progress, not archived, or restored. Objects that need
nothing get no request. Use 's3dest wait' to wait for the copies.`,
			flags: func(fs *flag.FlagSet, o *opts) {
				fs.IntVar(&o.days, "days", 7, "days the restored copy stays readable")
				fs.StringVar(&o.tier, "tier", "Standard", "retrieval tier: Standard, Bulk or Expedited (not for DEEP_ARCHIVE)")
			}},
		{name: "wait", args: "URL name...", min: 1, max: -1, run: cmdWait,
			summary: "wait until restored objects are readable",
			detail: `Checks every --poll until every object is readable. It fails at once (exit
code 4) when an object is archived with no restore under way.`,
			flags: func(fs *flag.FlagSet, o *opts) {
				fs.DurationVar(&o.poll, "poll", time.Minute, "time between checks")
				fs.DurationVar(&o.timeout, "timeout", 0, "give up after this long (0: never)")
			}},
		{name: "versions", args: "URL name", min: 1, max: 1, run: cmdVersions,
			summary: "list an object's versions and delete markers, newest first",
			detail: `Lists every version and delete marker of the object in a versioned bucket,
newest first: time, size, storage class, version id, and which is the
latest. A delete marker is what a delete leaves in front of the versions;
when it is the latest, the object reads as deleted. 's3dest get --version ID'
downloads a version, 's3dest ls --at TIME' lists the bucket as it stood at a
time. --json prints an array of objects with version_id, modified, size,
storage_class, latest, delete_marker and archived.`},
		{name: "cleanup", args: "URL", max: 0, run: cmdCleanup,
			summary: "abort multipart uploads abandoned under the prefix",
			detail: `Aborts the multipart uploads under the prefix that started more than
--older-than ago, such as those a crashed program left behind: their parts
are stored, and billed, until then. --older-than 0 aborts them all,
including uploads in progress.`,
			flags: func(fs *flag.FlagSet, o *opts) {
				fs.DurationVar(&o.olderThan, "older-than", 24*time.Hour, "abort uploads started more than this long ago")
			}},
		{name: "lifecycle", args: "URL [DAYS CLASS]", max: 2, run: cmdLifecycle,
			summary: "show or set the rule that archives objects DAYS days after upload",
			detail: `Without DAYS, shows the lifecycle rule s3dest keeps for the prefix: after how
many days objects move to which storage class. With DAYS and CLASS, sets it:
objects under the prefix move to CLASS (such as GLACIER or DEEP_ARCHIVE)
DAYS days after their upload; DAYS 0 removes the rule, and CLASS may then be
left out. The bucket's other rules are kept. --names limits the rule to the
names that start with a string: --names duplicati-b moves only Duplicati's
data files, as its documentation advises, and keeps the index and list
files readable. A server without lifecycle transitions fails with
not_supported (exit code 1). --json prints bucket, prefix, names, days,
storage_class, and when setting, changed.`,
			flags: func(fs *flag.FlagSet, o *opts) {
				fs.StringVar(&o.names, "names", "", "the rule applies to the names that start with this, such as duplicati-b")
			}},
		{name: "demo", max: 0, noURL: true, run: cmdDemo,
			summary: "run a short session against a built-in fake S3 server",
			detail: `Starts an in-process fake S3 server and runs a scripted session on it: make
a bucket, upload, list, download, then an object in GLACIER that must be
restored and waited for before it can be read. No account or network needed.`},
		{name: "help", args: "[command]", max: 1, noURL: true, run: cmdHelp,
			summary: "show this help, or one command's"},
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// newFlagSet returns the command's flags, the common ones included.
func newFlagSet(cmd *command, o *opts) *flag.FlagSet {
	fs := flag.NewFlagSet("s3dest "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.json, "json", false, "print results on stdout, and errors on stderr, as JSON")
	fs.BoolVar(&o.verbose, "v", false, "log to stderr what the library decides by itself (region found, ...)")
	if cmd.flags != nil {
		cmd.flags(fs, o)
	}
	return fs
}

func cmdHelp(_ context.Context, c *call) error {
	if len(c.args) == 0 {
		fmt.Fprint(c.stdout, longHelp())
		return nil
	}
	cmd := findCommand(c.args[0])
	if cmd == nil {
		return usagef("no command %q: 's3dest help' lists them", redact(c.args[0]))
	}
	c.commandHelp(c.stdout, cmd)
	return nil
}

// commandHelp prints one command's usage, description and flags.
func (a *app) commandHelp(w io.Writer, cmd *command) {
	fs := newFlagSet(cmd, &opts{})
	fmt.Fprintf(w, "usage: s3dest %s [flags] %s\n\n", cmd.name, cmd.args)
	fmt.Fprintf(w, "%s\n", cmd.detail)
	if !cmd.noURL {
		fmt.Fprint(w, "\nURL is the destination URL; without one, S3DEST_URL is used. 's3dest help'\nlists its options and the exit codes.\n")
	}
	fmt.Fprint(w, "\nflags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name
		}
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "%-24s %s\n", line, usage)
	})
}

// commandList is the command summary for the help texts.
func commandList() string {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %-24s %s\n", c.name, c.args, c.summary)
	}
	return b.String()
}

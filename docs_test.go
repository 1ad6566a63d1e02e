package s3dest_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The commands the README and the docs show run from a fresh clone: every
// path they name (go run ./x, bash .ci/x, cd x, go test ./x) exists, every
// go run names a main package, and every fuzz target and benchmark they
// name is defined. Commands that need the network or an install (go get,
// go install, the s3dest binary) are left out.
func TestDocsCommandsExist(t *testing.T) {
	docs, _ := filepath.Glob("docs/*.md")
	examples, _ := filepath.Glob("examples/*/README.md")
	docs = append(append([]string{"README.md"}, docs...), examples...)
	checked := 0
	for _, doc := range docs {
		for _, block := range commandBlocks(t, doc) {
			cwd := "."
			for _, line := range block {
				line = strings.NewReplacer("(", " ", ")", " ").Replace(line) // subshells
				for _, cmd := range regexp.MustCompile(`;|&&`).Split(line, -1) {
					if checkCommand(t, doc, &cwd, strings.Fields(cmd)) {
						checked++
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked %d commands in %v: the docs were not read", checked, docs)
	}
}

// commandBlocks returns the shell lines of doc: those in ```sh fences and
// indented ones starting with go, bash or cd; a block keeps its cd's.
func commandBlocks(t *testing.T, doc string) [][]string {
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]string
	var cur []string
	inSh := false
	flush := func() {
		if cur != nil {
			blocks = append(blocks, cur)
			cur = nil
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
		case strings.HasPrefix(line, "```"):
			inSh = false
			flush()
		case inSh:
			cur = append(cur, stripComment(line))
		case strings.HasPrefix(line, "    ") && regexp.MustCompile(`^\s+(go|bash|cd) `).MatchString(line):
			cur = append(cur, stripComment(line))
		default:
			if !strings.HasPrefix(line, "    ") {
				flush()
			}
		}
	}
	flush()
	return blocks
}

func stripComment(line string) string {
	if i := strings.Index(line, " #"); i >= 0 {
		return line[:i]
	}
	return line
}

// checkCommand checks one command's paths and names; it reports whether
// it checked anything.
func checkCommand(t *testing.T, doc string, cwd *string, f []string) bool {
	if len(f) == 0 || *cwd == "" {
		return false // nothing, or after a cd outside the repository
	}
	at := func(p string) string { return filepath.Join(*cwd, p) }
	exists := func(p string) {
		if _, err := os.Stat(at(p)); err != nil {
			t.Errorf("%s: %q names %s, which does not exist (from %s)", doc, strings.Join(f, " "), p, *cwd)
		}
	}
	switch {
	case f[0] == "cd" && len(f) == 2 && filepath.IsAbs(f[1]):
		*cwd = "" // made by an earlier command (a worktree, a temp dir)
		return false
	case f[0] == "cd" && len(f) == 2:
		exists(f[1])
		*cwd = at(f[1])
	case f[0] == "bash" && len(f) >= 2:
		exists(f[1])
		if len(f) >= 3 && f[2] == "go" {
			return checkCommand(t, doc, cwd, f[2:])
		}
	case f[0] == "go" && len(f) >= 3 && f[1] == "run":
		pkg := f[2]
		if !strings.HasPrefix(pkg, ".") {
			return false
		}
		exists(pkg)
		if !hasMain(at(pkg)) {
			t.Errorf("%s: go run %s: no main package there", doc, pkg)
		}
	case f[0] == "go" && len(f) >= 2 && f[1] == "test":
		pkg := f[len(f)-1]
		if strings.HasPrefix(pkg, ".") {
			exists(strings.TrimSuffix(pkg, "..."))
		}
		for i, a := range f {
			if (a == "-fuzz" || a == "-bench") && i+1 < len(f) {
				name := strings.Trim(f[i+1], `'"^$`)
				if name != "." && !definedIn(at(strings.TrimSuffix(pkg, "...")), name) {
					t.Errorf("%s: %s %s: no such function in %s", doc, a, name, pkg)
				}
			}
		}
	default:
		return false
	}
	return true
}

func hasMain(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.HasPrefix(string(b), "package main") || strings.Contains(string(b), "\npackage main") {
			return true
		}
	}
	return false
}

// definedIn reports whether a Go function whose name starts with name is
// defined in dir's files.
func definedIn(dir, name string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "func "+name) {
			return true
		}
	}
	return false
}

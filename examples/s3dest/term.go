package main

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal: an *os.File on which the
// terminal ioctls work. A character device is not enough: /dev/null, the
// stdin of cron, systemd and most CI runners, is one too. It is a variable
// so that tests can stand in for a terminal without a pty.
var isTerminal = func(f any) bool {
	file, ok := f.(*os.File)
	return ok && file != nil && term.IsTerminal(int(file.Fd()))
}

// terminalWidth is the width of the terminal f, or 80 when it cannot be
// told. Like isTerminal, tests may replace it.
var terminalWidth = func(f any) int {
	if file, ok := f.(*os.File); ok && file != nil {
		if w, _, err := term.GetSize(int(file.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

package main

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// openPty opens a pseudo-terminal pair, or skips the test where the
// machine has none (a container without /dev/pts).
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	ioctl := func(req uintptr, arg unsafe.Pointer) error {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), req, uintptr(arg)); e != 0 {
			return e
		}
		return nil
	}
	var unlock int32
	var n uint32
	if err := ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Skipf("no pty: unlockpt: %v", err)
	}
	if err := ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Skipf("no pty: ptsname: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestIsTerminalPty: a real terminal is one, without a stand-in, and its
// width is the one it was given.
func TestIsTerminalPty(t *testing.T) {
	_, slave := openPty(t)
	if !isTerminal(slave) {
		t.Errorf("isTerminal(%s) = false", slave.Name())
	}
	ws := struct{ row, col, x, y uint16 }{row: 30, col: 123}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, slave.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws))); e != 0 {
		t.Fatalf("TIOCSWINSZ: %v", e)
	}
	if got := terminalWidth(slave); got != 123 {
		t.Errorf("terminalWidth of a 123-column pty = %d", got)
	}
	if got := terminalWidth(devNull(t)); got != 80 {
		t.Errorf("terminalWidth(/dev/null) = %d, want the default 80", got)
	}
}

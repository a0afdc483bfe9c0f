package launch

import (
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// saveTerminal records the modes of the terminal on f, if it is one —
// echo, canonical mode and the rest of termios, and exclusive mode — and
// returns what puts them back, for when the agent has ended however it
// ended: an agent that turned echo off or took the terminal exclusively
// (TIOCEXCL) and then died must not leave the user's shell that way.
func saveTerminal(f *os.File) (restore func()) {
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return func() {}
	}
	exclusive, err := unix.IoctlGetInt(fd, unix.TIOCGEXCL)
	return func() {
		_ = term.Restore(fd, state)
		if err == nil && exclusive == 0 {
			_ = unix.IoctlSetInt(fd, unix.TIOCNXCL, 0)
		}
	}
}

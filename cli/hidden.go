package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// echoOff turns the terminal's echo off, keeping line editing and Ctrl-C,
// and returns what restores it. Ctrl-C meanwhile restores the terminal and
// ends the process with status 130, so the shell is not left silent.
func echoOff(fd int, stderr io.Writer) (restore func(), err error) {
	saved, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, fmt.Errorf("reading the terminal's settings: %v", err)
	}
	hidden := *saved
	hidden.Lflag &^= unix.ECHO
	hidden.Lflag |= unix.ICANON | unix.ISIG
	hidden.Iflag |= unix.ICRNL
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt)
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &hidden); err != nil {
		signal.Stop(interrupted)
		return nil, fmt.Errorf("turning the terminal's echo off: %v", err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-interrupted:
			_ = unix.IoctlSetTermios(fd, ioctlSetTermios, saved)
			fmt.Fprintln(stderr)
			os.Exit(130)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(interrupted)
		close(done)
		_ = unix.IoctlSetTermios(fd, ioctlSetTermios, saved)
	}, nil
}

package cli

import "golang.org/x/sys/unix"

// Requests that read and set a terminal's settings.
const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)

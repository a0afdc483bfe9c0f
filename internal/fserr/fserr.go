// Package fserr words file system errors for messages that name the path
// themselves.
package fserr

import (
	"errors"
	"io/fs"
	"os"
)

// WithoutPath returns the cause of a file system error, without the
// operation and path that *fs.PathError, *os.LinkError and *os.SyscallError
// put before it, for a message that names the path itself: "cannot read
// X: permission denied", not "cannot read X: open X: permission denied".
// Any other error is returned as it is. The cause keeps its chain, so
// errors.Is still sees fs.ErrPermission and the like.
func WithoutPath(err error) error {
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	var syscallErr *os.SyscallError
	switch {
	case errors.As(err, &pathErr):
		return pathErr.Err
	case errors.As(err, &linkErr):
		return linkErr.Err
	case errors.As(err, &syscallErr):
		return syscallErr.Err
	}
	return err
}

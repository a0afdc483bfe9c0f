// Package saferead reads files that someone else may have written — an
// agent in the jail, or anyone who can write the user's directories —
// without following a link, without blocking on a FIFO or a device, and
// without reading more than a cap. A bad file is an error that says what it
// is, never a hang and never a reader that runs out of memory.
package saferead

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// DefaultLimit is the cap for configuration-sized files: settings, git's
// small files, netrc.
const DefaultLimit = 1 << 20

// ErrNotRegular says the path is a link, FIFO, socket, device or directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge says the file is larger than the cap.
var ErrTooLarge = errors.New("larger than the cap")

// tooLarge is ErrTooLarge with the cap in its message.
type tooLarge struct{ limit int64 }

func (e tooLarge) Error() string        { return fmt.Sprintf("larger than %d bytes", e.limit) }
func (e tooLarge) Is(target error) bool { return target == ErrTooLarge }

// ReadFile reads the regular file at path, at most limit bytes. The last
// component is opened with O_NOFOLLOW and O_NONBLOCK, so a link or FIFO in
// its place fails at once; a missing file is fs.ErrNotExist as for
// os.ReadFile. Errors name the path.
func ReadFile(path string, limit int64) ([]byte, error) {
	return read(path, limit, syscall.O_NOFOLLOW)
}

// ReadUserFile reads a file of the user's own that no jail can write
// (~/.netrc, jailrun's config) as ReadFile does, except that it follows a
// link, as a dotfiles manager makes them: a FIFO, device or huge file is
// still an error, never a hang.
func ReadUserFile(path string, limit int64) ([]byte, error) {
	return read(path, limit, 0)
}

func read(path string, limit int64, flags int) ([]byte, error) {
	f, err := open(path, flags)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: tooLarge{limit}}
	}
	return data, nil
}

// Open opens the regular file at path for reading, as ReadFile does, and
// switches it back to blocking reads.
func Open(path string) (*os.File, error) {
	return open(path, syscall.O_NOFOLLOW)
}

// OpenUserFile opens a file as ReadUserFile reads it: links are followed,
// and anything but a regular file is refused.
func OpenUserFile(path string) (*os.File, error) {
	return open(path, 0)
}

func open(path string, flags int) (*os.File, error) {
	fd, err := syscall.Open(path, flags|syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
	if err != nil {
		if err == syscall.ELOOP && flags&syscall.O_NOFOLLOW != 0 {
			err = fmt.Errorf("%w (a symbolic link)", ErrNotRegular)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

// Kind names what is at path ("a directory", "a FIFO"…) for a message,
// following a link.
func Kind(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "unreadable"
	}
	return kind(fi.Mode())
}

// kind names a file type for an error message.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file"
}

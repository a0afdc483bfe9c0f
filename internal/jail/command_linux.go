package jail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Command is a bwrap invocation ready for os/exec: Path and Args run bwrap,
// which reads its real arguments and the seccomp filter from sealed memfds
// among ExtraFiles and reports its child's pid on a pipe. Close it once the
// process has started (or failed to).
type Command struct {
	Path       string     // bwrap's path
	Args       []string   // bwrap's argv: "bwrap --args 3 --" and the policy's Argv
	Env        []string   // the environment bwrap passes to the jail's first process
	ExtraFiles []*os.File // the child's descriptors 3, 4 and 5, and InitFD once passed

	info *os.File // read end of the --info-fd pipe
}

// Build returns the Command that runs p in bwrap, found on PATH.
func Build(p Policy) (*Command, error) {
	args, err := Args(p)
	if err != nil {
		return nil, err
	}
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		return nil, errors.New("jail: bwrap not found: " + installAdvice)
	}
	filter, err := SeccompProgram()
	if err != nil {
		return nil, err
	}
	c := &Command{Path: bwrap, Env: Environ(p)}
	argsFile, err := sealedMemfd("jailrun-bwrap-args", []byte(strings.Join(args, "\x00")+"\x00"))
	if err != nil {
		return nil, err
	}
	c.ExtraFiles = append(c.ExtraFiles, argsFile)
	seccompFile, err := sealedMemfd("jailrun-seccomp", filter)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.ExtraFiles = append(c.ExtraFiles, seccompFile)
	infoRead, infoWrite, err := os.Pipe()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("jail: pipe for bwrap's info: %w", err)
	}
	c.info = infoRead
	c.ExtraFiles = append(c.ExtraFiles, infoWrite)
	c.Args = append([]string{"bwrap", "--args", strconv.Itoa(argsFD), "--"}, p.Argv...)
	return c, nil
}

// PassToInit hands f to the jail's first process as descriptor InitFD; the
// parent's copy is closed with the others once the jail has started.
func (c *Command) PassToInit(f *os.File) {
	if len(c.ExtraFiles) != InitFD-3 {
		panic("jail: PassToInit called twice")
	}
	c.ExtraFiles = append(c.ExtraFiles, f)
}

// Cmd returns an exec.Cmd for c, with the standard streams unset.
func (c *Command) Cmd(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Path)
	cmd.Args = c.Args
	cmd.Env = c.Env
	cmd.ExtraFiles = c.ExtraFiles
	return cmd
}

// ChildPID returns the host pid of the jail's first process, as bwrap
// reports it once the sandbox is set up. Call it after the process started;
// it closes the parent's copies of ExtraFiles first, so that a bwrap that
// dies early makes it return an error instead of waiting until timeout.
func (c *Command) ChildPID(timeout time.Duration) (int, error) {
	c.closeExtraFiles()
	if err := c.info.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return 0, fmt.Errorf("jail: bwrap's info pipe: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(c.info, 4096))
	if err != nil {
		return 0, fmt.Errorf("jail: bwrap did not report its child within %v: %w", timeout, err)
	}
	var info struct {
		ChildPID int `json:"child-pid"`
	}
	if err := json.Unmarshal(data, &info); err != nil || info.ChildPID <= 0 {
		return 0, errors.New("jail: bwrap exited before its sandbox was set up; its error is on stderr")
	}
	return info.ChildPID, nil
}

// Close releases the descriptors; the process keeps its own copies.
func (c *Command) Close() error {
	c.closeExtraFiles()
	if c.info != nil {
		c.info.Close()
	}
	return nil
}

func (c *Command) closeExtraFiles() {
	for _, f := range c.ExtraFiles {
		f.Close()
	}
}

// sealedMemfd returns a memfd holding data, sealed against any change and
// positioned at its start: nothing in a file system, nothing the reader can
// alter.
func sealedMemfd(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("jail: memfd for %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("jail: write %s: %w", name, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("jail: seal %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("jail: rewind %s: %w", name, err)
	}
	return f, nil
}

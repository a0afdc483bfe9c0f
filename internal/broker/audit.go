package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Results and reasons of a request, as audit lines and the summary say them.
const (
	resultServed  = "served"
	resultRefused = "refused"

	reasonNotHTTPS  = "not https"
	reasonHost      = "host not in GH_HOSTS"
	reasonOwner     = "owner unreadable"
	reasonNoRoute   = "no token routed"
	reasonMissing   = "routed token missing"
	reasonNotRead   = "routed token not read"
	reasonEmpty     = "token empty"
	reasonExpired   = "token expired"
	reasonKeyring   = "keyring failed"
	reasonUnknownOp = "unknown request"
	reasonMalformed = "unreadable request"
	reasonTooLarge  = "request too large"
)

// maxField bounds what an audit line keeps of a value the client chose.
const maxField = 256

// Record is one line of the audit log, the broker's or the proxy's (see
// internal/audit), with the fields either writes; a field a line lacks is
// its zero value. Never a secret or a preview of one. Time is RFC 3339 in
// UTC; Session (audit.SessionID) and PID, the supervisor's, tell sessions
// apart.
type Record struct {
	Time    string `json:"time"`
	Session string `json:"session,omitempty"`
	Agent   string `json:"agent,omitempty"`
	PID     int    `json:"pid"`
	Op      string `json:"op"`
	Host    string `json:"host,omitempty"`
	Port    int    `json:"port,omitempty"`
	Path    string `json:"path,omitempty"`
	Owner   string `json:"owner,omitempty"`
	Token   string `json:"token,omitempty"`
	Up      int64  `json:"up,omitempty"`    // bytes sent to the destination
	Down    int64  `json:"down,omitempty"`  // bytes received from it
	Conns   int    `json:"conns,omitempty"` // connections made
	Count   int    `json:"count,omitempty"` // connections or requests refused
	Ref     string `json:"ref,omitempty"`   // a pushed ref
	Old     string `json:"old,omitempty"`   // its object before the push (all zeros: created)
	New     string `json:"new,omitempty"`   // and after (all zeros: deleted)
	Result  string `json:"result"`
	Reason  string `json:"reason,omitempty"`
}

// record is a Record the broker writes.
type record = Record

// refuse returns rec refused for reason.
func (rec record) refuse(reason string) record {
	rec.Result, rec.Reason = resultRefused, reason
	return rec
}

// line returns rec as one line of JSON; the values the client chose are
// cut to maxField bytes.
func (rec record) line() []byte {
	rec.Host, rec.Path, rec.Owner = clip(rec.Host), clip(rec.Path), clip(rec.Owner)
	out, _ := json.Marshal(rec) // strings and numbers only: it cannot fail
	return append(out, '\n')
}

// clip cuts s to at most maxField bytes and a mark, at a character boundary.
func clip(s string) string {
	if len(s) <= maxField {
		return s
	}
	return strings.ToValidUTF8(s[:maxField], "") + "…"
}

// AuditPath returns the audit log's path,
// ${XDG_STATE_HOME:-$HOME/.local/state}/jailrun/audit.log, or "" when
// neither variable gives an absolute directory. Call it with the
// supervisor's environment at launch.
func AuditPath(getenv func(string) string) string {
	if dir := getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "jailrun", "audit.log")
	}
	if home := getenv("HOME"); filepath.IsAbs(home) {
		return filepath.Join(home, ".local", "state", "jailrun", "audit.log")
	}
	return ""
}

// OpenAudit opens the audit log at path (AuditPath) for appending,
// creating it with mode 0600 and its directory with mode 0700. It follows
// no symbolic link at the directory or the file and checks that both are
// this user's and that no other user can write to the directory or to the
// one holding it; anything else is an error that says what to remove. Each
// line is one write to a file opened for appending, so the lines of
// sessions running at once do not mix.
func OpenAudit(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	stateHome := filepath.Dir(dir)
	if err := os.MkdirAll(stateHome, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the audit log's directory: %w", err)
	}
	homeFD, err := unix.Open(stateHome, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s for the audit log: %w", stateHome, err)
	}
	defer unix.Close(homeFD)
	if err := checkOurs(homeFD, stateHome, true); err != nil {
		return nil, err
	}
	if err := unix.Mkdirat(homeFD, filepath.Base(dir), 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("cannot create %s for the audit log: %w", dir, err)
	}
	dirFD, err := unix.Openat(homeFD, filepath.Base(dir), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, notFollowed(dir, true, err)
	}
	defer unix.Close(dirFD)
	if err := checkOurs(dirFD, dir, true); err != nil {
		return nil, err
	}
	// O_NONBLOCK: a FIFO planted there fails at once instead of waiting for a reader.
	fd, err := unix.Openat(dirFD, filepath.Base(path),
		unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, notFollowed(path, false, err)
	}
	if err := checkOurs(fd, path, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil && st.Size >= MaxAuditSize {
		unix.Close(fd)
		return rotate(dirFD, path)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// MaxAuditSize is the size at which the audit log is rotated: it becomes
// audit.log.1, replacing the one before, and a new audit.log starts.
const MaxAuditSize = 10 << 20

// rotate moves the full audit log at path (in the directory open as dirFD)
// to path.1 and opens a new one whose first line says what was dropped.
func rotate(dirFD int, path string) (*os.File, error) {
	name := filepath.Base(path)
	var old unix.Stat_t
	dropped := int64(0)
	if unix.Fstatat(dirFD, name+".1", &old, unix.AT_SYMLINK_NOFOLLOW) == nil {
		dropped = old.Size
	}
	if err := unix.Renameat(dirFD, name, dirFD, name+".1"); err != nil {
		return nil, fmt.Errorf("cannot rotate the audit log %s: %w", path, err)
	}
	fd, err := unix.Openat(dirFD, name,
		unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, notFollowed(path, false, err)
	}
	f := os.NewFile(uintptr(fd), path)
	rec := record{Time: time.Now().UTC().Format(time.RFC3339Nano), PID: os.Getpid(), Op: "rotated", Result: "rotated",
		Reason: fmt.Sprintf("%s reached %d MB and is now %s.1; the older %s.1 (%d bytes) was dropped", name, MaxAuditSize>>20, name, name, dropped)}
	if _, err := f.Write(rec.line()); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot write the audit log %s: %w", path, err)
	}
	return f, nil
}

// checkOurs checks that the file open as fd, called name, is a directory
// (else a regular file with a single link), is this user's, and that no
// other user can write to it.
func checkOurs(fd int, name string, dir bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("cannot check %s for the audit log: %w", name, err)
	}
	typ, kind := uint32(unix.S_IFREG), "regular file"
	if dir {
		typ, kind = unix.S_IFDIR, "directory"
	}
	switch {
	case uint32(st.Mode)&unix.S_IFMT != typ:
		return fmt.Errorf("%s is not a %s; remove it, jailrun recreates it", name, kind)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to another user; the audit log must be yours: remove it", name)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%s can be written by other users; chmod go-w %s", name, name)
	case !dir && st.Nlink != 1:
		return fmt.Errorf("%s has other links; remove it, jailrun recreates it", name)
	}
	return nil
}

// notFollowed says that opening name failed, and why when what is there
// is a symbolic link (which O_NOFOLLOW refused) or not a file of the kind
// wanted (a directory when dir).
func notFollowed(name string, dir bool, err error) error {
	fi, lerr := os.Lstat(name)
	switch {
	case lerr != nil:
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link, which the audit log never follows; remove it, jailrun recreates it", name)
	case dir && !fi.IsDir():
		return fmt.Errorf("%s is not a directory; remove it, jailrun recreates it", name)
	case !dir && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file; remove it, jailrun recreates it", name)
	}
	return fmt.Errorf("cannot open %s for the audit log: %w", name, err)
}

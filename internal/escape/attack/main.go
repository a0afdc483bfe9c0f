//go:build linux

// Command attack is the escape suite's attacker: each subcommand tries one
// way out of the jail and exits 0 when it worked (a breach when jailed), 1
// when it did not, saying why on stderr, and 2 on a usage error. It prints
// nothing it reads: a secret it reaches stays out of the test's output.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// timeout bounds every connection and call.
const timeout = 5 * time.Second

// Banner is what the suite's TCP listener sends first, so that a
// connection to something else does not count.
const Banner = "jailrun-escape-banner"

const usage = `usage: attack connect-unix PATH | connect-abstract NAME | dbus ADDRESS |
  read FILE [WORD] | write FILE | proc-environ PID [WORD] | tcp HOST:PORT | tiocsti | keyctl | tiocexcl`

func main() {
	err := run(os.Args[1:])
	var u usageError
	switch {
	case errors.As(err, &u):
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "attack failed:", err)
		os.Exit(1)
	}
}

type usageError struct{}

func (usageError) Error() string { return "usage" }

func run(args []string) error {
	if len(args) == 0 {
		return usageError{}
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch {
	case args[0] == "connect-unix" && len(args) == 2:
		return connect("unix", args[1])
	case args[0] == "connect-abstract" && len(args) == 2:
		return connect("unix", "@"+args[1])
	case args[0] == "dbus" && len(args) == 2:
		return searchSecrets(args[1])
	case args[0] == "read" && (len(args) == 2 || len(args) == 3):
		return readFile(args[1], arg(2))
	case args[0] == "write" && len(args) == 2:
		return appendFile(args[1])
	case args[0] == "proc-environ" && (len(args) == 2 || len(args) == 3):
		return readFile("/proc/"+args[1]+"/environ", arg(2))
	case args[0] == "tcp" && len(args) == 2:
		return tcp(args[1])
	case args[0] == "tiocsti" && len(args) == 1:
		return tiocsti()
	case args[0] == "keyctl" && len(args) == 1:
		return keyctl()
	case args[0] == "tiocexcl" && len(args) == 1:
		// Exclusive mode: nobody else may open the terminal, the user's
		// next program outside included, until TIOCNXCL.
		return unix.IoctlSetInt(0, unix.TIOCEXCL, 0)
	}
	return usageError{}
}

// connect connects to a listening socket and closes the connection.
func connect(network, address string) error {
	c, err := net.DialTimeout(network, address, timeout)
	if err != nil {
		return err
	}
	return c.Close()
}

// searchSecrets connects to the bus at address (godbus sends Hello) and
// asks the Secret Service for every item; finding one is a breach.
func searchSecrets(address string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := dbus.Connect(address, dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", address, err)
	}
	defer conn.Close()
	service := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	// gnome-keyring registers a new connection lazily; a first call that
	// needs no registration avoids a spurious "not implemented".
	var alias dbus.ObjectPath
	if err := service.CallWithContext(ctx, "org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&alias); err != nil {
		return fmt.Errorf("reach the Secret Service: %w", err)
	}
	var unlocked, locked []dbus.ObjectPath
	err = service.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, map[string]string{}).Store(&unlocked, &locked)
	if err != nil {
		return fmt.Errorf("search the Secret Service: %w", err)
	}
	if len(unlocked)+len(locked) == 0 {
		return errors.New("the Secret Service holds no item")
	}
	return nil
}

// readFile reads path; it must not be empty and, with word, must contain it.
func readFile(path, word string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return fmt.Errorf("%s is empty", path)
	}
	if word != "" && !strings.Contains(string(data), word) {
		return fmt.Errorf("%s lacks the planted word", path)
	}
	return nil
}

// appendFile appends a line to path, creating it if missing.
func appendFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("# written by the escape suite's attack\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tcp reaches address directly and, failing that, through the proxy the
// environment names (HTTPS_PROXY and its kin, as curl reads them), and
// checks that the suite's listener answered.
func tcp(address string) error {
	direct := dial(func() (net.Conn, error) { return net.DialTimeout("tcp", address, timeout) })
	if direct == nil {
		return nil
	}
	proxy := proxyURL()
	if proxy == "" {
		return fmt.Errorf("direct: %v; no proxy set", direct)
	}
	via := dial(func() (net.Conn, error) { return connectVia(proxy, address) })
	if via == nil {
		return nil
	}
	return fmt.Errorf("direct: %v; through the proxy: %v", direct, via)
}

// dial opens a connection with open and reads the suite's banner from it.
func dial(open func() (net.Conn, error)) error {
	c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if strings.TrimSpace(line) != Banner {
		return fmt.Errorf("no banner (%v)", err)
	}
	return nil
}

// proxyURL returns the first proxy variable set, in curl's order.
func proxyURL() string {
	for _, k := range []string{"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "http_proxy", "HTTP_PROXY"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// connectVia opens a tunnel to address with an HTTP CONNECT to proxy.
func connectVia(proxy, address string) (net.Conn, error) {
	u, err := url.Parse(proxy)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("proxy %q is not a URL", proxy)
	}
	c, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", address, address)
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("the proxy answered %s", resp.Status)
	}
	return bufferedConn{c, r}, nil
}

// bufferedConn reads first what the CONNECT answer's reader buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// tiocsti pushes a character into the input of a terminal this process
// controls (a new pseudo-terminal, in a new session), as an agent would to
// type commands into the user's shell.
func tiocsti() error {
	signal.Ignore(syscall.SIGHUP) // sent when the terminal closes
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return err
	}
	defer ptmx.Close()
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("name the pseudo-terminal: %w", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR, 0) // without O_NOCTTY: it becomes ours
	if err != nil {
		return err
	}
	defer tty.Close()
	c := byte('x')
	if err := unix.IoctlSetPointerInt(int(tty.Fd()), unix.TIOCSTI, int(c)); err != nil {
		return fmt.Errorf("TIOCSTI: %w", err)
	}
	return nil
}

// keyctl asks for the session's kernel keyring, where other programs keep
// keys.
func keyctl() error {
	_, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		return fmt.Errorf("keyctl: %w", err)
	}
	return nil
}

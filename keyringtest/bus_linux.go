package keyringtest

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// startTimeout bounds starting each daemon.
const startTimeout = 10 * time.Second

// password unlocks the login keyring of a Start bus.
const password = "jailrun-test-password"

// Bus is a private D-Bus session bus in a temporary home, optionally
// with gnome-keyring providing the Secret Service on it. It never touches
// the developer's own bus or keyring.
type Bus struct {
	// Address is the bus address (also in DBUS_SESSION_BUS_ADDRESS).
	Address string
	// AbstractAddress is the bus's address on an abstract socket, for a
	// StartAbstract bus; "" otherwise.
	AbstractAddress string
	// RuntimeDir is XDG_RUNTIME_DIR; the bus socket is RuntimeDir/bus.
	RuntimeDir string
	env        []string
	// providerLog is where the running gnome-keyring writes its log.
	providerLog string
}

// ProviderLog returns what the running gnome-keyring has logged, for a
// failure message.
func (s *Bus) ProviderLog() string { return readLog(s.providerLog) }

// Env returns the variables that point a subprocess (git, secret-tool, a
// jailrun binary) at this bus, as KEY=VALUE, to append to os.Environ().
func (s *Bus) Env() []string { return append([]string(nil), s.env...) }

// Start starts a private session bus with gnome-keyring on it, its login
// collection created and unlocked, and points the test's environment at it
// (DBUS_SESSION_BUS_ADDRESS, HOME, XDG_*, and USER, kept if set). Everything is
// stopped and removed when the test ends. Without dbus-daemon or
// gnome-keyring-daemon the test is skipped (failed when CI=true).
func Start(t testing.TB) *Bus {
	t.Helper()
	need(t, "dbus-daemon", "gnome-keyring-daemon")
	s := startBus(t, false)
	s.startProvider(t, "gnome-keyring.log")
	return s
}

// StartWithoutCollection is Start with gnome-keyring started as a
// headless machine often starts it: without a password, so it has no
// login collection and no default alias.
func StartWithoutCollection(t testing.TB) *Bus {
	t.Helper()
	need(t, "dbus-daemon", "gnome-keyring-daemon")
	s := startBus(t, false)
	s.startProviderWith(t, "gnome-keyring.log", "")
	return s
}

// StartAbstract is Start with the bus also listening on an abstract unix
// socket (AbstractAddress), as some desktops' session buses do; Address
// and DBUS_SESSION_BUS_ADDRESS stay the path socket's.
func StartAbstract(t testing.TB) *Bus {
	t.Helper()
	need(t, "dbus-daemon", "gnome-keyring-daemon")
	s := startBus(t, true)
	s.startProvider(t, "gnome-keyring.log")
	return s
}

// startProvider starts gnome-keyring on the test bus, its log in
// logName under RuntimeDir, and waits until it answers.
func (s *Bus) startProvider(t testing.TB, logName string) {
	t.Helper()
	s.startProviderWith(t, logName, password)
}

// startProviderWith is startProvider with the login keyring's password on
// gnome-keyring's stdin ("": none).
func (s *Bus) startProviderWith(t testing.TB, logName, password string) {
	t.Helper()
	keyringd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	keyringd.Stdin = strings.NewReader(password)
	s.providerLog = filepath.Join(s.RuntimeDir, logName)
	start(t, keyringd, s.daemonEnv(), s.providerLog)
	s.waitForKeyring(t, password != "")
}

// RestartProvider kills the Secret Service provider of a Start bus
// and starts a new gnome-keyring on the same keyring files, as a user's
// desktop does after a crash.
func (s *Bus) RestartProvider(t testing.TB) {
	t.Helper()
	s.KillProvider(t)
	s.startProvider(t, "gnome-keyring-restarted.log")
}

// StartBusOnly starts a private session bus on which nothing provides the
// Secret Service, and points the test's environment at it like Start.
func StartBusOnly(t testing.TB) *Bus {
	t.Helper()
	need(t, "dbus-daemon")
	return startBus(t, false)
}

// need skips the test (fails it when CI=true) unless every program is on PATH.
func need(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			msg := fmt.Sprintf("%s not found: install dbus and gnome-keyring to run keyring tests (sudo apt install dbus gnome-keyring libsecret-tools)", p)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// startBus creates the temporary directories, starts dbus-daemon and
// points the test's environment at it; with abstract, the bus also listens
// on an abstract socket named after its root directory.
func startBus(t testing.TB, abstract bool) *Bus {
	t.Helper()
	// A short root keeps the socket path under the 108-byte limit.
	root, err := os.MkdirTemp("", "jrkr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	dirs := map[string]string{
		"HOME":            filepath.Join(root, "home"),
		"XDG_DATA_HOME":   filepath.Join(root, "data"),
		"XDG_CONFIG_HOME": filepath.Join(root, "config"),
		"XDG_CACHE_HOME":  filepath.Join(root, "cache"),
		"XDG_RUNTIME_DIR": filepath.Join(root, "run"),
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := &Bus{RuntimeDir: dirs["XDG_RUNTIME_DIR"]}

	listen := `<listen>unix:path=` + html.EscapeString(filepath.Join(s.RuntimeDir, "bus")) + `</listen>`
	if abstract {
		listen += `<listen>unix:abstract=` + html.EscapeString(filepath.Base(root)) + `</listen>`
	}
	// No <servicedir>/<standard_session_servicedirs/>: nothing installed on
	// the machine is activated on this bus.
	config := filepath.Join(root, "bus.conf")
	err = os.WriteFile(config, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  `+listen+`
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	busd := exec.Command("dbus-daemon", "--config-file="+config, "--nofork", "--print-address")
	out, err := busd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start(t, busd, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dirs["HOME"]}, filepath.Join(root, "dbus-daemon.log"))
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case s.Address = <-addr:
	case <-time.After(startTimeout):
		t.Fatalf("dbus-daemon did not print its address within %s", startTimeout)
	}
	if s.Address == "" {
		t.Fatalf("dbus-daemon exited without printing its address: %s", readLog(filepath.Join(root, "dbus-daemon.log")))
	}
	// With two listeners dbus-daemon prints both, separated by ';'.
	if abstract {
		for _, a := range strings.Split(s.Address, ";") {
			if strings.HasPrefix(a, "unix:abstract=") {
				s.AbstractAddress = a
			} else {
				s.Address = a
			}
		}
	}

	s.env = []string{"DBUS_SESSION_BUS_ADDRESS=" + s.Address}
	for k, v := range dirs {
		s.env = append(s.env, k+"="+v)
	}
	// USER is always in env, not only when the caller lacks it: a
	// testscript script sees only what env lists, and the items it looks
	// up with secret-tool carry the account jailrun stored them under.
	name := os.Getenv("USER")
	if name == "" {
		name = "jailrun-test"
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	s.env = append(s.env, "USER="+name)
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return s
}

// daemonEnv is the environment for a daemon on this bus: a clean one,
// so that no display or other bus of the developer leaks in.
func (s *Bus) daemonEnv() []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}, s.env...)
}

// start starts cmd in its own process group with stderr to logPath, and
// kills the group when the test ends.
func start(t testing.TB, cmd *exec.Cmd, env []string, logPath string) {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = env
	cmd.Stderr = logFile
	if cmd.Stdout == nil {
		cmd.Stdout = logFile
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		logFile.Close()
	})
}

// readLog returns a daemon's log for a failure message.
func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// connect opens a private connection to the test bus, closed when
// the test ends.
func (s *Bus) connect(t testing.TB) *dbus.Conn {
	t.Helper()
	// The connection lives as long as ctx: cancelled by the timer if
	// connecting takes too long, else when the test ends.
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(startTimeout, cancel)
	conn, err := dbus.Connect(s.Address, dbus.WithContext(ctx))
	timer.Stop()
	t.Cleanup(cancel)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	return conn
}

// waitForKeyring waits until gnome-keyring owns org.freedesktop.secrets and,
// with collection, its default collection exists.
func (s *Bus) waitForKeyring(t testing.TB, collection bool) {
	t.Helper()
	conn := s.connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	service := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	for {
		var owned bool
		var alias dbus.ObjectPath
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned)
		if err == nil && owned {
			err = service.CallWithContext(ctx, "org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&alias)
			if err == nil && (alias != "/" || !collection) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gnome-keyring did not provide the Secret Service within %s (last error: %v): %s",
				startTimeout, err, s.ProviderLog())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Lock locks every collection of the test bus's keyring over D-Bus, as a
// screen lock or `secret-tool lock` would; with no prompter on the private
// bus it cannot be unlocked again.
func (s *Bus) Lock(t testing.TB) {
	t.Helper()
	conn := s.connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	service := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	var v dbus.Variant
	err := service.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
		"org.freedesktop.Secret.Service", "Collections").Store(&v)
	if err != nil {
		t.Fatalf("list collections: %v", err)
	}
	collections, _ := v.Value().([]dbus.ObjectPath)
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = service.CallWithContext(ctx, "org.freedesktop.Secret.Service.Lock", 0, collections).Store(&locked, &prompt)
	if err != nil {
		t.Fatalf("lock the keyring: %v", err)
	}
	if prompt != "/" || len(locked) != len(collections) {
		t.Fatalf("lock the keyring: locked %v of %v, prompt %s", locked, collections, prompt)
	}
}

// Count returns how many items of the test bus's keyring have all of attrs,
// locked or not.
func (s *Bus) Count(t testing.TB, attrs map[string]string) int {
	t.Helper()
	conn := s.connect(t)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	service := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	// gnome-keyring registers a new connection in an idle callback that,
	// under load, can run after its first call; SearchItems then fails as
	// "not implemented". A first call that needs no registration avoids it.
	var alias dbus.ObjectPath
	if err := service.CallWithContext(ctx, "org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&alias); err != nil {
		t.Fatalf("reach the keyring: %v", err)
	}
	var unlocked, locked []dbus.ObjectPath
	err := service.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, attrs).Store(&unlocked, &locked)
	if err != nil {
		t.Fatalf("search the keyring: %v", err)
	}
	return len(unlocked) + len(locked)
}

// KillProvider kills the process that provides the Secret Service on the
// session's bus with SIGKILL, as a crash or the OOM killer would, and waits
// until the bus has noticed.
func (s *Bus) KillProvider(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn := s.connect(t)
	defer conn.Close()
	bus := conn.BusObject()
	var pid uint32
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.GetConnectionUnixProcessID", 0, "org.freedesktop.secrets").Store(&pid); err != nil {
		t.Fatalf("find the keyring daemon: %v", err)
	}
	if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
		t.Fatalf("kill the keyring daemon (pid %d): %v", pid, err)
	}
	for {
		var owned bool
		if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned); err != nil {
			t.Fatalf("ask the bus whether the keyring daemon is gone: %v", err)
		}
		if !owned {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Package jailinit is the jail's first process (pid 1 in its pid
// namespace): it starts the relay to jailrun's proxy, waits at the start
// gate, then runs the agent and reaps. It imports little, so that its own
// binary, jailrun-init, starts in about the time of an empty Go program;
// jailrun itself runs it too (jailrun _jail-init) where jailrun-init is
// not installed next to it.
package jailinit

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/relay"
	"github.com/jailrun/jailrun/internal/supervise"
	"github.com/jailrun/jailrun/session"
)

// Command is the first argument that makes jailrun the jail's first
// process: jailrun _jail-init PATH ARGV0 ARGS… (jailrun-init takes PATH
// ARGV0 ARGS… alone).
const Command = "_jail-init"

// Binary is the name of the init's own binary, installed next to jailrun.
const Binary = "jailrun-init"

// GateVersion is what the init says first on the gate: the version of
// what follows, so that a jailrun-init of another release of jailrun is
// refused instead of misread.
const GateVersion = 2

// MaxEnv bounds the environment the supervisor hands the init.
const MaxEnv = 16 << 20

// openGate tells the supervisor on the gate it passed (descriptor
// jail.InitFD) that the jail runs, with GateVersion, and waits until it
// may start the agent: the supervisor then sends the agent's environment
// (see EncodeEnv), which is not the init's own: bubblewrap starts the
// init with none, so that nothing of the session's sits in its
// /proc/1/environ. The gate is closed then: the agent does not inherit it.
func openGate() ([]string, error) {
	gate := os.NewFile(jail.InitFD, "jailrun-init-gate")
	defer gate.Close()
	if _, err := gate.Write([]byte{GateVersion}); err != nil {
		return nil, fmt.Errorf("the jail's supervisor is gone: %v", err)
	}
	return readEnv(gate)
}

// readEnv reads an environment EncodeEnv wrote.
func readEnv(r io.Reader) ([]string, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, fmt.Errorf("the jail's supervisor is gone: %v", err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > MaxEnv {
		return nil, fmt.Errorf("the agent's environment is over %d MB", MaxEnv>>20)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("the jail's supervisor is gone: %v", err)
	}
	env := strings.Split(string(data), "\x00")
	return env[:len(env)-1], nil // the last entry's NUL ends the list
}

// EncodeEnv is env as the init reads it: its length in four bytes,
// big-endian, then each entry ended by a NUL.
func EncodeEnv(env []string) ([]byte, error) {
	var b []byte
	for _, kv := range env {
		if strings.IndexByte(kv, 0) >= 0 {
			return nil, fmt.Errorf("the agent's environment holds a NUL in %.40q", kv)
		}
		b = append(append(b, kv...), 0)
	}
	if len(b) > MaxEnv {
		return nil, fmt.Errorf("the agent's environment is over %d MB", MaxEnv>>20)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...), nil
}

// Main runs inside the jail as its first process (pid 1): it starts the
// relay that carries the jail's connections to jailrun's proxy, runs the
// program at args[0] with argv args[1:] and the proxy variables set, and
// returns its exit status once it has ended.
func Main(args []string, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintf(stderr, "jailrun: %s is the jail's own first process; start programs with jailrun run -- CMD\n", Binary)
		return 2
	}
	r, err := relay.Listen(jail.ProxySocket)
	if err != nil {
		fmt.Fprintf(stderr, "jailrun: the jail has no way out to the network: %v\n", err)
		return 1
	}
	go r.Serve()
	agentEnv, err := openGate()
	if err != nil {
		fmt.Fprintf(stderr, "jailrun: %v\n", err)
		return 1
	}
	env := session.ProxyEnviron(agentEnv, "http://127.0.0.1:"+strconv.Itoa(r.Port()))
	status, err := supervise.Init(args[0], args[1:], env)
	if err != nil {
		fmt.Fprintf(stderr, "jailrun: %v\n", err)
		return 127
	}
	return status
}

package launch

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/jailrun/jailrun/internal/jail"
	"github.com/jailrun/jailrun/internal/relay"
	"github.com/jailrun/jailrun/internal/supervise"
	"github.com/jailrun/jailrun/session"
)

// InitCommand is the first argument that makes jailrun the jail's first
// process: jailrun _jail-init PATH ARGV0 ARGS…
const InitCommand = "_jail-init"

// Init runs inside the jail as its first process (pid 1): it starts the
// relay that carries the jail's connections to jailrun's proxy, runs the
// program at args[0] with argv args[1:] and the proxy variables set, and
// returns its exit status once it has ended.
func Init(args []string, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintf(stderr, "jailrun: %s is the jail's own first process; start programs with jailrun run -- CMD\n", InitCommand)
		return 2
	}
	r, err := relay.Listen(jail.ProxySocket)
	if err != nil {
		fmt.Fprintf(stderr, "jailrun: the jail has no way out to the network: %v\n", err)
		return 1
	}
	go r.Serve()
	env := session.ProxyEnviron(os.Environ(), "http://127.0.0.1:"+strconv.Itoa(r.Port()))
	status, err := supervise.Init(args[0], args[1:], env)
	if err != nil {
		fmt.Fprintf(stderr, "jailrun: %v\n", err)
		return 127
	}
	return status
}

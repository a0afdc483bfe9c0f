package broker

import "time"

// Version is the version of the broker's protocol that Hello reports.
const Version = 1

// Service names the broker in its answer to hello.
const Service = "jailrun-broker"

// MaxRequestSize is the longest request line, newline included; git's own
// credential lines are at most 65535 bytes.
const MaxRequestSize = 64 << 10

// Timeout bounds each side's wait: the client's dial and each of its
// round trips, the broker's wait for a request and its write of the answer.
const Timeout = 5 * time.Second

// Operations a request can ask for.
const (
	opHello = "hello"
	opGet   = "get"
	opGH    = "gh"
)

// request is one line of JSON from the client. It carries only what git
// or gh asked about: the broker decides everything else itself.
type request struct {
	Op       string `json:"op"`
	Protocol string `json:"protocol,omitempty"` // get
	Host     string `json:"host,omitempty"`     // get, gh
	Path     string `json:"path,omitempty"`     // get: the repository path git sends
	Owner    string `json:"owner,omitempty"`    // gh: "" for the host's default
}

// response is one line of JSON from the broker. A served token has Secret
// set; Warning is a line for the user's stderr; Error says the broker could
// not answer (the keyring failed, the request was not understood).
type response struct {
	Service string `json:"service,omitempty"` // hello
	Version int    `json:"version,omitempty"` // hello
	Host    string `json:"host,omitempty"`    // the host the token is for, lower-cased
	Token   string `json:"token,omitempty"`   // the token's name
	Secret  string `json:"secret,omitempty"`
	Expires int64  `json:"expires,omitempty"` // Unix seconds; 0 when unknown
	Kind    string `json:"kind,omitempty"`
	Login   string `json:"login,omitempty"`
	Warning string `json:"warning,omitempty"`
	Error   string `json:"error,omitempty"`
}

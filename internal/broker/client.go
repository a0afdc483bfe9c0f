package broker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jailrun/jailrun/keyring"
)

// ErrNotAnswering is the client's error when the broker cannot be reached
// or does not answer within Timeout.
var ErrNotAnswering = errors.New("jailrun's token broker is not answering (the jailrun that started this session has exited?)")

// Client asks a broker over one connection, which the broker closes after
// Timeout without a request. It is not safe for concurrent use.
type Client struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration // for each round trip
}

// Answer is the broker's answer to Get or GH. Token.Secret is "" when
// nothing is served; Warning, when set, is a line for the user's stderr.
type Answer struct {
	Token   keyring.Token // name, secret and metadata of the routed token
	Host    string        // the host the token is for, lower-cased
	Warning string
}

// Dial connects to the broker listening at path.
func Dial(path string) (*Client, error) {
	conn, err := net.DialTimeout("unix", path, Timeout)
	if err != nil {
		return nil, ErrNotAnswering
	}
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, MaxRequestSize), timeout: Timeout}, nil
}

// Close ends the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Hello checks that a jailrun broker is at the other end and returns the
// version of its protocol.
func (c *Client) Hello() (int, error) {
	resp, err := c.roundTrip(request{Op: opHello})
	if err != nil {
		return 0, err
	}
	if resp.Service != Service {
		return 0, errors.New("the socket given for jailrun's token broker is something else; start the session with jailrun")
	}
	return resp.Version, nil
}

// Get asks for the token for git's request: protocol, host (with ":port"
// when git sent one) and the repository path.
func (c *Client) Get(protocol, host, path string) (Answer, error) {
	return c.ask(request{Op: opGet, Protocol: protocol, Host: host, Path: path})
}

// GH asks for the token the gh shim passes to gh for owner's repository on
// host, or the host's default when owner is "".
func (c *Client) GH(host, owner string) (Answer, error) {
	return c.ask(request{Op: opGH, Host: host, Owner: owner})
}

func (c *Client) ask(req request) (Answer, error) {
	resp, err := c.roundTrip(req)
	if err != nil {
		return Answer{}, err
	}
	a := Answer{
		Token:   keyring.Token{Name: resp.Token, Secret: resp.Secret, Meta: keyring.Meta{Kind: resp.Kind, Login: resp.Login}},
		Host:    resp.Host,
		Warning: resp.Warning,
	}
	if resp.Expires != 0 {
		a.Token.Meta.Expires = time.Unix(resp.Expires, 0).UTC()
	}
	return a, nil
}

// roundTrip sends req and reads the answer within the client's timeout.
func (c *Client) roundTrip(req request) (response, error) {
	line, _ := json.Marshal(req) // strings only: it cannot fail
	line = append(line, '\n')
	if len(line) > MaxRequestSize {
		return response{}, fmt.Errorf("request to jailrun's token broker is over %d bytes", MaxRequestSize)
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return response{}, ErrNotAnswering
	}
	if _, err := c.conn.Write(line); err != nil {
		return response{}, ErrNotAnswering
	}
	out, err := c.r.ReadSlice('\n')
	if err != nil {
		return response{}, ErrNotAnswering
	}
	var resp response
	if err := json.Unmarshal(out, &resp); err != nil {
		return response{}, errors.New("jailrun's token broker sent an answer this jailrun cannot read; use the same jailrun inside and outside the jail")
	}
	if resp.Error != "" {
		return response{}, errors.New(resp.Error)
	}
	return resp, nil
}

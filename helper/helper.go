// Package helper is git-credential-jailrun, jailrun's git credential helper.
//
// For a GitHub host (GH_HOSTS) over https, get answers with the jailrun
// token that routing picks for the repository's owner. For other hosts, in
// plain mode, it keeps and serves the credentials git hands it, the way
// git-credential-libsecret does, in the same keychain. In token-only mode
// (the --session flag an agent session passes) store and erase change
// nothing and only jailrun tokens are served.
//
// A GitHub host is served only its routed token: a route or default naming a
// missing token, or a token past its expiry, is a warning on stderr and no
// answer, never another token. Only when routing names no token at all (a
// GitHub host without a default route and no token for the owner) does plain
// mode serve a credential git stored for that host. git's erase of a jailrun
// token (GitHub refused it) deletes nothing and prints a hint to rotate it.
//
// Without credential.useHttpPath git sends no path, so the owner is unknown
// and only the host's default token (routing step 3) can be served; agent
// sessions set useHttpPath for every GitHub host.
//
// git ignores a helper's exit status: a helper that fails is skipped and git
// asks the next one or prompts. So every failure here is one line on stderr,
// no output and exit status 1, which scripts calling the helper directly can
// see; a usage error exits 2. A secret is never written to stderr.
package helper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/credential"
	"github.com/jailrun/jailrun/internal/broker"
	"github.com/jailrun/jailrun/internal/version"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/platform"
	"github.com/jailrun/jailrun/routing"
	"github.com/jailrun/jailrun/session"
)

// Program is the helper's name, which starts every line it writes to stderr.
const Program = "git-credential-jailrun"

// SessionFlag, which an agent session passes, selects token-only mode:
// store and erase change nothing and only jailrun tokens are served.
const SessionFlag = "--session"

// DefaultUsername is the user name sent with a token when git sent none;
// GitHub accepts any user name with a token.
const DefaultUsername = "x-access-token"

const usage = "usage: " + Program + " [" + SessionFlag + "] get|store|erase"

// Help is what --help prints: git runs the helper, people rarely do.
const Help = usage + `

jailrun's git credential helper. git runs it; set it up with:
  git config --global credential.helper jailrun

get answers a GitHub host (GH_HOSTS) over https with the jailrun token
routed to the repository's owner; for other hosts it serves, stores and
erases what git hands it, in the OS keychain. With ` + SessionFlag + ` (agent
sessions) only jailrun tokens are served and store and erase change nothing.

  --help      print this help
  --version   print the version

Which token a repository gets: jailrun status. Setup checks: jailrun doctor.`

// Env is everything the helper uses from the outside world.
type Env struct {
	Args        []string // the arguments after the program name
	Stdin       io.Reader
	Stdout      io.Writer
	Stderr      io.Writer
	Getenv      func(string) string
	OpenKeyring func() (keyring.Keyring, error)
	Now         func() time.Time
	MintApp     MintFunc // mints the token of a route that names an App
}

// Main runs the helper on the process's arguments, standard streams,
// environment and OS keychain, and returns the exit status.
func Main() int { return MainWith(execMint) }

// MainWith is Main with mint for App routes: jailrun, which is the helper
// on macOS, mints in its own process.
func MainWith(mint MintFunc) int {
	return Run(Env{
		Args:        os.Args[1:],
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Getenv:      os.Getenv,
		OpenKeyring: platform.Open,
		Now:         time.Now,
		MintApp:     mint,
	})
}

// Run performs the action git asks for in env.Args and returns the exit
// status: 0 when done (or when there was nothing to do), 1 when something
// failed, 2 for a usage error.
func Run(env Env) int {
	if len(env.Args) == 1 {
		switch env.Args[0] {
		case "--version":
			fmt.Fprintln(env.Stdout, Program, version.String())
			return 0
		case "--help", "-h":
			fmt.Fprintln(env.Stdout, Help)
			return 0
		}
	}
	tokensOnly, action, err := parseArgs(env.Args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v; %s\n", Program, err, usage)
		return 2
	}
	if action == "" || tokensOnly && action == credential.Store {
		return 0 // an unknown action is ignored; token-only mode stores nothing
	}
	h := &helper{env: env, tokensOnly: tokensOnly}
	if err := h.run(action); err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", Program, err)
		return 1
	}
	return 0
}

// parseArgs reads [--session] ACTION. The action is the last argument, as
// git appends it to the configured command; it is "" when unknown.
func parseArgs(args []string) (tokensOnly bool, action credential.Action, err error) {
	if len(args) == 0 {
		return false, "", errors.New("no action given")
	}
	for _, arg := range args[:len(args)-1] {
		if arg != SessionFlag {
			return false, "", fmt.Errorf("unknown option %q", arg)
		}
		tokensOnly = true
	}
	last := args[len(args)-1]
	if last == SessionFlag {
		return false, "", errors.New("no action given")
	}
	action, _ = credential.ParseAction(last)
	return tokensOnly, action, nil
}

// helper is one run of the helper.
type helper struct {
	env        Env
	tokensOnly bool // serve jailrun tokens only; store and erase change nothing
	cfg        config.Config
}

// run reads git's request and performs action.
func (h *helper) run(action credential.Action) error {
	req, err := credential.ReadRequest(h.env.Stdin)
	if err != nil {
		return err
	}
	if req.Protocol == "" || req.Host == "" {
		return nil // nothing to match on: never answer for "any host"
	}
	if !validUTF8(req) {
		return nil // keychain attributes are UTF-8: nothing stored can match, nothing can be stored
	}
	if socket := h.env.Getenv(session.BrokerVar); h.tokensOnly && socket != "" {
		if action != credential.Get {
			return nil // the jail's keyring is the broker's, and it only serves
		}
		return h.getFromBroker(socket, req)
	}
	if h.cfg, err = config.Load(h.env.Getenv); err != nil {
		return err
	}
	switch action {
	case credential.Get:
		return h.get(req)
	case credential.Store:
		if !req.Has("username") || !req.Has("password") {
			return nil // git stores only a user name and a password it has
		}
		return h.store(req)
	default:
		return h.erase(req)
	}
}

// get answers with the routed token for a GitHub host, else (plain mode)
// with a credential git stored earlier.
func (h *helper) get(req *credential.Request) error {
	github := h.cfg.IsGitHubHost(req.Host)
	switch {
	case github && req.Protocol != "https":
		return nil // a token never travels over plain http
	case !github && h.tokensOnly:
		return nil
	}
	kr, err := h.env.OpenKeyring()
	if err != nil {
		return err
	}
	defer kr.Close()
	if github {
		picked, err := h.getToken(kr, req)
		if picked || err != nil || h.tokensOnly {
			return err
		}
	}
	return h.getCredential(kr, req)
}

// getToken answers with the token routing picks for req, and reports
// whether routing picked one: an explicit route to a missing token or an
// expired token is a warning and counts as picked, so that nothing else is
// served in its place.
func (h *helper) getToken(kr keyring.Keyring, req *credential.Request) (picked bool, err error) {
	owner := routing.OwnerFromPath(req.Path)
	if h.tokensOnly && owner == "" {
		return true, nil // agent sessions always send the path: one without an owner gets nothing, not the default
	}
	token, d, err := routing.Token(kr, h.cfg, req.Protocol, req.Host, owner)
	if err != nil {
		return false, err
	}
	if d.Warning != "" {
		fmt.Fprintf(h.env.Stderr, "%s: %s\n", Program, d.Warning)
	}
	if d.Token == "" {
		return d.Warning != "", nil
	}
	if token.Secret == "" {
		return true, fmt.Errorf("token %s is empty; store it again: jailrun token rotate --name %s", d.Token, d.Token)
	}
	if strings.HasPrefix(token.Name, config.AppNamespace) { // never the App's key: a token it mints for this repository
		if token, err = h.mintApp(token, owner, repoFromPath(req.Path)); err != nil {
			fmt.Fprintf(h.env.Stderr, "%s: %v\n", Program, err)
			return true, nil
		}
	}
	if exp := token.Meta.Expires; !exp.IsZero() && !exp.After(h.env.Now()) {
		fmt.Fprintf(h.env.Stderr, "%s: token %s expired on %s; rotate it: jailrun token rotate --name %s\n",
			Program, token.Name, exp.UTC().Format(time.DateOnly), token.Name)
		return true, nil
	}
	return true, h.respond(req, token)
}

// mintApp mints the token of the App whose item is app for owner/repo.
func (h *helper) mintApp(app keyring.Token, owner, repo string) (keyring.Token, error) {
	if h.env.MintApp == nil {
		return keyring.Token{}, fmt.Errorf("%s mints its tokens with jailrun; use the helper jailrun installs", app.Name)
	}
	return h.env.MintApp(context.Background(), app, h.cfg, owner, repo)
}

// repoFromPath returns REPO of "OWNER/REPO[.git]/…", or "".
func repoFromPath(path string) string {
	parts := strings.Split(strings.TrimLeft(path, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return strings.TrimSuffix(parts[1], ".git")
}

// respond writes git's answer: token, with the user name git sent (else
// DefaultUsername) and the token's expiry when known.
func (h *helper) respond(req *credential.Request, token keyring.Token) error {
	resp := credential.Response{Username: req.Username, Password: token.Secret}
	if resp.Username == "" {
		resp.Username = DefaultUsername
	}
	if !token.Meta.Expires.IsZero() {
		resp.PasswordExpiryUTC = strconv.FormatInt(token.Meta.Expires.Unix(), 10)
	}
	return credential.WriteResponse(h.env.Stdout, resp)
}

// getFromBroker answers, in a jail, with what jailrun's token broker
// serves for req: it routes with the configuration of the session's start,
// whatever this process's environment says.
func (h *helper) getFromBroker(socket string, req *credential.Request) error {
	c, err := broker.Dial(socket)
	if err != nil {
		return err
	}
	defer c.Close()
	a, err := c.Get(req.Protocol, req.Host, req.Path)
	if err != nil {
		return err
	}
	if a.Warning != "" {
		fmt.Fprintf(h.env.Stderr, "%s: %s\n", Program, a.Warning)
	}
	if a.Token.Secret == "" {
		return nil
	}
	return h.respond(req, a.Token)
}

// getCredential answers with the most recently stored credential that
// matches req and has not expired.
func (h *helper) getCredential(kr keyring.Keyring, req *credential.Request) error {
	creds, err := kr.FindCredentials(query(req))
	if err != nil {
		return err
	}
	now := h.env.Now()
	for _, c := range creds {
		if !c.PasswordExpiry.IsZero() && !c.PasswordExpiry.After(now) {
			continue
		}
		resp := credential.Response{Username: c.Username, Password: c.Password, OAuthRefreshToken: c.OAuthRefreshToken}
		if !c.PasswordExpiry.IsZero() {
			resp.PasswordExpiryUTC = strconv.FormatInt(c.PasswordExpiry.Unix(), 10)
		}
		// git takes a missing user name or password as unknown and asks
		// for it; one stored empty (single sign-on) is sent as empty.
		var b bytes.Buffer
		if c.Username == "" {
			b.WriteString("username=\n")
		}
		if c.Password == "" {
			b.WriteString("password=\n")
		}
		if err := credential.WriteResponse(&b, resp); err != nil {
			return err
		}
		_, err := h.env.Stdout.Write(b.Bytes())
		return err
	}
	return nil
}

// store keeps the credential git hands over (plain mode), unless it is a
// jailrun token, ephemeral or already expired.
func (h *helper) store(req *credential.Request) error {
	if req.Ephemeral {
		return nil
	}
	c := query(req)
	c.Password, c.OAuthRefreshToken = req.Password, req.OAuthRefreshToken
	if req.PasswordExpiryUTC != "" {
		secs, err := strconv.ParseInt(req.PasswordExpiryUTC, 10, 64)
		if err != nil {
			return errors.New("password_expiry_utc is not Unix seconds; credential not stored")
		}
		if c.PasswordExpiry = time.Unix(secs, 0); !c.PasswordExpiry.After(h.env.Now()) {
			return nil
		}
	}
	kr, err := h.env.OpenKeyring()
	if err != nil {
		return err
	}
	defer kr.Close()
	if _, ok, err := findSecret(kr, req.Password); ok || err != nil {
		return err // a jailrun token is kept once, under its name
	}
	return kr.StoreCredential(c)
}

// erase removes the stored credentials that match req (plain mode). A
// jailrun token is never erased: git erases a credential the server
// rejected, so the user is told to rotate the token instead.
func (h *helper) erase(req *credential.Request) error {
	if h.tokensOnly && req.Password == "" {
		return nil
	}
	kr, err := h.env.OpenKeyring()
	if err != nil {
		return err
	}
	defer kr.Close()
	if req.Password != "" {
		name, ok, err := findSecret(kr, req.Password)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(h.env.Stderr, "%s: token %s was rejected by %s; rotate it: jailrun token rotate --name %s\n",
				Program, name, req.Host, name)
			return nil
		}
	}
	if h.tokensOnly {
		return nil
	}
	q := query(req)
	q.Password = req.Password
	return kr.EraseCredentials(q)
}

// findSecret returns the name of the jailrun token whose secret is secret.
func findSecret(kr keyring.Keyring, secret string) (name string, ok bool, err error) {
	if secret == "" {
		return "", false, nil
	}
	tokens, err := kr.List()
	if err != nil {
		return "", false, err
	}
	for _, t := range tokens {
		if t.Secret == secret {
			return t.Name, true, nil
		}
	}
	return "", false, nil
}

// validUTF8 reports whether the attributes of req that select stored
// credentials are valid UTF-8.
func validUTF8(req *credential.Request) bool {
	return utf8.ValidString(req.Protocol) && utf8.ValidString(req.Host) &&
		utf8.ValidString(req.Path) && utf8.ValidString(req.Username)
}

// query is the part of req that selects stored credentials.
func query(req *credential.Request) keyring.Credential {
	return keyring.Credential{
		Protocol: req.Protocol,
		Host:     req.Host,
		Path:     req.Path,
		Username: req.Username,
	}
}

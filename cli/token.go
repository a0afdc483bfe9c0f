package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/routing"
	"golang.org/x/term"
)

type tokenCmd struct {
	Add    tokenAddCmd    `cmd:"" help:"Store a new token (typed hidden, or one line on stdin)."`
	Rotate tokenRotateCmd `cmd:"" help:"Replace a stored token with a new one, in place."`
	Delete tokenDeleteCmd `cmd:"" help:"Remove a stored token."`
	List   tokenListCmd   `cmd:"" aliases:"ls" help:"List the stored tokens: name, preview, kind, login and expiry."`
	Verify tokenVerifyCmd `cmd:"" help:"Ask GitHub who a stored token acts as, when it expires and what it may do."`
}

type tokenAddCmd struct {
	Name     string `required:"" placeholder:"NAME" help:"Token name, namespace:key (e.g. github:fine-grained-myorg)."`
	NoVerify bool   `help:"Store without asking GitHub who the token is and when it expires."`
	Force    bool   `help:"Store a github: token that is not in one of GitHub's forms (e.g. an old GitHub Enterprise token)."`
}

type tokenRotateCmd struct {
	Name     string `required:"" placeholder:"NAME" predictor:"token" help:"Name of the stored token to replace."`
	Yes      bool   `short:"y" help:"Do not ask for confirmation."`
	NoVerify bool   `help:"Store without asking GitHub who the token is and when it expires."`
	Force    bool   `help:"Store a github: token that is not in one of GitHub's forms (e.g. an old GitHub Enterprise token)."`
}

type tokenDeleteCmd struct {
	Name string `required:"" placeholder:"NAME" predictor:"token" help:"Name of the stored token to remove."`
	Yes  bool   `short:"y" help:"Do not ask for confirmation."`
}

type tokenListCmd struct {
	JSON bool `name:"json" help:"Print a JSON array of name, preview, kind, login and expiry, for scripts."`
}

// listedToken is one token as token list --json prints it: never the secret.
type listedToken struct {
	Name    string     `json:"name"`
	Preview string     `json:"preview"`
	Kind    string     `json:"kind,omitempty"`
	Login   string     `json:"login,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
}

func (c *tokenAddCmd) Run(env *Env) error {
	kr, err := openFor(env, c.Name)
	if err != nil {
		return err
	}
	defer kr.Close()
	switch _, err := kr.Get(c.Name); {
	case err == nil:
		return fmt.Errorf("token %s already exists; to replace it: jailrun token rotate --name %s", c.Name, c.Name)
	case !errors.Is(err, keyring.ErrNotFound):
		return err
	}
	// Where nothing can be stored, say so before asking for the token.
	if err := canStore(kr); err != nil {
		return err
	}
	secret, meta, err := readToken(env, newInput(env), c.Name, c.NoVerify, c.Force)
	if err != nil {
		return err
	}
	if err := store(env, kr, keyring.Token{Name: c.Name, Secret: secret, Meta: meta}, "Saved"); err != nil {
		return err
	}
	if cfg, err := config.Load(env.Getenv); err == nil {
		hintUnselectable(env, cfg, c.Name)
	}
	return nil
}

func (c *tokenRotateCmd) Run(env *Env) error {
	kr, current, err := openRegistered(env, c.Name)
	if err != nil {
		return err
	}
	defer kr.Close()
	fmt.Fprintf(env.Stderr, "Current %s: %s, %s\n", c.Name, keyring.Preview(current.Secret), currentExpiry(env, current, !c.NoVerify))
	in := newInput(env)
	if err := in.canConfirm(c.Yes); err != nil {
		return err
	}
	// The new token is read hidden before the question: a token pasted at
	// once must never land on an echoing terminal.
	secret, meta, err := readToken(env, in, c.Name, c.NoVerify, c.Force)
	if err != nil {
		return err
	}
	prompt := fmt.Sprintf("Replace %s with %s? [y/N] ", keyring.Preview(current.Secret), keyring.Preview(secret))
	if err := in.confirm(prompt, c.Yes); err != nil {
		return err
	}
	return store(env, kr, keyring.Token{Name: c.Name, Secret: secret, Meta: meta}, "Updated")
}

// readToken reads a token for name from in, checks its form (unless
// force) and learns its metadata (from GitHub unless noVerify). Empty
// input is an error: nothing is stored.
func readToken(env *Env, in *input, name string, noVerify, force bool) (string, keyring.Meta, error) {
	secret, err := in.secret(fmt.Sprintf("Enter the token for %s (input hidden): ", name))
	switch {
	case err != nil:
		return "", keyring.Meta{}, err
	case secret == "":
		return "", keyring.Meta{}, fmt.Errorf("no token entered; nothing stored under %s", name)
	}
	if !force {
		if err := checkTokenForm(name, secret); err != nil {
			return "", keyring.Meta{}, err
		}
	}
	meta, err := newTokenMeta(env, name, secret, noVerify)
	return secret, meta, err
}

// store puts t in the keyring and says done ("Saved", "Updated") with a
// preview.
func store(env *Env, kr keyring.Store, t keyring.Token, done string) error {
	if err := kr.Put(t); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s %s (%s)\n", done, t.Name, keyring.Preview(t.Secret))
	return nil
}

func (c *tokenDeleteCmd) Run(env *Env) error {
	kr, err := openFor(env, c.Name)
	if err != nil {
		return err
	}
	defer kr.Close()
	current, err := kr.Get(c.Name)
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("token %s is not registered, so there is nothing to delete; jailrun token list shows the stored names", c.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "Token %s: %s\n", c.Name, keyring.Preview(current.Secret))
	if err := newInput(env).confirm("Delete? [y/N] ", c.Yes); err != nil {
		return err
	}
	if err := kr.Delete(c.Name); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Deleted %s\n", c.Name)
	return nil
}

// storedTokens returns every item jailrun keeps in the keychain, tokens
// and Apps.
func storedTokens(env *Env) ([]keyring.Token, error) {
	kr, err := env.OpenKeyring()
	if err != nil {
		return nil, err
	}
	defer kr.Close()
	return kr.List()
}

func (c *tokenListCmd) Run(env *Env) error {
	tokens, err := storedTokens(env)
	if err != nil {
		return err
	}
	if c.JSON {
		listed := []listedToken{}
		for _, t := range tokens {
			l := listedToken{Name: t.Name, Preview: keyring.Preview(t.Secret), Kind: t.Meta.Kind, Login: t.Meta.Login}
			if l.Kind == "" { // stored by another tool: the prefix tells
				l.Kind = github.KindOf(t.Secret)
			}
			if !t.Meta.Expires.IsZero() {
				l.Expires = &t.Meta.Expires
			}
			listed = append(listed, l)
		}
		out, err := json.MarshalIndent(listed, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", out)
		return nil
	}
	if len(tokens) == 0 {
		fmt.Fprintln(env.Stderr, "No tokens stored. Add one: jailrun token add --name github:fine-grained-myorg")
		return nil
	}
	table := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "NAME\tPREVIEW\tKIND\tLOGIN\tEXPIRES")
	now := env.Now()
	for _, t := range tokens {
		kind := t.Meta.Kind
		if kind == "" {
			kind = github.KindOf(t.Secret)
		}
		expires := "unknown"
		if !t.Meta.Expires.IsZero() {
			expires = describeValidity(t.Meta.Expires, now)
		}
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\n", t.Name, keyring.Preview(t.Secret), orDash(kind), orDash(t.Meta.Login), expires)
	}
	if err := table.Flush(); err != nil {
		return err
	}
	if cfg, err := config.Load(env.Getenv); err == nil {
		for _, t := range tokens {
			hintUnselectable(env, cfg, t.Name)
		}
	}
	return nil
}

// orDash writes "" as "-", so that a table's columns stay readable.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// hintUnselectable says, for a github: token that no route, convention or
// default can ever select, how to make it useful.
func hintUnselectable(env *Env, cfg config.Config, name string) {
	if !isGitHubToken(name) || routing.Selectable(cfg, name) {
		return
	}
	fmt.Fprintf(env.Stderr, "hint: no route or convention selects %s, so git and gh never get it; store it as %sOWNER, or route an owner to it: GH_TOKEN_ROUTES=\"OWNER=%s\"\n",
		name, routing.ConventionPrefix, strings.TrimPrefix(name, config.Namespace))
}

// canStore reports whether kr can store new tokens, for keyrings that can
// tell (the Secret Service may have no default collection).
func canStore(kr keyring.Keyring) error {
	if s, ok := kr.(interface{ CanStore() error }); ok {
		return s.CanStore()
	}
	return nil
}

// openFor checks the token name a command was given and opens the keyring.
func openFor(env *Env, name string) (keyring.Keyring, error) {
	if err := keyring.ValidateName(name); err != nil {
		return nil, usageError{err.Error()}
	}
	return env.OpenKeyring()
}

// openRegistered opens the keyring for a command on the stored token
// called name and returns it with the token; on error the keyring is closed.
func openRegistered(env *Env, name string) (keyring.Keyring, keyring.Token, error) {
	kr, err := openFor(env, name)
	if err != nil {
		return nil, keyring.Token{}, err
	}
	t, err := getRegistered(kr, name)
	if err != nil {
		kr.Close()
		return nil, keyring.Token{}, err
	}
	return kr, t, nil
}

// getRegistered returns the stored token called name, or an error that
// says how to add it.
func getRegistered(kr keyring.Store, name string) (keyring.Token, error) {
	t, err := kr.Get(name)
	if errors.Is(err, keyring.ErrNotFound) {
		return t, fmt.Errorf("token %s is not registered; add it: jailrun token add --name %s", name, name)
	}
	return t, err
}

// minTokenLength is shorter than any token GitHub issues: a shorter one
// was cut when copied.
const minTokenLength = 20

// checkTokenForm refuses, for a github: name, a secret that is not in one
// of the forms GitHub issues tokens in, saying why without showing it.
func checkTokenForm(name, secret string) error {
	if !isGitHubToken(name) {
		return nil
	}
	const retry = "copy it again from GitHub, or pass --force to store it as it is"
	switch {
	case github.KindOf(secret) == "":
		return fmt.Errorf("the token does not start with a GitHub token prefix (ghp_, github_pat_, gho_, ghu_, ghs_, ghr_); nothing stored; %s", retry)
	case len(secret) < minTokenLength:
		return fmt.Errorf("the token is %d characters long, shorter than any GitHub token; nothing stored; %s", len(secret), retry)
	}
	return nil
}

// input reads answers and tokens from the terminal (hidden) or, when stdin
// is not a terminal, one line each from stdin.
type input struct {
	env    *Env
	lines  *bufio.Reader
	ttyFD  int
	isTerm bool
}

func newInput(env *Env) *input {
	in := &input{env: env, lines: bufio.NewReaderSize(env.Stdin, 4096)}
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		in.ttyFD, in.isTerm = int(f.Fd()), true
	}
	return in
}

// maxLine bounds what is read as one answer or token.
const maxLine = 64 << 10

// canConfirm reports whether confirm could ask: piped input needs yes,
// since its first line is more likely a token than an answer.
func (in *input) canConfirm(yes bool) error {
	if !yes && !in.isTerm {
		return usageError{"stdin is not a terminal, so there is no one to ask; pass --yes to confirm"}
	}
	return nil
}

// confirm asks prompt on a terminal; yes skips the question.
func (in *input) confirm(prompt string, yes bool) error {
	if yes {
		return nil
	}
	if err := in.canConfirm(yes); err != nil {
		return err
	}
	fmt.Fprint(in.env.Stderr, prompt)
	answer, err := in.line()
	if err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errors.New("cancelled; nothing changed")
}

// secret reads a token: hidden on a terminal, else one line of stdin. It
// returns "" for empty input and refuses a token with inner spaces or
// control characters (a paste gone wrong).
func (in *input) secret(prompt string) (string, error) {
	var s string
	if in.isTerm {
		// Echo goes off before the prompt shows: what is typed after it
		// is never echoed.
		restore, err := echoOff(in.ttyFD, in.env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(in.env.Stderr, prompt)
		s, err = in.line()
		restore()
		fmt.Fprintln(in.env.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading the token: %v", err)
		}
	} else {
		line, err := in.line()
		if err != nil {
			return "", err
		}
		s = line
	}
	s = strings.TrimSpace(s)
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", errors.New("the token contains spaces or control characters; copy it again from GitHub")
	}
	return s, nil
}

// line reads one line of at most maxLine bytes; EOF ends the last line.
func (in *input) line() (string, error) {
	var b strings.Builder
	for {
		chunk, err := in.lines.ReadSlice('\n')
		if b.Len()+len(chunk) > maxLine {
			return "", fmt.Errorf("input line longer than %d bytes", maxLine)
		}
		b.Write(chunk)
		switch {
		case err == nil, err == io.EOF:
			return strings.TrimRight(b.String(), "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return "", fmt.Errorf("reading stdin: %v", err)
		}
	}
}

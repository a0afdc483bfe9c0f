package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/jailrun/jailrun/apptoken"
	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/helper"
	"github.com/jailrun/jailrun/internal/saferead"
	"github.com/jailrun/jailrun/keyring"
	"github.com/jailrun/jailrun/session"
)

type appCmd struct {
	Add    appAddCmd    `cmd:"" help:"Store a GitHub App's id and private key in the keychain, for session tokens it mints."`
	List   appListCmd   `cmd:"" aliases:"ls" help:"List the stored GitHub Apps."`
	Delete appDeleteCmd `cmd:"" help:"Remove a stored GitHub App."`
}

type appAddCmd struct {
	Name     string `required:"" placeholder:"NAME" help:"Name to store it as; routes name it app:NAME (e.g. myorg=app:myorg)."`
	AppID    int64  `name:"app-id" required:"" placeholder:"ID" help:"The App's id (its settings page, About)."`
	Host     string `default:"github.com" help:"The GitHub host the App belongs to; GitHub Enterprise's API is https://HOST/api/v3."`
	KeyFile  string `name:"key-file" placeholder:"FILE" help:"The App's private key (.pem); without it, read from stdin."`
	NoVerify bool   `help:"Store without asking GitHub (GET /app) whether the key is the App's."`
}

type appListCmd struct{}

type appDeleteCmd struct {
	Name string `required:"" placeholder:"NAME" help:"Name of the stored App (myorg or app:myorg)."`
	Yes  bool   `short:"y" help:"Do not ask for confirmation."`
}

// appName is NAME as a keychain name, app:NAME.
func appName(name string) (string, error) {
	full, ok := config.AppName(name)
	if !ok {
		return "", usageError{fmt.Sprintf("--name %q is not a plain name like myorg", name)}
	}
	return full, nil
}

// maxKeyFile bounds a private key's PEM (a 4096-bit key is about 3 KB).
const maxKeyFile = 64 << 10

func (c *appAddCmd) Run(env *Env) error {
	name, err := appName(c.Name)
	if err != nil {
		return err
	}
	host := config.LowerASCII(c.Host)
	if c.AppID <= 0 {
		return usageError{"--app-id must be the App's number, from its settings page"}
	}
	var pemData []byte
	if c.KeyFile != "" {
		if pemData, err = saferead.ReadUserFile(c.KeyFile, maxKeyFile); err != nil {
			return fmt.Errorf("cannot read the App's private key: %v", err)
		}
	} else if pemData, err = io.ReadAll(io.LimitReader(env.Stdin, maxKeyFile)); err != nil {
		return fmt.Errorf("cannot read the App's private key from stdin: %v", err)
	}
	key, err := github.ParseAppKey(pemData)
	if err != nil {
		return fmt.Errorf("%v; nothing stored", err)
	}
	tok := keyring.Token{Name: name, Secret: apptoken.Stored{ID: c.AppID, Host: host, Key: string(pemData)}.Encode(),
		Meta: keyring.Meta{Kind: "github app"}}
	if !c.NoVerify {
		client, err := github.NewClient(github.APIBase(host, env.Getenv), env.Getenv)
		if err != nil {
			return err
		}
		appJWT, err := github.AppJWT(c.AppID, key, env.Now())
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), apptoken.Timeout)
		defer cancel()
		info, err := client.App(ctx, appJWT)
		if errors.Is(err, github.ErrRejected) {
			return fmt.Errorf("%s refused the key for App %d: they do not belong together, or the key was deleted; nothing stored (generate a key on the App's settings page)", host, c.AppID)
		}
		if err != nil {
			return fmt.Errorf("%v; nothing stored (--no-verify stores it unchecked)", err)
		}
		tok.Meta.Login = info.Slug
		fmt.Fprintf(env.Stderr, "verified: App %d is %s (%s)\n", c.AppID, info.Slug, host)
	}
	kr, err := env.OpenKeyring()
	if err != nil {
		return err
	}
	defer kr.Close()
	if err := kr.Put(tok); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Stored %s\n", name)
	fmt.Fprintf(env.Stderr, "Route an owner to it in the jailrun config: GH_TOKEN_ROUTES=\"OWNER=%s\"\n", name)
	if c.KeyFile != "" {
		fmt.Fprintf(env.Stderr, "The key is in the keychain now; delete the downloaded file: rm %s\n", c.KeyFile)
	}
	return nil
}

func (c *appListCmd) Run(env *Env) error {
	tokens, err := storedTokens(env)
	if err != nil {
		return err
	}
	table := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "NAME\tAPP ID\tHOST\tSLUG")
	n := 0
	for _, t := range tokens {
		if !apptoken.Is(t.Name) {
			continue
		}
		n++
		app, _, err := apptoken.Decode(t.Secret)
		if err != nil {
			fmt.Fprintf(table, "%s\t-\t-\t(%v)\n", t.Name, err)
			continue
		}
		fmt.Fprintf(table, "%s\t%d\t%s\t%s\n", t.Name, app.ID, app.Host, orDash(t.Meta.Login))
	}
	if n == 0 {
		fmt.Fprintln(env.Stderr, "No GitHub Apps stored. Add one: jailrun app add --name myorg --app-id ID --key-file KEY.pem")
		return nil
	}
	return table.Flush()
}

func (c *appDeleteCmd) Run(env *Env) error {
	name, err := appName(c.Name)
	if err != nil {
		return err
	}
	kr, err := env.OpenKeyring()
	if err != nil {
		return err
	}
	defer kr.Close()
	if _, err := kr.Get(name); errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%s is not stored, so there is nothing to delete; jailrun app list shows the stored Apps", name)
	} else if err != nil {
		return err
	}
	if err := newInput(env).confirm("Delete "+name+"? [y/N] ", c.Yes); err != nil {
		return err
	}
	if err := kr.Delete(name); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Deleted %s\n", name)
	return nil
}

// mintInProcess mints an App's token for the helper when jailrun itself
// is the helper (macOS).
func mintInProcess(ctx context.Context, app keyring.Token, cfg config.Config, owner, repo string) (keyring.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, apptoken.Timeout)
	defer cancel()
	return apptoken.Serve(ctx, app, cfg, session.StateDir(os.Getenv), os.Getenv, owner, repo)
}

// mintForHelper is helper.MintCommand: it mints the token the helper asks
// for on stdin and writes it to stdout, so that the helper starts without
// an HTTP client of its own.
func mintForHelper(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	var req helper.MintRequest
	if err := json.NewDecoder(io.LimitReader(stdin, 1<<20)).Decode(&req); err != nil {
		fmt.Fprintf(stderr, "jailrun: %s is git-credential-jailrun's, which writes its request on stdin: %v\n", helper.MintCommand, err)
		return 2
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "jailrun: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), apptoken.Timeout)
	defer cancel()
	tok, err := apptoken.Serve(ctx, keyring.Token{Name: req.App, Secret: req.Item}, cfg, session.StateDir(getenv), getenv, req.Owner, req.Repo)
	if err != nil {
		fmt.Fprintf(stderr, "jailrun: %v\n", err)
		return 1
	}
	json.NewEncoder(stdout).Encode(helper.MintAnswer{Name: tok.Name, Secret: tok.Secret, Kind: tok.Meta.Kind, Expires: tok.Meta.Expires})
	return 0
}

package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/keyring"
)

// MintFunc mints a token for owner/repo from the GitHub App whose
// keychain item is app (see apptoken.Serve).
type MintFunc func(ctx context.Context, app keyring.Token, cfg config.Config, owner, repo string) (keyring.Token, error)

// MintCommand is jailrun's hidden command that mints an App's token for
// the helper, which thus starts without an HTTP client of its own: it
// reads a MintRequest on stdin and writes a MintAnswer on stdout, or one
// line on stderr and exits 1.
const MintCommand = "_app-token"

// MintRequest is what the helper hands jailrun: the App's keychain item
// (id and key, never in argv) and the repository.
type MintRequest struct {
	App   string `json:"app"`
	Item  string `json:"item"`
	Owner string `json:"owner"`
	Repo  string `json:"repo"`
}

// MintAnswer is the token jailrun minted.
type MintAnswer struct {
	Name    string    `json:"name"`
	Secret  string    `json:"secret"`
	Kind    string    `json:"kind"`
	Expires time.Time `json:"expires"`
}

// mintTimeout bounds jailrun's mint: it covers apptoken.Timeout's
// exchange with GitHub and jailrun's start.
const mintTimeout = 30 * time.Second

// execMint mints through jailrun (installed next to the helper, else on
// PATH).
func execMint(ctx context.Context, app keyring.Token, _ config.Config, owner, repo string) (keyring.Token, error) {
	jailrun, err := jailrunPath()
	if err != nil {
		return keyring.Token{}, err
	}
	req, _ := json.Marshal(MintRequest{App: app.Name, Item: app.Secret, Owner: owner, Repo: repo}) // strings only: it cannot fail
	ctx, cancel := context.WithTimeout(ctx, mintTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, jailrun, MintCommand)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(req), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if line := strings.TrimSpace(firstLine(stderr.String())); line != "" {
			return keyring.Token{}, errors.New(strings.TrimPrefix(line, "jailrun: "))
		}
		return keyring.Token{}, fmt.Errorf("%s could not mint a token with jailrun (%v)", app.Name, err)
	}
	var ans MintAnswer
	if err := json.NewDecoder(io.LimitReader(&stdout, 1<<16)).Decode(&ans); err != nil || ans.Secret == "" {
		return keyring.Token{}, fmt.Errorf("%s: jailrun's answer could not be read; is %s from the same release? run ./install.sh", app.Name, jailrun)
	}
	return keyring.Token{Name: ans.Name, Secret: ans.Secret, Meta: keyring.Meta{Kind: ans.Kind, Expires: ans.Expires}}, nil
}

// jailrunPath is the jailrun installed next to the running helper, else
// the first on PATH.
func jailrunPath() (string, error) {
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			if p := filepath.Join(filepath.Dir(self), "jailrun"); isExecutable(p) {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath("jailrun")
	if err != nil {
		return "", errors.New("an App's token is minted by jailrun, which is neither next to this helper nor on PATH; run ./install.sh")
	}
	return p, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

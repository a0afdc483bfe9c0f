// Package apptoken turns a GitHub App of the user's, kept in the keychain,
// into session tokens: minted at launch for the session's one repository
// with the narrowest permissions its work needs, renewed before they
// expire, revoked when the session ends.
package apptoken

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jailrun/jailrun/config"
	"github.com/jailrun/jailrun/github"
	"github.com/jailrun/jailrun/internal/saferead"
	"github.com/jailrun/jailrun/keyring"
)

// Namespace starts the keychain name of every App: app:NAME.
const Namespace = config.AppNamespace

// Timeout bounds one exchange with an App's API: checking its key, or
// minting a token.
const Timeout = 20 * time.Second

// Is reports whether the token name is an App's.
func Is(name string) bool { return strings.HasPrefix(name, Namespace) }

// Stored is what an App's keychain item holds, as JSON: never a file.
type Stored struct {
	ID   int64  `json:"app_id"`
	Host string `json:"host"`        // the GitHub host it belongs to
	Key  string `json:"private_key"` // PEM
}

// Encode is s as the item's secret.
func (s Stored) Encode() string {
	b, _ := json.Marshal(s) // strings and a number: it cannot fail
	return string(b)
}

// Decode reads an App's item secret.
func Decode(secret string) (Stored, *rsa.PrivateKey, error) {
	var s Stored
	if err := json.Unmarshal([]byte(secret), &s); err != nil || s.ID <= 0 {
		return Stored{}, nil, errors.New("the keychain item is not a GitHub App that jailrun stored; store it again: jailrun app add")
	}
	key, err := github.ParseAppKey([]byte(s.Key))
	if err != nil {
		return Stored{}, nil, err
	}
	return s, key, nil
}

// DefaultPermissions are what a session's token may do when
// JAILRUN_APP_PERMISSIONS does not say: push branches and open pull
// requests and issues, read the rest of the repository.
var DefaultPermissions = map[string]string{"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"}

// Permissions is JAILRUN_APP_PERMISSIONS ("contents:write issues:read
// …") as the API takes it; the default for "".
func Permissions(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return maps.Clone(DefaultPermissions), nil
	}
	p := map[string]string{}
	for _, e := range strings.Fields(s) {
		name, level, ok := strings.Cut(e, ":")
		if !ok || name == "" || (level != "read" && level != "write") {
			return nil, fmt.Errorf("JAILRUN_APP_PERMISSIONS entry %q is not NAME:read or NAME:write (e.g. contents:write)", e)
		}
		p[name] = level
	}
	return p, nil
}

// Minter mints the tokens of one App.
type Minter struct {
	Name        string // app:NAME
	App         Stored
	Key         *rsa.PrivateKey
	Client      *github.Client
	Permissions map[string]string
	Cache       string // the file that remembers installation ids (not secret); "" for none
	Now         func() time.Time
}

// NewMinter makes the minter of the App tok (as the keychain holds it),
// talking to its host's API.
func NewMinter(tok keyring.Token, permissions map[string]string, cache string, getenv func(string) string) (*Minter, error) {
	app, key, err := Decode(tok.Secret)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", tok.Name, err)
	}
	client, err := github.NewClient(github.APIBase(app.Host, getenv), getenv)
	if err != nil {
		return nil, err
	}
	return &Minter{Name: tok.Name, App: app, Key: key, Client: client, Permissions: permissions, Cache: cache, Now: time.Now}, nil
}

// Mint returns a token for OWNER/REPO alone: one API call when the
// installation's id is remembered, two the first time.
func (m *Minter) Mint(ctx context.Context, owner, repo string) (github.Minted, error) {
	m.Client.Warm() // the connection opens while the JWT is signed
	appJWT, err := github.AppJWT(m.App.ID, m.Key, m.Now())
	if err != nil {
		return github.Minted{}, err
	}
	key := m.Name + " " + strings.ToLower(m.App.Host+"/"+owner)
	id, known := readCache(m.Cache)[key]
	if !known {
		if id, err = m.Client.Installation(ctx, appJWT, owner, repo); err != nil {
			return github.Minted{}, m.explain(ctx, appJWT, owner, repo, err)
		}
	}
	minted, err := m.Client.AccessToken(ctx, appJWT, id, []string{repo}, m.Permissions)
	if errors.Is(err, github.ErrNotInstalled) && known { // reinstalled since: look it up again
		writeCache(m.Cache, key, 0)
		return m.Mint(ctx, owner, repo)
	}
	if err != nil {
		return github.Minted{}, m.explain(ctx, appJWT, owner, repo, err)
	}
	if !known {
		writeCache(m.Cache, key, id)
	}
	return minted, nil
}

// clockSkew is how far GitHub's clock may be from ours before a refused
// JWT is blamed on the clock.
const clockSkew = 30 * time.Second

// explain says in one line why minting failed, and what to do: install
// the App (with the link), set the clock right, store the right key.
func (m *Minter) explain(ctx context.Context, appJWT, owner, repo string, err error) error {
	var rejected *github.RejectedError
	if errors.As(err, &rejected) {
		// Date has whole seconds: ours is compared at the same precision.
		if skew := m.Now().Truncate(time.Second).Sub(rejected.Date); !rejected.Date.IsZero() && (skew > clockSkew || skew < -clockSkew) {
			return fmt.Errorf("%s: GitHub refused the App's token because this machine's clock is %s off GitHub's; set the clock right (timedatectl set-ntp true)",
				m.Name, skew.Abs().Round(time.Second))
		}
		return fmt.Errorf("%s: GitHub refused the App's private key (App %d): the id and the key do not belong together, or the key was deleted; store a current key: jailrun app add --name %s --app-id %d",
			m.Name, m.App.ID, strings.TrimPrefix(m.Name, Namespace), m.App.ID)
	}
	if !errors.Is(err, github.ErrNotInstalled) {
		return fmt.Errorf("%s: %v", m.Name, err)
	}
	link := "the App's page on " + m.App.Host
	if info, ierr := m.Client.App(ctx, appJWT); ierr == nil && info.Slug != "" {
		link = "https://" + m.App.Host + "/apps/" + info.Slug + "/installations/new"
	}
	return fmt.Errorf("%s (App %d) is not installed on %s/%s; install it there: %s", m.Name, m.App.ID, owner, repo, link)
}

// readCache returns the remembered installation ids; none when the file
// is missing or unreadable.
func readCache(path string) map[string]int64 {
	ids := map[string]int64{}
	if path == "" {
		return ids
	}
	data, err := saferead.ReadFile(path, 1<<20)
	if err == nil {
		json.Unmarshal(data, &ids)
	}
	return ids
}

// writeCache remembers id for key (0 forgets it), replacing the file
// whole; a failure only costs the next launch a call.
func writeCache(path, key string, id int64) {
	if path == "" {
		return
	}
	ids := readCache(path)
	if id == 0 {
		delete(ids, key)
	} else {
		ids[key] = id
	}
	data, _ := json.Marshal(ids)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".app-installations-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if errors.Join(werr, tmp.Close()) != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

// Session keeps a token for one repository fresh while a session runs.
type Session struct {
	m           *Minter
	owner, repo string
	host        string
	renewed     func(keyring.Token)
	failed      func(error)
	stop        chan struct{}
	done        chan struct{}
	mu          sync.Mutex
	current     github.Minted
	minted      []string // every token minted, to revoke
}

// Start mints the first token for OWNER/REPO on host and renews it
// before it expires: renewed gets each new one, failed each renewal that
// did not work (the old token then lasts until it expires).
func Start(ctx context.Context, m *Minter, host, owner, repo string, renewed func(keyring.Token), failed func(error)) (*Session, error) {
	first, err := m.Mint(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	s := &Session{m: m, owner: owner, repo: repo, host: host, renewed: renewed, failed: failed,
		stop: make(chan struct{}), done: make(chan struct{}), current: first, minted: []string{first.Token}}
	go s.renew()
	return s, nil
}

// Token is the current token, as the keychain's tokens are.
func (s *Session) Token() keyring.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return keyring.Token{Name: s.m.Name, Secret: s.current.Token,
		Meta: keyring.Meta{Expires: s.current.ExpiresAt, Kind: "app installation"}}
}

// Serves reports whether the session's token is for owner's repositories
// on host: the only ones it can serve.
func (s *Session) Serves(host, owner string) bool {
	return config.EqualFoldASCII(host, s.host) && config.EqualFoldASCII(owner, s.owner)
}

// Repo is OWNER/REPO, the token's one repository.
func (s *Session) Repo() string { return s.owner + "/" + s.repo }

// Permissions are the token's, as GitHub granted them.
func (s *Session) Permissions() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.current.Permissions)
}

// renewLead is how long before it expires a token is renewed: five
// minutes, or half its life when that is shorter.
func renewLead(life time.Duration) time.Duration { return min(5*time.Minute, life/2) }

// retryFirst and retryMax bound the waits after a renewal failed: they
// double from the first to the last, and only the first failure of a run
// of them is reported, so a network that is down does not flood the
// agent's terminal.
const (
	retryFirst = 30 * time.Second
	retryMax   = 5 * time.Minute
)

func (s *Session) renew() {
	defer close(s.done)
	var retry time.Duration // after a failure: the wait before the next try
	for {
		s.mu.Lock()
		life := s.current.ExpiresAt.Sub(s.m.Now())
		s.mu.Unlock()
		wait := max(life-renewLead(life), time.Second)
		if retry > 0 {
			wait = retry
		}
		select {
		case <-s.stop:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		next, err := s.m.Mint(ctx, s.owner, s.repo)
		cancel()
		if err != nil {
			if retry == 0 && s.failed != nil {
				s.failed(err)
			}
			retry = min(max(2*retry, retryFirst), retryMax)
			continue
		}
		retry = 0
		s.mu.Lock()
		s.current = next
		s.minted = append(s.minted, next.Token)
		renewed := s.renewed
		s.mu.Unlock()
		if renewed != nil {
			renewed(s.Token())
		}
	}
}

// Close stops renewing and revokes every token the session minted that
// has not expired yet.
func (s *Session) Close() error {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	tokens := slices.Clone(s.minted)
	s.mu.Unlock()
	var errs []error
	for _, t := range tokens {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.m.Client.RevokeToken(ctx, t); err != nil && !errors.Is(err, github.ErrRejected) { // rejected: expired already
			errs = append(errs, err)
		}
		cancel()
	}
	return errors.Join(errs...)
}

// CacheFile is where the installation ids are remembered, in jailrun's
// state directory (stateDir).
func CacheFile(stateDir string) string {
	if stateDir == "" {
		return ""
	}
	return filepath.Join(stateDir, "app-installations.json")
}

// Serve turns tok, when routing picked an App, into a token the App mints
// for OWNER/REPO alone, valid at most an hour; any other token comes back
// as it is. The App's key itself is never served.
func Serve(ctx context.Context, tok keyring.Token, cfg config.Config, stateDir string, getenv func(string) string, owner, repo string) (keyring.Token, error) {
	if !Is(tok.Name) {
		return tok, nil
	}
	if repo == "" {
		return keyring.Token{}, fmt.Errorf("%s mints a token for one repository; name it (OWNER/REPO)", tok.Name)
	}
	perms, err := Permissions(cfg.AppPermissions)
	if err != nil {
		return keyring.Token{}, err
	}
	m, err := NewMinter(tok, perms, CacheFile(stateDir), getenv)
	if err != nil {
		return keyring.Token{}, err
	}
	minted, err := m.Mint(ctx, owner, repo)
	if err != nil {
		return keyring.Token{}, err
	}
	return keyring.Token{Name: tok.Name, Secret: minted.Token, Meta: keyring.Meta{Expires: minted.ExpiresAt, Kind: "app installation"}}, nil
}

// OnRenew sets what gets each renewed token (the jail's placeholder
// vault); nil stops telling.
func (s *Session) OnRenew(f func(keyring.Token)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.renewed = f
}

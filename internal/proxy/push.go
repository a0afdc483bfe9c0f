package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jailrun/jailrun/internal/gitpolicy"
)

// PushPolicy keeps protected refs out of the agent's reach: the proxy
// reads the ref updates at the head of every push to a terminated host
// and refuses the whole push, before anything reaches GitHub, when one
// touches a protected ref.
type PushPolicy struct {
	Protect []string   // ref globs, gitpolicy.Protected's; "@default" the default branch
	Record  func(Push) // called once per push read, allowed or not; must not block
}

// Push is what the policy decided about one push.
type Push struct {
	Host     string              // the GitHub host, host or host:port
	Repo     string              // OWNER/REPO as the path names it
	Commands []gitpolicy.Command // the ref updates; none when the push could not be read
	Refused  map[string]string   // ref → reason, for the refs that made the policy refuse it
	Reason   string              // why the push was refused whole: a protected ref, or it could not be read
}

// pushTimeout bounds the API call that learns a default branch.
const pushTimeout = 15 * time.Second

// defaultBranches caches each repository's default branch for the session.
type defaultBranches struct {
	mu       sync.Mutex
	branches map[string]string // host/OWNER/REPO, lower case → refs/heads/NAME
}

// checkPush reads the ref updates of the push r carries to dest (whose
// Authorization is already the real token) and either refuses the push
// itself, answering as receive-pack would, or lets it go on: r's body
// then yields the bytes read again. It reports whether the push goes on.
func (s *Server) checkPush(w http.ResponseWriter, r *http.Request, dest Destination) bool {
	policy := s.opts.Terminate.Push
	push := Push{Host: dest.Entry()}
	owner, repo, ok := repoOfPush(r.URL.Path)
	push.Repo = owner + "/" + repo
	refuse := func(reason string) bool {
		push.Reason = reason
		policy.record(push)
		http.Error(w, "jailrun: "+reason, http.StatusForbidden)
		return false
	}
	switch enc := r.Header.Get("Content-Encoding"); {
	case !ok:
		push.Repo = ""
		return refuse("the push names no OWNER/REPO")
	case enc != "" && !strings.EqualFold(enc, "identity"):
		return refuse("the push is compressed (" + enc + "); jailrun reads pushes as git sends them, uncompressed")
	}
	body := bufio.NewReaderSize(r.Body, 64<<10)
	// Before a push larger than http.postBuffer, git probes with a body
	// that is only a flush: it updates nothing, so it goes on as it is.
	if probe, err := body.Peek(5); string(probe) == "0000" && err == io.EOF {
		r.Body = readCloser{Reader: body, Closer: r.Body}
		return true
	}
	cmds, caps, head, err := gitpolicy.ReadCommands(body)
	if err != nil {
		return refuse(err.Error())
	}
	push.Commands = cmds
	protect := policy.Protect
	var defaultRef string
	if slices.Contains(protect, gitpolicy.DefaultBranch) {
		if defaultRef, err = s.defaultBranch(r.Context(), dest.Entry(), owner, repo, r.Header.Get("Authorization")); err != nil {
			reasons := map[string]string{}
			why := fmt.Sprintf("jailrun: cannot learn %s/%s's default branch (%v); try again", owner, repo, err)
			push.Reason, push.Refused = why, reasons
			policy.record(push)
			s.answerRejection(w, body, cmds, caps, reasons, why)
			return false
		}
	}
	reasons := map[string]string{}
	for _, c := range cmds {
		if gitpolicy.Protected(c.Ref, protect, gitpolicy.ShortRef(defaultRef)) {
			reasons[c.Ref] = fmt.Sprintf("jailrun: %s is protected; push a branch and open a pull request", gitpolicy.ShortRef(c.Ref))
		}
	}
	if len(reasons) > 0 {
		push.Refused = reasons
		push.Reason = "a protected ref"
		policy.record(push)
		s.answerRejection(w, body, cmds, caps, reasons, "jailrun: the push was refused whole for its protected refs")
		return false
	}
	policy.record(push)
	r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(head), body), Closer: r.Body}
	return true
}

// answerRejection reads what is left of the push (its pack) and answers
// as receive-pack does, so that git shows each ref's reason.
func (s *Server) answerRejection(w http.ResponseWriter, rest io.Reader, cmds []gitpolicy.Command, caps []string, reasons map[string]string, others string) {
	// git sends the whole pack before it reads the answer; a closed
	// connection would show as a broken pipe instead of the reasons.
	buf := s.terminated.BufferPool.Get()
	io.CopyBuffer(io.Discard, rest, buf)
	s.terminated.BufferPool.Put(buf)
	w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(gitpolicy.Rejection(cmds, caps, reasons, others))
}

// defaultBranch returns the default branch of OWNER/REPO on the GitHub
// host ghHost, as refs/heads/NAME, asking its API once per session with
// auth.
func (s *Server) defaultBranch(ctx context.Context, ghHost, owner, repo, auth string) (string, error) {
	d := &s.defaults
	key := strings.ToLower(ghHost + "/" + owner + "/" + repo)
	d.mu.Lock()
	ref, ok := d.branches[key]
	d.mu.Unlock()
	if ok {
		return ref, nil
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	url := strings.TrimSuffix(s.opts.Terminate.APIBase(ghHost), "/") + "/repos/" + owner + "/" + repo
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.upstreamTLS.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var answer struct {
		DefaultBranch string `json:"default_branch"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the API answered %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil || answer.DefaultBranch == "" {
		return "", errors.New("the API named no default branch")
	}
	ref = "refs/heads/" + answer.DefaultBranch
	d.mu.Lock()
	if d.branches == nil {
		d.branches = map[string]string{}
	}
	d.branches[key] = ref
	d.mu.Unlock()
	return ref, nil
}

func (p *PushPolicy) record(push Push) {
	if p.Record != nil {
		p.Record(push)
	}
}

// repoOfPush reads OWNER and REPO from /OWNER/REPO[.git]/git-receive-pack.
func repoOfPush(path string) (owner, repo string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 3 || parts[2] != "git-receive-pack" || parts[0] == "" || parts[1] == "" ||
		parts[0] == "." || parts[0] == ".." || parts[1] == "." || parts[1] == ".." {
		return "", "", false
	}
	return parts[0], strings.TrimSuffix(parts[1], ".git"), true
}

type readCloser struct {
	io.Reader
	io.Closer
}

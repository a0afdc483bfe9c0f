// Package githubtest is an in-test HTTPS stand-in of the GitHub REST API:
// GET /user and a repository's rulesets, for the tokens a test registers.
// It answers both at the root, as api.github.com does, and below /api/v3,
// as GitHub Enterprise Server does.
package githubtest

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// User is what the stand-in answers for one token.
type User struct {
	Login string
	// Expiration is sent verbatim as GitHub-Authentication-Token-Expiration
	// when not empty.
	Expiration string
	// Scopes is sent verbatim as X-OAuth-Scopes when not nil.
	Scopes *string
	// Repos are the "owner/repo" (lower case) whose rulesets the token may
	// read and create; others answer 404.
	Repos []string
}

// Server is the stand-in, on 127.0.0.1 with a self-signed certificate.
type Server struct {
	URL    string // https://127.0.0.1:PORT, for JAILRUN_GITHUB_API
	Host   string // 127.0.0.1:PORT, a GitHub Enterprise host for GH_HOSTS
	CAFile string // PEM of its certificate, for SSL_CERT_FILE

	mu       sync.Mutex
	users    map[string]User             // token → user
	rulesets map[string][]map[string]any // lower-case owner/repo → rulesets
	requests []string                    // "METHOD PATH", in order
	bodies   map[string][]map[string]any // lower-case owner/repo → created bodies
}

// NewServer starts a stand-in that t closes.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		users:    map[string]User{},
		rulesets: map[string][]map[string]any{},
		bodies:   map[string][]map[string]any{},
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Host = srv.Listener.Addr().String()
	s.CAFile = filepath.Join(t.TempDir(), "githubtest-ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(s.CAFile, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// AddToken makes the stand-in accept token as u.
func (s *Server) AddToken(token string, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[token] = u
}

// AddRuleset defines a ruleset called name on owner/repo.
func (s *Server) AddRuleset(ownerRepo, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(ownerRepo)
	s.rulesets[key] = append(s.rulesets[key], map[string]any{"id": len(s.rulesets[key]) + 1, "name": name})
}

// Created returns the bodies of the rulesets created on owner/repo, in order.
func (s *Server) Created(ownerRepo string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies[strings.ToLower(ownerRepo)]...)
}

// Requests returns "METHOD PATH" of every request served, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	u, known := s.users[token]
	if !ok || !known {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
		return
	}
	if u.Expiration != "" {
		w.Header().Set("GitHub-Authentication-Token-Expiration", u.Expiration)
	}
	if u.Scopes != nil {
		w.Header().Set("X-OAuth-Scopes", *u.Scopes)
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	if path == "/user" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"login": u.Login, "id": 1})
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 4 || parts[0] != "repos" || parts[3] != "rulesets" {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	repo := strings.ToLower(parts[1] + "/" + parts[2])
	if !slices.ContainsFunc(u.Repos, func(v string) bool { return strings.EqualFold(v, repo) }) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		all := s.rulesets[repo]
		if page < 1 || perPage < 1 {
			page, perPage = 1, 30
		}
		start, end := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
		writeJSON(w, http.StatusOK, append([]map[string]any{}, all[start:end]...))
	case http.MethodPost:
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Problems parsing JSON"})
			return
		}
		name, _ := body["name"].(string)
		for _, rs := range s.rulesets[repo] {
			if rs["name"] == name {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Name must be unique"})
				return
			}
		}
		s.bodies[repo] = append(s.bodies[repo], body)
		s.rulesets[repo] = append(s.rulesets[repo], map[string]any{"id": len(s.rulesets[repo]) + 1, "name": name})
		writeJSON(w, http.StatusCreated, body)
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "Method Not Allowed"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

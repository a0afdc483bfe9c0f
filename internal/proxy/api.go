package proxy

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/jailrun/jailrun/internal/gitpolicy"
)

// APIPolicy holds the agent to everyday work in GitHub's API: every write
// to a terminated API host is decided by Policy before it goes anywhere.
type APIPolicy struct {
	Policy gitpolicy.API
	Record func(APIWrite) // called once per write, allowed or not; must not block
}

// APIWrite is what the policy decided about one write.
type APIWrite struct {
	Host, Method, Path string
	Reason             string // why it was refused; "" when it went on
}

// maxAPIBody bounds a write body the policy reads (a contents write
// carries the file, base64-encoded).
const maxAPIBody = 64 << 20

// apiRequest tells whether a request to dest is one to GitHub's API, and
// which: REST (its path below the API's root) or GraphQL. The api. and
// uploads. hosts serve the API at their root; GitHub Enterprise Server
// serves it at /api/v3 and /api/graphql.
func apiRequest(dest Destination, path string) (rest string, graphql, ok bool) {
	host := strings.ToLower(dest.Host)
	if strings.HasPrefix(host, "api.") || strings.HasPrefix(host, "uploads.") {
		return path, isGraphQL(path), true
	}
	if host == "github.com" || strings.HasSuffix(host, ".ghe.com") {
		return "", false, false // their API has hosts of its own; /api/… is an owner's repository
	}
	// GitHub Enterprise Server: the API under /api/v3, uploads under
	// /api/uploads, GraphQL at /api/graphql. Read in any case, as a
	// server might route them; any other path under /api is the API too,
	// which refuses what it does not know.
	lower := strings.ToLower(path)
	switch {
	case isGraphQL(strings.TrimPrefix(lower, "/api")) && strings.HasPrefix(lower, "/api/"):
		return "", true, true
	case strings.HasPrefix(lower, "/api/v3/"):
		return path[len("/api/v3"):], false, true
	case strings.HasPrefix(lower, "/api/uploads/"):
		return path[len("/api/uploads"):], false, true
	case lower == "/api" || strings.HasPrefix(lower, "/api/"):
		return path, false, true
	}
	return "", false, false
}

// isGraphQL reports whether path, on an API host, is GitHub's GraphQL
// endpoint, in any case and with or without a final slash.
func isGraphQL(path string) bool {
	return strings.EqualFold(strings.TrimSuffix(path, "/"), "/graphql")
}

// gitHubHost is the GitHub host an API host belongs to: github.com for
// api.github.com, the host itself for GitHub Enterprise Server.
func gitHubHost(dest Destination) string {
	entry := strings.ToLower(dest.Entry())
	for _, p := range []string{"api.", "uploads."} {
		if rest, ok := strings.CutPrefix(entry, p); ok {
			return rest
		}
	}
	return entry
}

// checkAPI decides a write r sends to dest's API (whose Authorization is
// already the real token), answering a refusal itself as GitHub's API
// would. It reports whether the write goes on.
func (s *Server) checkAPI(w http.ResponseWriter, r *http.Request, dest Destination, rest string, graphql bool) bool {
	api := s.opts.Terminate.API
	write := APIWrite{Host: dest.Entry(), Method: r.Method, Path: rest}
	if graphql {
		write.Path = "graphql"
	}
	refuse := func(reason string) bool {
		write.Reason = reason
		api.record(write)
		refuseJSON(w, r, dest, "jailrun: "+reason)
		return false
	}
	switch {
	case !plainPath(r.URL):
		return refuse("the request's path is not in its plain form (no . or .. segments, no empty ones, no encoded slashes)")
	case graphql && r.Method != http.MethodPost:
		return refuse("jailrun reads GraphQL requests from POST bodies only")
	case graphql && r.URL.RawQuery != "":
		return refuse("jailrun reads GraphQL requests from POST bodies only, with no query string")
	}
	var body []byte
	_, needsRef, _ := gitpolicy.BodyRef(r.Method, rest, nil)
	_, needsEvent, _ := gitpolicy.BodyEvent(r.Method, rest, nil)
	needsBody := needsRef || needsEvent
	if needsBody && r.URL.RawQuery != "" {
		// A server may read the branch or the review's event from the
		// query as well as from the body, where the policy reads it.
		return refuse(fmt.Sprintf("%s %s names its branch or event in the JSON body only; drop the query string", r.Method, rest))
	}
	if graphql || needsBody {
		types := r.Header.Values("Content-Type")
		if len(types) > 1 || len(types) == 1 && !isJSON(types[0]) && !isForm(types[0]) {
			return refuse(fmt.Sprintf("%s %s: jailrun reads API writes as JSON; send Content-Type: application/json", r.Method, rest))
		}
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, maxAPIBody+1)); err != nil {
			return refuse("the request's body could not be read")
		}
		if len(body) > maxAPIBody {
			return refuse(fmt.Sprintf("the request's body is over %d MB", maxAPIBody>>20))
		}
		if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
			return refuse("the request is compressed (" + enc + "); jailrun reads API writes uncompressed")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// The policy reads the body as JSON, as GitHub does whatever the
		// type (curl's --data says form, as GitHub's own examples send
		// it); a server that read a form in it would find other values
		// there, as in a "&event=APPROVE&" inside a JSON string.
		if len(types) == 1 && isForm(types[0]) {
			if name := formField(body, policyFields...); name != "" {
				return refuse(fmt.Sprintf("%s %s: its body, sent as a form, names %s as a form field; send it as JSON (Content-Type: application/json)", r.Method, rest, name))
			}
		}
	}
	if graphql {
		isWrite, ok, reason := api.Policy.DecideGraphQL(body)
		if !isWrite {
			return true
		}
		if !ok {
			return refuse(reason)
		}
		api.record(write)
		return true
	}
	req := gitpolicy.RESTWrite{Method: r.Method, Path: rest}
	if needsRef {
		ref, _, err := gitpolicy.BodyRef(r.Method, rest, body)
		if err != nil {
			return refuse(fmt.Sprintf("%s %s: %v", r.Method, rest, err))
		}
		req.Ref = ref
	}
	if needsEvent {
		event, _, err := gitpolicy.BodyEvent(r.Method, rest, body)
		if err != nil {
			return refuse(fmt.Sprintf("%s %s: %v", r.Method, rest, err))
		}
		req.Event = event
	}
	var defaultRef string
	if gitpolicy.ChangesRef(r.Method, rest) {
		seg := strings.Split(strings.Trim(rest, "/"), "/")
		ref, err := s.defaultBranch(r.Context(), gitHubHost(dest), seg[1], seg[2], r.Header.Get("Authorization"))
		if err != nil {
			return refuse(fmt.Sprintf("cannot learn %s/%s's default branch (%v); try again", seg[1], seg[2], err))
		}
		defaultRef = ref
	}
	if ok, reason := api.Policy.DecideREST(req, defaultRef); !ok {
		return refuse(reason)
	}
	api.record(write)
	return true
}

func (p *APIPolicy) record(w APIWrite) {
	if p.Record != nil {
		p.Record(w)
	}
}

// plainPath reports whether u's path means what it says: no "." or ".."
// segment and no empty one that a server could resolve into another
// repository's path, and no encoded slash.
func plainPath(u *url.URL) bool {
	if strings.Contains(strings.ToLower(u.RawPath), "%2f") || strings.Contains(u.EscapedPath(), "%2F") {
		return false
	}
	for _, seg := range strings.Split(strings.TrimPrefix(u.Path, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// servedAsWritten reports whether u's path is one every server reads
// alike: plainPath's, or the same with a slash at its end, or "/".
func servedAsWritten(u *url.URL) bool {
	v := *u
	v.Path, v.RawPath = strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(u.RawPath, "/")
	return v.Path == "" || plainPath(&v)
}

// isWrite reports whether method may change something.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// policyFields are the body fields the API policy reads.
var policyFields = []string{"event", "branch", "ref", "query", "variables"}

// isJSON reports whether the media type contentType names is JSON's.
func isJSON(contentType string) bool {
	media, _, err := mime.ParseMediaType(contentType)
	return err == nil && media == "application/json"
}

// isForm reports whether contentType names a URL-encoded form.
func isForm(contentType string) bool {
	media, _, err := mime.ParseMediaType(contentType)
	return err == nil && media == "application/x-www-form-urlencoded"
}

// formField returns the first of names that body, read as a URL-encoded
// form, has a field of (in any case, with [] or [key] after it), or "".
func formField(body []byte, names ...string) string {
	form, _ := url.ParseQuery(string(body)) // what parses, whatever does not
	for key := range form {
		base, _, _ := strings.Cut(key, "[")
		for _, n := range names {
			if strings.EqualFold(strings.TrimSpace(base), n) {
				return n
			}
		}
	}
	return ""
}

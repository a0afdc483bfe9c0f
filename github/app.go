package github

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ParseAppKey reads a GitHub App's private key: PEM, PKCS#1 (what GitHub
// hands out) or PKCS#8, RSA.
func ParseAppKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("the App's private key is not PEM; give the .pem file GitHub let you download")
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("the App's private key is neither PKCS#1 nor PKCS#8; give the .pem file GitHub let you download")
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the App's private key is not an RSA key; GitHub Apps sign with RSA")
	}
	return key, nil
}

// AppJWT is the token that authenticates as the App id: RS256, issued a
// minute in the past (GitHub's advice against clock drift), expiring in
// nine minutes (GitHub allows ten).
func AppJWT(id int64, key *rsa.PrivateKey, now time.Time) (string, error) {
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(id, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
}

// AppInfo is what GET /app says about an App.
type AppInfo struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// App asks GET /app which App the JWT authenticates.
func (c *Client) App(ctx context.Context, appJWT string) (AppInfo, error) {
	var info AppInfo
	if _, err := c.do(ctx, appJWT, http.MethodGet, "/app", nil, &info); err != nil {
		return AppInfo{}, err
	}
	return info, nil
}

// Installation returns the id of the App's installation that covers
// OWNER/REPO; ErrNotInstalled when there is none.
func (c *Client) Installation(ctx context.Context, appJWT, owner, repo string) (int64, error) {
	var inst struct {
		ID int64 `json:"id"`
	}
	_, err := c.do(ctx, appJWT, http.MethodGet, "/repos/"+owner+"/"+repo+"/installation", nil, &inst)
	var se *statusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return 0, ErrNotInstalled
	}
	if err != nil {
		return 0, err
	}
	return inst.ID, nil
}

// ErrNotInstalled reports that the App is not installed where asked.
var ErrNotInstalled = errors.New("the App is not installed there")

// Minted is an installation token.
type Minted struct {
	Token       string            `json:"token"`
	ExpiresAt   time.Time         `json:"expires_at"`
	Permissions map[string]string `json:"permissions"`
}

// AccessToken mints a token of installation id for repos alone with
// permissions (name → read|write). ErrNotInstalled when the installation
// is gone.
func (c *Client) AccessToken(ctx context.Context, appJWT string, id int64, repos []string, permissions map[string]string) (Minted, error) {
	body := map[string]any{"repositories": repos, "permissions": permissions}
	var m Minted
	_, err := c.do(ctx, appJWT, http.MethodPost, "/app/installations/"+strconv.FormatInt(id, 10)+"/access_tokens", body, &m)
	var se *statusError
	switch {
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
		return Minted{}, ErrNotInstalled
	case errors.As(err, &se) && se.Status == http.StatusUnprocessableEntity:
		return Minted{}, fmt.Errorf("the installation lacks a permission jailrun asks for (%s): %s; grant it in the App's settings and accept it on the installation, or narrow JAILRUN_APP_PERMISSIONS",
			FormatPermissions(permissions), se.Message)
	case err != nil:
		return Minted{}, err
	case m.Token == "":
		return Minted{}, fmt.Errorf("GitHub API %s: minting answered without a token", c.base)
	}
	return m, nil
}

// RevokeToken revokes an installation token (DELETE /installation/token).
func (c *Client) RevokeToken(ctx context.Context, token string) error {
	_, err := c.do(ctx, token, http.MethodDelete, "/installation/token", nil, nil)
	return err
}

// FormatPermissions writes permissions as "contents:write issues:write …",
// sorted.
func FormatPermissions(p map[string]string) string {
	names := make([]string, 0, len(p))
	for k, v := range p {
		names = append(names, k+":"+v)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// oidc-op is an OpenID provider for tests: the example OP of
// github.com/zitadel/oidc/v3 (example/server/exampleop: discovery, JWKS, the
// authorization code flow with PKCE behind a username/password login form,
// the token endpoint, in-memory storage) served over HTTPS, with what a test
// of Kubernetes OIDC authentication sets: the users and their groups, one
// confidential client, and the ID token's lifetime.
//
//	oidc-op --cert FILE --key FILE --users FILE --client-id ID
//	        --client-secret SECRET --redirect-uri URI
//	        [--listen 127.0.0.1:0] [--id-token-lifetime 1h] [--ready-file FILE]
//
// The issuer is https://<listen address> with the port the listener got
// (--listen 127.0.0.1:0 picks a free one). Once it serves, the issuer URL is
// written to --ready-file (atomically) and printed on stdout. It stops on
// SIGTERM or SIGINT.
//
// The users file is JSON: [{"id": "u1", "username": "alice", "password":
// "...", "email": "...", "groups": ["dev"]}]. An ID token carries
// preferred_username and email (scopes profile, email) and, with the scope
// groups, a "groups" claim. Built by hack/build-kube (the module's version
// in hack/versions.env).
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	scopeGroups = "groups"
	maxUsers    = 1 << 20 // bytes of the users file
)

type user struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	Email    string   `json:"email"`
	Groups   []string `json:"groups"`
}

// userStore is the example storage's UserStore, read from the users file.
type userStore struct {
	byID   map[string]*storage.User
	groups map[string][]string
}

func (u *userStore) GetUserByID(id string) *storage.User { return u.byID[id] }

func (u *userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.byID {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u *userStore) ExampleClientID() string { return storage.ServiceUserID }

func loadUsers(path string) (*userStore, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > maxUsers {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxUsers)
	}
	var list []user
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: not a JSON list of users (id, username, password, email, groups): %w", path, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: no users", path)
	}
	s := &userStore{byID: map[string]*storage.User{}, groups: map[string][]string{}}
	for i, x := range list {
		if x.ID == "" || x.Username == "" || x.Password == "" {
			return nil, fmt.Errorf("%s: user %d: id, username and password are required", path, i)
		}
		if s.byID[x.ID] != nil || s.GetUserByUsername(x.Username) != nil {
			return nil, fmt.Errorf("%s: user %d: id %q or username %q given twice", path, i, x.ID, x.Username)
		}
		s.byID[x.ID] = &storage.User{ID: x.ID, Username: x.Username, Password: x.Password,
			Email: x.Email, EmailVerified: x.Email != ""}
		s.groups[x.ID] = x.Groups
	}
	return s, nil
}

// opStorage is the example's in-memory storage, its clients given this ID
// token lifetime and the groups claim added.
type opStorage struct {
	*storage.Storage
	users    *userStore
	lifetime time.Duration
}

// client is the example's client with this ID token lifetime, the userinfo
// claims (preferred_username, email) in the ID token, and the groups scope.
type client struct {
	op.Client
	lifetime time.Duration
}

func (c client) IDTokenLifetime() time.Duration       { return c.lifetime }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) IsScopeAllowed(scope string) bool {
	return scope == scopeGroups || c.Client.IsScopeAllowed(scope)
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return client{Client: c, lifetime: s.lifetime}, nil
}

func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	for _, sc := range scopes {
		if g := s.users.groups[req.GetSubject()]; sc == scopeGroups && len(g) > 0 {
			info.AppendClaims("groups", g)
		}
	}
	return nil
}

type options struct {
	listen, cert, key, users, clientID, secret, redirect, ready string
	lifetime                                                    time.Duration
}

func parse() (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("oidc-op", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to serve HTTPS on; the issuer is https://ADDRESS")
	fs.StringVar(&o.cert, "cert", "", "serving certificate (PEM); must name the listen address")
	fs.StringVar(&o.key, "key", "", "its private key (PEM)")
	fs.StringVar(&o.users, "users", "", "users file (JSON list: id, username, password, email, groups)")
	fs.StringVar(&o.clientID, "client-id", "", "the one confidential client's id (also the ID token's audience)")
	fs.StringVar(&o.secret, "client-secret", "", "its secret (HTTP Basic at the token endpoint)")
	fs.StringVar(&o.redirect, "redirect-uri", "", "its redirect URI")
	fs.StringVar(&o.ready, "ready-file", "", "written with the issuer URL once serving")
	fs.DurationVar(&o.lifetime, "id-token-lifetime", time.Hour, "lifetime of an ID token")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	required := []struct{ flag, value string }{{"--cert", o.cert}, {"--key", o.key}, {"--users", o.users},
		{"--client-id", o.clientID}, {"--client-secret", o.secret}, {"--redirect-uri", o.redirect}}
	for _, r := range required {
		if r.value == "" {
			return nil, fmt.Errorf("%s is required", r.flag)
		}
	}
	if o.lifetime < time.Second {
		return nil, fmt.Errorf("--id-token-lifetime %s: must be at least 1s", o.lifetime)
	}
	return o, nil
}

func writeReady(path, issuer string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(issuer+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func run() error {
	o, err := parse()
	if err != nil {
		return err
	}
	users, err := loadUsers(o.users)
	if err != nil {
		return fmt.Errorf("--users: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(o.cert, o.key)
	if err != nil {
		return fmt.Errorf("--cert/--key: %w", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	issuer := "https://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	storage.RegisterClients(storage.WebClient(o.clientID, o.secret, o.redirect))
	st := &opStorage{Storage: storage.NewStorage(users), users: users, lifetime: o.lifetime}
	srv := &http.Server{
		Handler:           exampleop.SetupServer(issuer, st, logger, false),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if o.ready != "" {
		if err := writeReady(o.ready, issuer); err != nil {
			return fmt.Errorf("--ready-file: %w", err)
		}
	}
	fmt.Println(issuer)
	logger.Info("serving", "issuer", issuer)
	select {
	case err := <-done:
		return fmt.Errorf("serving %s: %w", issuer, err)
	case <-sigs:
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "oidc-op: %v\n", err)
		os.Exit(1)
	}
}

package config

import (
	"github.com/hsmwatch/hsmwatch/internal/secretfile"

	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/gosnmp/gosnmp"
	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// problems lists what is wrong with a user; trap says it is one of the trap receiver's, for
// which the receiver-only keys are allowed.
func (u SNMPUser) problems(key string, trap bool) []problem {
	var ps []problem
	add := func(k, format string, args ...any) { ps = append(ps, problem{key + k, fmt.Sprintf(format, args...)}) }
	if u.Name == "" {
		add(".name", "required")
	}
	if u.AuthPassFile != "" && u.AuthPassEnv != "" {
		add("", "give auth_pass_file or auth_pass_env, not both")
	}
	if u.PrivPassFile != "" && u.PrivPassEnv != "" {
		add("", "give priv_pass_file or priv_pass_env, not both")
	}
	if (u.PrivPassFile != "" || u.PrivPassEnv != "") && u.AuthPassFile == "" && u.AuthPassEnv == "" {
		add("", "a privacy passphrase needs an authentication passphrase (auth_pass_file or auth_pass_env)")
	}
	if u.AuthProto != "" {
		if _, err := usm.AuthProtocol(u.AuthProto); err != nil {
			add(".auth_proto", "%v", err)
		}
	}
	if u.PrivProto != "" {
		if _, err := usm.PrivProtocol(u.PrivProto); err != nil {
			add(".priv_proto", "%v", err)
		}
	}
	for i, s := range u.EngineIDs {
		if _, err := usm.ParseEngineID(s); err != nil {
			add(fmt.Sprintf(".engine_ids[%d]", i), "%v", err)
		}
	}
	if u.MinSecurity != "" {
		if !trap {
			add(".min_security", "applies to the trap receiver's users (sources.traps.users) only")
		} else if _, err := receiver.ParseLevel(u.MinSecurity); err != nil {
			add(".min_security", "%v", err)
		}
	}
	if u.NoTimeliness && !trap {
		add(".no_timeliness", "applies to the trap receiver's users (sources.traps.users) only")
	}
	return ps
}

// Check lists what is wrong with a user configured under key (relative to its entry:
// "user"); trap says it is one of the trap receiver's, which may set min_security and
// no_timeliness.
func (u SNMPUser) Check(key string, trap bool) []component.Problem {
	return componentProblems(u.problems(key, trap))
}

// CheckTrapUsers checks the trap receiver's users, listed under key ("users").
func CheckTrapUsers(key string, users []SNMPUser) []component.Problem {
	return componentProblems(trapUsersProblems(key, users))
}

func componentProblems(ps []problem) []component.Problem {
	out := make([]component.Problem, len(ps))
	for i, p := range ps {
		out[i] = component.Problem{Key: p.key, Msg: p.msg}
	}
	return out
}

// trapUsersProblems checks the trap receiver's users, listed under key.
func trapUsersProblems(key string, users []SNMPUser) []problem {
	var ps []problem
	seen := map[string]bool{}
	for i, u := range users {
		k := fmt.Sprintf("%s[%d]", key, i)
		ps = append(ps, u.problems(k, true)...)
		if u.Name != "" && seen[u.Name] {
			ps = append(ps, problem{k + ".name", fmt.Sprintf("user %s is listed twice", u.Name)})
		}
		seen[u.Name] = true
	}
	return ps
}

// Resolve returns the USM user with its passphrases: each from its file (the first line,
// trimmed) or its environment variable, read with getenv. A protocol whose passphrase is
// not given is not used; auth_proto defaults to SHA and priv_proto to AES. Errors name the
// user and the file or the variable, never a passphrase.
func (u SNMPUser) Resolve(getenv func(string) string) (usm.User, error) {
	out := usm.User{Name: u.Name, AuthProto: gosnmp.NoAuth, PrivProto: gosnmp.NoPriv}
	auth, err := secret("auth_pass", u.AuthPassFile, u.AuthPassEnv, getenv)
	if err != nil {
		return out, fmt.Errorf("user %s: %w", u.Name, err)
	}
	priv, err := secret("priv_pass", u.PrivPassFile, u.PrivPassEnv, getenv)
	if err != nil {
		return out, fmt.Errorf("user %s: %w", u.Name, err)
	}
	if auth != "" {
		p, err := usm.AuthProtocol(orDefault(u.AuthProto, "SHA"))
		if err != nil {
			return out, fmt.Errorf("user %s: auth_proto: %w", u.Name, err)
		}
		out.AuthProto, out.AuthPass = p, auth
	}
	if priv != "" {
		if auth == "" {
			return out, fmt.Errorf("user %s: a privacy passphrase needs an authentication passphrase", u.Name)
		}
		p, err := usm.PrivProtocol(orDefault(u.PrivProto, "AES"))
		if err != nil {
			return out, fmt.Errorf("user %s: priv_proto: %w", u.Name, err)
		}
		out.PrivProto, out.PrivPass = p, priv
	}
	return out, nil
}

// TrapUser is Resolve for the trap receiver: the user with its engine IDs, its
// min_security and no_timeliness.
func (u SNMPUser) TrapUser(getenv func(string) string) (receiver.User, error) {
	uu, err := u.Resolve(getenv)
	if err != nil {
		return receiver.User{}, err
	}
	out := receiver.User{User: uu, NoTimeliness: u.NoTimeliness}
	if u.MinSecurity != "" {
		if out.MinLevel, err = receiver.ParseLevel(u.MinSecurity); err != nil {
			return receiver.User{}, fmt.Errorf("user %s: min_security: %w", u.Name, err)
		}
		out.MinLevelSet = true
	}
	for _, s := range u.EngineIDs {
		id, err := usm.ParseEngineID(s)
		if err != nil {
			return receiver.User{}, fmt.Errorf("user %s: engine_ids: %w", u.Name, err)
		}
		out.EngineIDs = append(out.EngineIDs, id)
	}
	return out, nil
}

// Secret reads a secret (what: "auth_pass", "community") from a file (its first line,
// trimmed) or an environment variable; "" when neither is given. An empty file or
// variable is an error, so that a missing secret never silently lowers a user's security
// level. Errors name the file or the variable, never the secret.
//
// A file the group or others may read is refused, with an error naming it
// (secretfile.ErrOpenToOthers).
func Secret(what, file, env string, getenv func(string) string) (string, error) {
	return secret(what, file, env, getenv)
}

func secret(what, file, env string, getenv func(string) string) (string, error) {
	switch {
	case file != "":
		fh, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("%s_file: %w", what, err)
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil {
			return "", fmt.Errorf("%s_file: %w", what, err)
		}
		if perm, open := secretfile.OpenToOthers(st); open {
			return "", fmt.Errorf("%s_file %s is %w (mode %v): chmod 600 it", what, file, secretfile.ErrOpenToOthers, perm)
		}
		b, err := io.ReadAll(fh)
		if err != nil {
			return "", fmt.Errorf("%s_file %s: %w", what, file, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimSpace(line); line == "" {
			return "", fmt.Errorf("%s_file %s:1: the first line is empty", what, file)
		}
		return line, nil
	case env != "":
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("%s_env: environment variable %s is empty or not set", what, env)
		}
		return v, nil
	}
	return "", nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// SNMPUsers is a file of SNMPv3 users alone (hsmwatch trapd --users): a list under users:
// of SNMPUser entries, the keys of the configuration's sources.traps.users.
type SNMPUsers struct {
	Users []SNMPUser `yaml:"users"`
}

// quotedValue is how yaml.v3 quotes a value in its errors.
var quotedValue = regexp.MustCompile("`[^`]*`")

// ParseSNMPUsers reads a users file already read; name is used in messages. Unknown keys
// are errors (a passphrase written into the file rather than into a file of its own is
// refused without being shown); every problem is returned, joined, each naming the file,
// the line and the key. Passphrases are not read: see SNMPUser.TrapUser.
func ParseSNMPUsers(name string, data []byte) ([]SNMPUser, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, hideValues(err))
	}
	var f SNMPUsers
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		msg := hideValues(err)
		if strings.Contains(msg, "field auth_pass ") || strings.Contains(msg, "field priv_pass ") {
			msg += " (passphrases go in a file of their own, auth_pass_file and priv_pass_file, or in the environment, auth_pass_env and priv_pass_env)"
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	var errs []error
	if len(f.Users) == 0 {
		errs = append(errs, &Error{File: name, Line: lineOf(&root, "users"), Key: "users", Msg: "no user"})
	}
	for _, p := range trapUsersProblems("users", f.Users) {
		errs = append(errs, &Error{File: name, Line: lineOf(&root, p.key), Key: p.key, Msg: p.msg})
	}
	return f.Users, errors.Join(errs...)
}

// hideValues keeps a value yaml quotes in an error (a misplaced passphrase) off the screen.
func hideValues(err error) string {
	return quotedValue.ReplaceAllString(err.Error(), "`(value not shown)`")
}

package trapd

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/secretfile"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
)

// ReadCommunityFile reads --community-file: "COMMUNITY [CIDR...]" lines, # comments. An
// address stands for its own host prefix. Errors name the line, never a community.
func ReadCommunityFile(path string, warn io.Writer) ([]receiver.CommunityRule, error) {
	text, err := secretfile.Read(path, "--community-file", warn)
	if err != nil {
		return nil, err
	}
	var rules []receiver.CommunityRule
	for n, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		r := receiver.CommunityRule{Communities: []string{fields[0]}}
		for _, c := range fields[1:] {
			p, err := parseNetwork(c)
			if err != nil {
				return nil, fmt.Errorf("--community-file %s:%d: %q is not a CIDR or an address", path, n+1, c)
			}
			r.Networks = append(r.Networks, p)
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("--community-file %s: no community", path)
	}
	return rules, nil
}

func parseNetwork(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("network %q: %w", s, err)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ReadUsersFile reads --users: the configuration's SNMPv3 user entries (config.SNMPUser)
// under users:, their passphrases from their files or the environment (getenv). The
// users file, and each passphrase file it names, is refused when the group or others may
// read it, as every other secret file is (internal/secretfile): the users file says which
// users exist and where their passphrases are, and a passphrase file holds the key.
func ReadUsersFile(path string, warn io.Writer, getenv func(string) string) ([]receiver.User, error) {
	text, err := secretfile.Read(path, "--users", warn)
	if err != nil {
		return nil, err
	}
	users, err := config.ParseSNMPUsers(path, []byte(text))
	if err != nil {
		return nil, fmt.Errorf("--users: %w", err)
	}
	var out []receiver.User
	for _, u := range users {
		tu, err := u.TrapUser(getenv)
		if err != nil {
			return nil, fmt.Errorf("--users %s: %w", path, err)
		}
		out = append(out, tu)
	}
	return out, nil
}

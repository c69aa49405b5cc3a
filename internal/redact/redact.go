// Package redact hides secrets by their place, never by their text: the user
// information of a URL, its query values and fragment, and the values of settings known
// to hold a secret. A message is never searched for the text of a secret and rewritten
// (a community "public" would garble "public key" and give itself away by the gap).
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// Mask stands where a secret was.
const Mask = "***"

// URL returns raw with its user information, query values and fragment masked: the
// scheme, host, port, path and query keys stay readable. A string that does not parse
// as a URL keeps only what lies before its user information and its query.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme == "" && u.Host == "") {
		return fallback(raw)
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteString(":")
	}
	if u.Opaque != "" {
		// "mailto:x" style: nothing is known of its parts; keep it out.
		b.WriteString(Mask)
		return b.String()
	}
	if u.Host != "" || u.User != nil {
		b.WriteString("//")
	}
	if u.User != nil {
		b.WriteString(Mask + "@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?")
		b.WriteString(query(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#" + Mask)
	}
	return b.String()
}

// query masks every value of a raw query, keeping its keys and their order.
func query(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		switch {
		case hasValue:
			parts[i] = k + "=" + Mask
		case p != "":
			parts[i] = Mask // a bare token ("?s3cr3t") is a value
		}
	}
	return strings.Join(parts, "&")
}

// fallback handles a string url.Parse refused, by position still: what follows
// "scheme://" up to an "@" before the first "/" is user information, what follows the
// first "?" is a query.
func fallback(raw string) string {
	if q := strings.IndexAny(raw, "?#"); q >= 0 {
		raw = raw[:q+1] + Mask
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			raw = raw[:i+3] + Mask + rest[at:]
		}
	}
	return raw
}

// Error masks the URL that net/http puts in its errors (a *url.Error, wherever it sits
// in err's chain), in place: the error keeps its chain for errors.Is and errors.As.
// Other errors are returned as they are: hsmwatch's own messages never carry a secret.
func Error(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = URL(ue.URL)
	}
	return err
}

// Value is what a setting known to hold a secret (a passphrase, a community, a token)
// shows in messages: the mask when it is set, "" when it is not.
func Value(v string) string {
	if v == "" {
		return ""
	}
	return Mask
}

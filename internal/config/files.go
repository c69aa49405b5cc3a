package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/hsmwatch/hsmwatch/internal/secretfile"
)

// CheckFiles checks, before anything is opened or migrated, that every file a source or
// sink names for a secret or a certificate (the *_file settings, a listener's cert, key
// and client_ca) exists and can be read by this process, and that a file of secrets (a
// passphrase, communities) is not open to the group or others, which the source or sink
// would refuse at start (internal/secretfile). Every problem is returned at
// once, each as FILE:LINE: KEY: problem. It is separate from Parse, which reads the
// configuration alone (a configuration can be parsed on another machine than its own).
func (c *Config) CheckFiles() error {
	var errs []error
	for _, es := range []Entries{c.Sources, c.Sinks} {
		for _, e := range es.List {
			walkFiles(reflect.ValueOf(e.Spec), e.Key, func(key, path string) {
				msg := unreadable(path)
				if msg == "" && secretKey(key) {
					msg = openToOthers(path)
				}
				if msg != "" {
					line := 0
					if c.root != nil {
						line = lineOf(c.root, key)
					}
					errs = append(errs, &Error{File: c.File, Line: line, Key: key, Msg: msg})
				}
			})
		}
	}
	if f := c.HTTP.WebConfigFile; f != "" {
		line := 0
		if c.root != nil {
			line = lineOf(c.root, "http.web_config_file")
		}
		msg := unreadable(f)
		if msg == "" {
			// exporter-toolkit's own checks: TLS files, client CA, bcrypt hashes.
			if err := web.Validate(f); err != nil {
				msg = err.Error()
			}
		}
		if msg != "" {
			errs = append(errs, &Error{File: c.File, Line: line, Key: "http.web_config_file", Msg: msg})
		}
	}
	return errors.Join(errs...)
}

// walkFiles calls fn with the key and value of every file setting under v.
func walkFiles(v reflect.Value, path string, fn func(key, file string)) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkFiles(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Struct:
		t := v.Type()
		fields := yamlFields(t)
		_, hasCert := fields["cert"]
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			if opts == "inline" {
				walkFiles(v.Field(i), path, fn)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fv := v.Field(i)
			isFile := strings.HasSuffix(name, "_file") || (hasCert && (name == "cert" || name == "key" || name == "client_ca"))
			if fv.Kind() == reflect.String && isFile {
				if fv.String() != "" {
					fn(join(path, name), fv.String())
				}
				continue
			}
			walkFiles(fv, join(path, name), fn)
		}
	}
}

// secretKey reports whether the setting at key names a file of secrets: a passphrase
// (auth_pass_file, priv_pass_file) or communities (community_file, communities_file).
func secretKey(key string) bool {
	name := key[strings.LastIndexByte(key, '.')+1:]
	return strings.HasSuffix(name, "_pass_file") || (strings.HasPrefix(name, "communit") && strings.HasSuffix(name, "_file"))
}

// openToOthers says why the secret file path would be refused, or "" when it is not.
func openToOthers(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	if perm, open := secretfile.OpenToOthers(st); open {
		return fmt.Sprintf("%s is %v (mode %v): chmod 600 it", path, secretfile.ErrOpenToOthers, perm)
	}
	return ""
}

// unreadable says why path cannot be read as a file, or "" when it can.
func unreadable(path string) string {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%s is not readable by this process", path)
	case err != nil:
		return fmt.Sprintf("%s cannot be opened: %v", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return fmt.Sprintf("%s: %v", path, err)
	case st.IsDir():
		return fmt.Sprintf("%s is a folder, not a file", path)
	}
	if _, err := f.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("%s cannot be read: %v", path, err)
	}
	return ""
}

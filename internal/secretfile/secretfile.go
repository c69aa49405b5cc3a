// Package secretfile reads the files that hold secrets (communities, passphrases, SNMPv3
// user lists): a file the group or others may read is refused (ErrOpenToOthers) with an
// error naming it and its mode. Errors name the option and the file, never what the file
// holds.
package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// ErrOpenToOthers marks a secret file refused because its group or others may read it.
var ErrOpenToOthers = errors.New("readable by others")

// Check refuses a secret file the group or others may read, with an error naming it and
// its mode; flag names the option or key that gave it.
func Check(path, flag string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if perm, open := OpenToOthers(st); open {
		return fmt.Errorf("%s %s is %w (mode %v): chmod 600 it", flag, path, ErrOpenToOthers, perm)
	}
	return nil
}

// Read returns the content of path, refusing it when others may read it (Check); flag
// names the option that gave it ("--community-file") in errors. warn is not written to.
func Read(path, flag string, warn io.Writer) (string, error) {
	if err := Check(path, flag); err != nil {
		return "", err
	}
	return read(path, flag)
}

func read(path, flag string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	return string(b), nil
}

// FirstLine is Read for a file of one secret: its first line, without the line end. An
// empty first line is an error, as a missing secret must not pass for an empty one.
func FirstLine(path, flag string, warn io.Writer) (string, error) {
	text, err := Read(path, flag, warn)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(text, "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s %s: the first line is empty", flag, path)
	}
	return line, nil
}

// OpenToOthers reports whether the group or others have any permission on the file, and
// its permissions for the warning.
func OpenToOthers(st fs.FileInfo) (fs.FileMode, bool) {
	perm := st.Mode().Perm()
	return perm, perm&0o077 != 0
}

// Package secretfile reads the files that hold secrets on the command line's behalf
// (communities, passphrases, SNMPv3 user lists): a file others may read is used all the
// same, with a warning, so that a working setup keeps working while it is fixed. Errors
// and warnings name the option and the file, never what the file holds.
package secretfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Read returns the content of path; flag names the option that gave it ("--users") in
// errors and in the warning written to warn when others may read the file.
func Read(path, flag string, warn io.Writer) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if perm, open := OpenToOthers(st); open {
		fmt.Fprintf(warn, "hsmwatch: warning: %s %s is readable by others (mode %v); chmod 600 it\n", flag, path, perm)
	}
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

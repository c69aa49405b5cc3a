// Package mibs ships the MIB files of this folder inside the binary: the reconstructed
// Luna MIBs, the Dinamo stand-in MIB and the IETF base MIBs they import. The MIB loader
// reads files, so Extract writes them into a folder (the demo's temporary folder) to be
// loaded from there like any operator's MIB folder.
package mibs

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed *.txt
var files embed.FS

// Extract writes every shipped MIB file into dir (created if needed) and returns dir.
func Extract(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("mibs: %w", err)
	}
	names, err := fs.Glob(files, "*.txt")
	if err != nil {
		return "", fmt.Errorf("mibs: %w", err)
	}
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("mibs: %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", fmt.Errorf("mibs: %w", err)
		}
	}
	return dir, nil
}

// Package hsmwatch holds what the binary carries from the repository's folders: the MIB
// files of mibs/ (the reconstructed Luna MIBs, the Dinamo stand-in MIB and the IETF base
// MIBs they import). The folder itself holds only MIB modules, so that net-snmp's -M and
// hsmwatch's --mibs can load it whole. The MIB loader reads files: ExtractMIBs writes
// them into a folder (the demo's temporary folder) to be loaded from there like any
// operator's MIB folder.
package hsmwatch

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

//go:embed mibs/*.txt
var mibFiles embed.FS

// ExtractMIBs writes every shipped MIB file into dir (created if needed) and returns dir.
func ExtractMIBs(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("mibs: %w", err)
	}
	names, err := fs.Glob(mibFiles, "mibs/*.txt")
	if err != nil {
		return "", fmt.Errorf("mibs: %w", err)
	}
	for _, name := range names {
		data, err := mibFiles.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("mibs: %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, path.Base(name)), data, 0o644); err != nil {
			return "", fmt.Errorf("mibs: %w", err)
		}
	}
	return dir, nil
}

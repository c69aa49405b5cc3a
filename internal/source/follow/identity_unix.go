//go:build unix

package follow

import (
	"os"
	"syscall"
)

// fileID is what makes a file the same file whatever its name: logrotate renames it, a
// glob may list it under a new name, but its device and inode stay.
type fileID struct{ dev, ino uint64 }

// haveIdentity says whether files have an identity on this system.
const haveIdentity = true

// identityOf returns the identity of a stat result.
func identityOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // Dev is not uint64 everywhere
}

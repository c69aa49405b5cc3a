//go:build !unix

package follow

import "os"

// fileID is what makes a file the same file whatever its name. Following needs device and
// inode numbers, which only unix systems give; elsewhere no file has an identity and the
// follower reports that it cannot run.
type fileID struct{ dev, ino uint64 }

const haveIdentity = false

func identityOf(os.FileInfo) (fileID, bool) { return fileID{}, false }

//go:build unix

package fifo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ensure makes the pipe when the path does not exist, and refuses anything else there.
func (r *Reader) ensure() error {
	st, err := os.Stat(r.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := syscall.Mkfifo(r.path, uint32(r.config().Mode.Perm())); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("fifo %s: mkfifo: %w", r.path, err)
		}
		r.log.Info("made the named pipe", "path", r.path)
		return nil
	case err != nil:
		return fmt.Errorf("fifo: %w", err)
	case st.Mode()&fs.ModeNamedPipe == 0:
		return fmt.Errorf("fifo %s: exists and is not a named pipe (%s)", r.path, st.Mode().Type())
	}
	return nil
}

// openPipe opens the read end without blocking: the open succeeds without a writer (a
// blocking open would wait for one, beyond the reach of ctx), and reads still wait for
// data in Go's poller, where closing the file ends them.
func openPipe(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

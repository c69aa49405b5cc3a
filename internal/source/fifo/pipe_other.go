//go:build !unix

package fifo

import (
	"errors"
	"os"
)

var errNoFifo = errors.New("fifo: named pipes need a unix system")

func (r *Reader) ensure() error { return errNoFifo }

func openPipe(string) (*os.File, error) { return nil, errNoFifo }

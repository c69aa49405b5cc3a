//go:build unix && !linux

package receiver

import "errors"

// forceBuffer has no equivalent outside Linux; SO_RCVBUF is used instead.
func forceBuffer(uintptr, int) error { return errors.New("not supported") }

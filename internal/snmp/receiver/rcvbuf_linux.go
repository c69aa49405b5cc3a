package receiver

import "syscall"

// forceBuffer sets SO_RCVBUFFORCE, which only a privileged process may.
func forceBuffer(fd uintptr, size int) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size)
}

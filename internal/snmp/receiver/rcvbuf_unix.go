//go:build unix

package receiver

import (
	"net"
	"syscall"
)

// setReadBuffer asks for a socket receive buffer of size bytes and returns what the
// kernel granted. As root (CAP_NET_ADMIN), Linux's SO_RCVBUFFORCE goes past
// net.core.rmem_max; otherwise SO_RCVBUF is capped by it.
func setReadBuffer(c net.PacketConn, size int) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	var serr error
	cerr := raw.Control(func(fd uintptr) {
		if forceBuffer(fd, size) != nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
		}
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	})
	if cerr != nil {
		return 0, cerr
	}
	return got, serr
}

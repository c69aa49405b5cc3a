package syslog

import (
	"encoding/binary"
	"net"
	"syscall"
)

// tuneUDP asks for a receive buffer of size bytes (SO_RCVBUFFORCE goes past
// net.core.rmem_max for a privileged process; SO_RCVBUF is capped by it otherwise) and
// turns on SO_RXQ_OVFL, so that each datagram read tells how many the kernel dropped
// because the buffer was full: a burst lost before hsmwatch could read it is counted,
// not silent. It returns the buffer the kernel granted.
func tuneUDP(c *net.UDPConn, size int) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	var serr error
	cerr := raw.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size) != nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
		}
		if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1); err != nil && serr == nil {
			serr = err
		}
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	})
	if cerr != nil {
		return 0, cerr
	}
	return got, serr
}

// oobSize is room for the SO_RXQ_OVFL control message.
const oobSize = 64

// kernelDrops returns the socket's drop counter from a datagram's control messages.
func kernelDrops(oob []byte) (uint32, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_RXQ_OVFL && len(m.Data) >= 4 {
			return binary.NativeEndian.Uint32(m.Data), true
		}
	}
	return 0, false
}

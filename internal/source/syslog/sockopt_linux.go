package syslog

import (
	"encoding/binary"
	"net"
	"syscall"
	"unsafe"
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

// socketDrops reads the socket's drop counter now (SO_MEMINFO, SK_MEMINFO_DROPS): the
// datagrams the kernel dropped for a full buffer, including those dropped after the last
// datagram that was read, which SO_RXQ_OVFL only tells with the next one.
func socketDrops(c *net.UDPConn) (uint32, bool) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	const soMeminfo, skMeminfoDrops = 55, 8 // linux/sock_diag.h
	var info [9]uint32
	size := uint32(unsafe.Sizeof(info))
	var errno syscall.Errno
	cerr := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, soMeminfo,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0)
	})
	if cerr != nil || errno != 0 || size < uint32(unsafe.Sizeof(info)) {
		return 0, false
	}
	return info[skMeminfoDrops], true
}

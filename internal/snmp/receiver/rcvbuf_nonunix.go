//go:build !unix

package receiver

import "net"

// setReadBuffer asks for a receive buffer of size bytes; the granted size is unknown.
func setReadBuffer(c net.PacketConn, size int) (int, error) {
	if u, ok := c.(*net.UDPConn); ok {
		return size, u.SetReadBuffer(size)
	}
	return size, nil
}

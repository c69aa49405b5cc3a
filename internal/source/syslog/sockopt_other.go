//go:build !linux

package syslog

import "net"

// tuneUDP asks for a receive buffer of size bytes and returns what was granted (0 when
// the system does not say). Kernel drop counts are a Linux feature (SO_RXQ_OVFL).
func tuneUDP(c *net.UDPConn, size int) (int, error) { return 0, c.SetReadBuffer(size) }

const oobSize = 0

func kernelDrops([]byte) (uint32, bool) { return 0, false }

func socketDrops(*net.UDPConn) (uint32, bool) { return 0, false }

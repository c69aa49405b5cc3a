package main

import (
	"context"
	"fmt"
	"net"
	"time"
)

func dialUDP(port int) (*net.UDPConn, error) {
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		return nil, err
	}
	_ = c.SetWriteBuffer(8 << 20)
	return c, nil
}

// send writes the datagrams at rate per second (paced against the clock, so that a late
// start is caught up in small bursts) and returns how long it took.
func send(ctx context.Context, conn *net.UDPConn, dgrams [][]byte, rate int) (time.Duration, error) {
	start := time.Now()
	n := len(dgrams)
	for i := 0; i < n; {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		due := min(n, int(time.Since(start).Seconds()*float64(rate))+1)
		for ; i < due; i++ {
			if _, err := conn.Write(dgrams[i]); err != nil {
				return 0, fmt.Errorf("send datagram %d of %d: %w", i+1, n, err)
			}
		}
		if i < n {
			time.Sleep(200 * time.Microsecond)
		}
	}
	return time.Since(start), nil
}

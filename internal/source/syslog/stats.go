package syslog

import "sync/atomic"

// Stats counts what a server did since it started, for /metrics. Every message read is
// counted in Messages and then either emitted as an event or dropped by the rate limit
// (Limited): nothing else is dropped on purpose. Events = Messages - Limited +
// LimitReports once the pipeline has taken them.
type Stats struct {
	Packets       uint64 // UDP datagrams read
	Frames        uint64 // TCP and TLS messages read
	Messages      uint64 // both
	Bytes         uint64 // message bytes read (after MaxMessage)
	Events        uint64 // events emitted (limit summaries included)
	ParseFailures uint64 // messages that became unparsed events
	Truncated     uint64 // messages cut at MaxMessage (fields.truncated_bytes)
	Limited       uint64 // messages dropped by the per-origin rate limit
	LimitReports  uint64 // summary events about them
	// KernelDrops is the UDP socket's count of datagrams the kernel dropped because
	// its buffer was full: read from the socket when Stats is called (Linux
	// SO_MEMINFO), and from SO_RXQ_OVFL with each datagram read.
	KernelDrops   uint64
	UDPBuffer     int // receive buffer granted by the kernel, bytes
	ConnsAccepted uint64
	ConnsRejected uint64 // over MaxConnsPerIP (or over a lowered MaxConns)
	ConnsEvicted  uint64 // closed, idle longest, to make room in a full table
	ConnsOpen     int64
	TLSFailures   uint64 // failed handshakes (no or bad client certificate, timeouts)
	IdleTimeouts  uint64 // closed: no message finished within IdleTimeout
	FrameTimeouts uint64 // closed: a message not finished within FrameTimeout
	ReadErrors    uint64
	AcceptErrors  uint64
}

type counters struct {
	packets, frames, messages, bytes, events, parseFailures, truncated atomic.Uint64
	limited, limitReports, kernelDrops                                 atomic.Uint64
	connsAccepted, connsRejected, connsEvicted, tlsFailures            atomic.Uint64
	idleTimeouts, frameTimeouts                                        atomic.Uint64
	readErrors, acceptErrors                                           atomic.Uint64
	connsOpen                                                          atomic.Int64
}

// Stats returns the counters so far; safe to call while Run runs.
func (s *Server) Stats() Stats {
	c := &s.count
	if s.udp != nil {
		if drops, ok := socketDrops(s.udp); ok {
			c.noteKernelDrops(drops)
		}
	}
	return Stats{Packets: c.packets.Load(), Frames: c.frames.Load(), Messages: c.messages.Load(),
		Bytes: c.bytes.Load(), Events: c.events.Load(), ParseFailures: c.parseFailures.Load(),
		Truncated: c.truncated.Load(), Limited: c.limited.Load(), LimitReports: c.limitReports.Load(),
		KernelDrops: c.kernelDrops.Load(), UDPBuffer: int(s.udpBuf.Load()), ConnsAccepted: c.connsAccepted.Load(),
		ConnsRejected: c.connsRejected.Load(), ConnsEvicted: c.connsEvicted.Load(), ConnsOpen: c.connsOpen.Load(), TLSFailures: c.tlsFailures.Load(),
		IdleTimeouts: c.idleTimeouts.Load(), FrameTimeouts: c.frameTimeouts.Load(), ReadErrors: c.readErrors.Load(), AcceptErrors: c.acceptErrors.Load()}
}

// noteKernelDrops records the socket's drop counter, which only grows: the largest value
// seen is kept whichever reader (Stats or the UDP loop) saw it last.
func (c *counters) noteKernelDrops(drops uint32) {
	for {
		old := c.kernelDrops.Load()
		if uint64(drops) <= old || c.kernelDrops.CompareAndSwap(old, uint64(drops)) {
			return
		}
	}
}

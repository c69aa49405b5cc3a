package live

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ServeHTTP serves one browser's stream (GET /api/stream) until the browser leaves, it is
// dropped as too slow, a write to it fails or times out, or the hub shuts down.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method "+r.Method+" not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	c, ok := h.join(r.RemoteAddr)
	if !ok {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "live stream unavailable: too many streams, or the daemon is stopping", http.StatusServiceUnavailable)
		return
	}
	defer h.leave(c)
	log := h.opts.Logger.With("remote", r.RemoteAddr)

	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Accel-Buffering", "no") // nginx: pass each message on at once
	if r.ProtoMajor == 1 {
		// A stream ends only when it must (dropped, shutdown): the connection goes with it,
		// rather than idling as a keep-alive connection nobody will reuse. (HTTP/2 ends
		// just the stream; there the header would close the whole shared connection.)
		hd.Set("Connection", "close")
	}
	w.WriteHeader(http.StatusOK)

	// send writes one frame within the write timeout. A server that cannot set deadlines
	// (a test recorder) still streams; one that cannot flush cannot stream at all.
	send := func(frame []byte) error {
		if err := rc.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
		return rc.Flush()
	}
	hello := "retry: " + strconv.FormatInt(h.opts.Retry.Milliseconds(), 10) + "\n: hsmwatch live\n\n"
	if err := send([]byte(hello)); err != nil {
		log.Debug("live: stream failed at start", "err", err)
		return
	}
	log.Debug("live: stream opened")
	ping := time.NewTicker(h.opts.Heartbeat)
	defer ping.Stop()
	for {
		// A dropped stream or a shutdown ends the stream before anything still queued.
		select {
		case <-c.kicked:
			return
		case <-h.done:
			log.Debug("live: stream closed: shutting down")
			return
		default:
		}
		var err error
		select {
		case frame := <-c.queue:
			err = send(frame)
		case <-ping.C:
			err = send([]byte(": ping\n\n"))
		case <-c.kicked:
			return // counted and logged by publish
		case <-h.done:
			log.Debug("live: stream closed: shutting down")
			return
		case <-r.Context().Done():
			log.Debug("live: stream closed by the browser")
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// The browser stopped reading: as much a slow client as a full queue.
				h.dropped.Add(1)
			}
			log.Info("live: stream ended: write failed", "err", err)
			return
		}
	}
}

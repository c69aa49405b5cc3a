package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// connPool is a small pool of pgx connections. pgx's own pool (pgxpool) needs two more
// modules (jackc/puddle and golang.org/x/sync) that the project does not carry; the store
// needs little of it: a bound on connections, reuse, and dropping broken ones.
type connPool struct {
	cfg *pgx.ConnConfig
	// pingAfter is how long a connection may sit idle before acquire pings it (idleCheck;
	// tests lower it).
	pingAfter time.Duration
	idle      chan *pooledConn
	slots     chan struct{} // one token per open connection, idle or in use
	done      chan struct{} // closed by close

	mu     sync.Mutex // orders release against close, so no connection is left idle after close
	closed bool
}

type pooledConn struct {
	c        *pgx.Conn
	lastUsed time.Time
}

// idleCheck is how long a connection may sit idle before it is pinged on acquire: a
// server restart or a firewall may have closed it meanwhile, and finding out on the
// caller's statement would fail a write that could have gone through.
const idleCheck = 30 * time.Second

var errPoolClosed = errors.New("store: connection pool closed")

func newConnPool(cfg *pgx.ConnConfig, size int) *connPool {
	return &connPool{cfg: cfg, pingAfter: idleCheck, idle: make(chan *pooledConn, size),
		slots: make(chan struct{}, size), done: make(chan struct{})}
}

// acquire returns an idle connection, or dials one while fewer than size are open, or
// waits for one to be released.
func (p *connPool) acquire(ctx context.Context) (*pooledConn, error) {
	for {
		select {
		case <-p.done:
			return nil, errPoolClosed
		default:
		}
		// Prefer an idle connection to dialling a new one.
		select {
		case pc := <-p.idle:
			if p.healthy(ctx, pc) {
				return pc, nil
			}
			continue
		default:
		}
		select {
		case pc := <-p.idle:
			if p.healthy(ctx, pc) {
				return pc, nil
			}
		case p.slots <- struct{}{}:
			c, err := pgx.ConnectConfig(ctx, p.cfg)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return &pooledConn{c: c}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.done:
			return nil, errPoolClosed
		}
	}
}

// healthy reports whether an idle connection can be used; a broken one is closed and
// its slot freed.
func (p *connPool) healthy(ctx context.Context, pc *pooledConn) bool {
	ok := !pc.c.IsClosed()
	if ok && time.Since(pc.lastUsed) >= p.pingAfter {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok = pc.c.Ping(pctx) == nil
		cancel()
	}
	if !ok {
		p.discard(pc)
	}
	return ok
}

// release gives a connection back. One left inside a transaction or broken (a cancelled
// statement closes it) is closed rather than handed to the next caller.
func (p *connPool) release(pc *pooledConn) {
	if pc.c.IsClosed() || pc.c.PgConn().TxStatus() != 'I' {
		p.discard(pc)
		return
	}
	pc.lastUsed = time.Now()
	p.mu.Lock()
	kept := false
	if !p.closed {
		select {
		case p.idle <- pc:
			kept = true
		default: // cannot happen (idle holds as many as there are slots); be safe
		}
	}
	p.mu.Unlock()
	if !kept {
		p.discard(pc)
	}
}

func (p *connPool) discard(pc *pooledConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pc.c.Close(ctx)
	<-p.slots
}

// close closes the idle connections; connections in use are closed when released.
func (p *connPool) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
	p.mu.Unlock()
	for {
		select {
		case pc := <-p.idle:
			p.discard(pc)
		default:
			return
		}
	}
}

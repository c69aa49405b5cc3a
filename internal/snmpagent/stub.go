package snmpagent

// This file holds placeholders so that internal/sim compiles while the agent is being
// written; agent.go and tree.go replace it and it is deleted.

import (
	"context"
	"errors"
	"net"
)

var errNotBuilt = errors.New("snmpagent: not built yet")

// Agent answers SNMP requests from a Tree and sends notifications.
type Agent struct{}

// New checks cfg and opens the socket (Addr) or adopts cfg.Conn.
func New(cfg Config) (*Agent, error) { return nil, errNotBuilt }

// Serve answers requests until ctx ends; it closes the socket when it returns.
func (a *Agent) Serve(ctx context.Context) error { return errNotBuilt }

// Addr is the address the agent answers on.
func (a *Agent) Addr() net.Addr { return nil }

// EngineID is the agent's authoritative SNMPv3 engine ID.
func (a *Agent) EngineID() []byte { return nil }

// Stats returns the counters so far.
func (a *Agent) Stats() Stats { return Stats{} }

// Notify sends one notification to t: sysUpTime.0 (from the Tree when it has it),
// snmpTrapOID.0 = trapOID, then vars. With t.Inform it waits for the acknowledgement.
func (a *Agent) Notify(ctx context.Context, t Target, trapOID string, vars []Var) error {
	return errNotBuilt
}

// Reboot simulates a restart: engine boots + 1, engine time from 0.
func (a *Agent) Reboot() {}

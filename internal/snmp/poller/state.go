package poller

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A check run once a minute by a monitoring system is a new process each time, yet
// rates need the previous reading and alarms the previous state. State is what a Poller
// keeps between polls, saved to a file by one run and restored by the next (check snmp
// --state-file), the way Checkmk keeps its value store.

// stateVersion changes when State's meaning does; an older file is ignored.
const stateVersion = 1

// State is a Poller's memory between polls. It holds no secret.
type State struct {
	Version  int                `json:"version"`
	Target   string             `json:"target"` // Target.String(): a state belongs to one HSM
	Profile  string             `json:"profile,omitempty"`
	Readings map[string]reading `json:"readings,omitempty"`
	Uptimes  map[string]uint64  `json:"uptimes,omitempty"`
	Alarms   map[string]string  `json:"alarms,omitempty"`
	Host     string             `json:"host,omitempty"`
}

// State returns what the next poll needs.
func (p *Poller) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := State{Version: stateVersion, Target: p.opts.Target.String(), Readings: p.readings,
		Uptimes: p.uptimes, Alarms: p.alarms, Host: p.host}
	if p.det != nil {
		s.Profile = p.det.Profile
	}
	return s
}

// Restore takes up a saved state. A state of another target or version is refused
// (the error says why) and nothing changes. The profile is not taken from it: a
// configured or detected profile stays.
func (p *Poller) Restore(s State) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case s.Version != stateVersion:
		return fmt.Errorf("state version %d, want %d", s.Version, stateVersion)
	case s.Target != p.opts.Target.String():
		return fmt.Errorf("the state is of %s, not %s", s.Target, p.opts.Target.String())
	}
	if s.Readings != nil {
		p.readings = s.Readings
	}
	if s.Uptimes != nil {
		p.uptimes = s.Uptimes
	}
	if s.Alarms != nil {
		p.alarms = s.Alarms
	}
	p.host = s.Host
	return nil
}

// LoadState reads a state file; a missing file is no error (the first run).
func LoadState(path string) (State, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return s, true, nil
}

// SaveState writes a state file atomically (a temporary file renamed over it), so that
// a check killed while writing leaves the previous state, never half of one.
func SaveState(path string, s State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

package poller

// RestoreFile loads the state file at path (--state-file; "" for none) into the poller.
// What goes wrong is returned as a note, not a failure: a first run has no file, another
// HSM's file is refused, and the poll goes on without the previous counters.
func (p *Poller) RestoreFile(path string) string {
	if path == "" {
		return ""
	}
	s, found, err := LoadState(path)
	switch {
	case err != nil:
		return "state file not used: " + err.Error()
	case !found:
		return ""
	}
	if err := p.Restore(s); err != nil {
		return "state file " + path + " not used: " + err.Error()
	}
	return ""
}

// SaveFile writes the poller's state to path (--state-file; "" for none) after a poll;
// what goes wrong is returned as a note, as for RestoreFile.
func (p *Poller) SaveFile(path string) string {
	if path == "" {
		return ""
	}
	if err := SaveState(path, p.State()); err != nil {
		return "state file not saved: " + err.Error()
	}
	return ""
}

package store

import "testing"

// The positions Write reads in eventArgs' list name the columns they say.
func TestArgPositions(t *testing.T) {
	for pos, name := range map[int]string{argSite: "site", argTS: "ts", argHost: "host", argLevel: "level"} {
		if got := eventColumns[pos].name; got != name {
			t.Errorf("position %d is column %s, want %s", pos, got, name)
		}
	}
}

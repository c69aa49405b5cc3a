package event

// levels are the levels of schema v1, most serious first.
var levels = [...]string{"critical", "major", "minor", "warning", "info", "debug"}

// Levels returns the levels of schema v1, most serious first.
func Levels() []string { return append([]string(nil), levels[:]...) }

// LevelRank orders the levels: critical 6 down to debug 1; an unknown or empty level
// ranks 0, below debug. Every comparison of levels (a sink's threshold, the floor, an
// alarm's worst level, the store's level_rank column) goes through it.
func LevelRank(l string) int {
	for i, name := range levels {
		if l == name {
			return len(levels) - i
		}
	}
	return 0
}

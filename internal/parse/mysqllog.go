package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// mysqlLine reads the error log of MySQL and MariaDB releases before 5.7, and what
// mysqld_safe writes into it, whose time is "yymmdd hh:mm:ss" (the hour padded with a
// space: "150319  1:46:59"):
//
//	150319  1:46:59 [ERROR] InnoDB: Unable to lock ./ibdata1, error: 11
//	150319 01:46:59 mysqld_safe Number of processes running now: 0
//
// Source app-log, the configured zone; mysqld_safe's lines get it as their process; a
// bracketed level stays at the message's head, where the severity floor reads it. It
// reports false, leaving ev alone, for any other line.
func mysqlLine(line string, loc *time.Location, ev *event.Event) bool {
	if len(line) < 16 || line[6] != ' ' {
		return false
	}
	y, j, ok := digits(line, 0, 6, 6)
	if !ok || j != 6 {
		return false
	}
	year, month, day := 2000+y/10000, time.Month(y/100%100), y%100
	if !validDate(year, month, day) {
		return false
	}
	i := skipSpaces(line, 7)
	h, mi, s, _, k, ok := clockAt(line, i)
	if !ok || h > 23 || k >= len(line) || line[k] != ' ' {
		return false
	}
	ev.Source = event.SourceAppLog
	ev.Time = time.Date(year, month, day, h, mi, s, 0, loc)
	rest := line[skipSpaces(line, k):]
	if r, ok := strings.CutPrefix(rest, "mysqld_safe "); ok {
		ev.Process, rest = "mysqld_safe", r
	}
	ev.Message = rest
	return true
}

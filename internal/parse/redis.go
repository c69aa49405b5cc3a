package parse

import (
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// redisLine reads the line Redis and Redis Sentinel write to their own log file
// (serverLogRaw in Redis' src/server.c):
//
//	18:X 30 Sep 2025 15:06:45.815 # +odown master mymaster 10.0.0.5 6379 #quorum 3/2
//	35850:M 06 May 19:37:20.469 * Background saving terminated with success
//
// the process id, the role (X sentinel, M master, S replica, C a child), the day, the
// month, the year (Redis 3.0 wrote none), the time with milliseconds and the level as one
// character: "." debug, "-" verbose, "*" notice, "#" warning. Redis 2 wrote the process
// id in brackets and no role ("[48668] 18 May 13:12:47.788 # ..."). The source is app-log
// (an application's own level), the process redis-sentinel or redis-server.
func redisLine(line string, o Options, ev *event.Event) bool {
	pid, j, role, ok := redisHead(line)
	if !ok {
		return false
	}
	day, j, ok := digits(line, j, 2, 2)
	if !ok || j >= len(line) || line[j] != ' ' {
		return false
	}
	m, j, ok := monthAt(line, j+1)
	if !ok || j >= len(line) || line[j] != ' ' {
		return false
	}
	year, k, hasYear := digits(line, j+1, 4, 4)
	if hasYear {
		if k >= len(line) || line[k] != ' ' {
			return false
		}
		j = k
	}
	h, mi, s, ns, j, ok := clockAt(line, j+1)
	if !ok || j+3 > len(line) || line[j] != ' ' || (j+3 < len(line) && line[j+2] != ' ') {
		return false
	}
	sev := redisSeverity(line[j+1])
	if sev == "" {
		return false
	}
	if hasYear {
		if !validDate(year, m, day) {
			return false
		}
		ev.Time = time.Date(year, m, day, h, mi, s, ns, o.Location)
	} else {
		ev.Time = dateWithoutYear(m, day, h, mi, s, ns, o.Reference, o.Location)
	}
	ev.Source, ev.Severity, ev.PID = event.SourceAppLog, sev, pid
	ev.Process = "redis-server"
	if role == 'X' {
		ev.Process = "redis-sentinel"
	}
	ev.Message = ""
	if j+3 < len(line) {
		ev.Message = line[j+3:]
	}
	return true
}

// redisSeverity maps Redis' level character (LL_DEBUG ".", LL_VERBOSE "-", LL_NOTICE "*",
// LL_WARNING "#") to a syslog severity.
func redisSeverity(c byte) string {
	switch c {
	case '.':
		return "debug"
	case '-':
		return "info"
	case '*':
		return "notice"
	case '#':
		return "warning"
	}
	return ""
}

// redisHead reads "PID:R " or "[PID] " and returns the process id, where the day starts
// and the role (0 for Redis 2's bracket).
func redisHead(line string) (pid, next int, role byte, ok bool) {
	if line != "" && line[0] == '[' {
		pid, j, ok := digits(line, 1, 1, 7)
		if !ok || j+1 >= len(line) || line[j] != ']' || line[j+1] != ' ' {
			return 0, 0, 0, false
		}
		return pid, j + 2, 0, true
	}
	pid, j, ok := digits(line, 0, 1, 7)
	if !ok || j+3 >= len(line) || line[j] != ':' || line[j+2] != ' ' {
		return 0, 0, 0, false
	}
	switch role = line[j+1]; role {
	case 'X', 'M', 'S', 'C':
		return pid, j + 3, role, true
	}
	return 0, 0, 0, false
}

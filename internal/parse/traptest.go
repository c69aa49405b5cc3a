package parse

import (
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// decodeTrapTest removes the markers that "lunash:> sysconf snmp trap test" puts before
// a message ("***TEST : ", "SEQNO_10000 : ") and records them: test is true, the sequence
// number goes to fields.seqno. The rest of the message is the event as it would be logged
// for real, so classification treats it the same way.
func decodeTrapTest(ev *event.Event) {
	m := ev.Message
	for {
		switch {
		case strings.HasPrefix(m, "***TEST"):
			ev.Test = true
			m = afterMarker(m, len("***TEST"))
		case strings.HasPrefix(m, "SEQNO_"):
			n, j, ok := digits(m, len("SEQNO_"), 1, 18)
			if !ok {
				ev.Message = m
				return
			}
			ev.Fields.SetInt("seqno", int64(n))
			m = afterMarker(m, j)
		default:
			ev.Message = m
			return
		}
	}
}

// afterMarker skips the " : " that follows a marker ending at i.
func afterMarker(m string, i int) string {
	i = skipSpaces(m, i)
	if i < len(m) && m[i] == ':' {
		i++
	}
	return m[skipSpaces(m, i):]
}

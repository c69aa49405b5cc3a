package parse

import (
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// javaException reads the head lines of a Java stack trace, which Java clients of an HSM
// (JCE providers, key managers) write to their logs and standard error:
//
//	java.lang.IllegalStateException: slot 0 not initialised
//	Caused by: com.safenetinc.luna.exception.LunaCryptokiException: function 'C_Login' returns 0xa0
//	Exception in thread "main" java.security.ProviderException: no token
//
// fields.exception is the class, fields.thread the thread named by "Exception in thread",
// fields.caused_by true for a "Caused by:" (or "Suppressed:") line; the message is the
// line from the class on; severity err. The "at ..." frames that follow are not events
// of their own and stay unparsed.
type javaException struct{ o Options }

func newJavaException(o Options) *javaException { return &javaException{o: o} }

func (p *javaException) Format() string { return event.SourceJava }

func (p *javaException) Parse(line string, ev *event.Event) error {
	i := skipSpaces(line, 0)
	caused, thread := false, ""
	switch rest := line[i:]; {
	case strings.HasPrefix(rest, "Caused by: "):
		caused, i = true, skipSpaces(line, i+len("Caused by: "))
	case strings.HasPrefix(rest, "Suppressed: "):
		caused, i = true, skipSpaces(line, i+len("Suppressed: "))
	case strings.HasPrefix(rest, `Exception in thread "`):
		k := i + len(`Exception in thread "`)
		e := strings.IndexByte(line[k:], '"')
		if e < 0 {
			return fail(event.SourceJava, "thread name not closed by a quote")
		}
		thread, i = line[k:k+e], skipSpaces(line, k+e+1)
	}
	class, j := javaClassAt(line, i)
	if class == "" {
		return errNoClass
	}
	if j < len(line) && line[j] != ':' {
		return fail(event.SourceJava, "no colon or end of line after the exception class")
	}
	ev.Source = event.SourceJava
	ev.Severity = "err"
	ev.Message = strings.TrimRight(line[i:], " \t")
	ev.Fields.SetString("exception", class)
	if thread != "" {
		ev.Fields.SetString("thread", thread)
	}
	if caused {
		ev.Fields.SetBool("caused_by", true)
	}
	return nil
}

// javaClassAt reads a qualified class name at i ("java.lang.IllegalStateException",
// "a.b.Outer$InnerError"): Java identifier bytes and dots, at least one dot, the last
// name ending in Exception, Error or Throwable. It returns "" when none stands there.
func javaClassAt(s string, i int) (string, int) {
	j, dots := i, 0
	for j < len(s) && (isWordByte(s[j]) || s[j] == '$' || s[j] == '.') {
		if s[j] == '.' {
			if j == i || s[j-1] == '.' {
				return "", i
			}
			dots++
		}
		j++
	}
	if dots == 0 || j-i > 256 {
		return "", i
	}
	name := s[i:j]
	if !strings.HasSuffix(name, "Exception") && !strings.HasSuffix(name, "Error") && !strings.HasSuffix(name, "Throwable") {
		return "", i
	}
	if last := strings.LastIndexByte(name, '.'); last == len(name)-1 || isDigit(name[last+1]) {
		return "", i
	}
	return name, j
}

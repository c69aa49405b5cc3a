package parse

import (
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// syslogBody reads what is left of a syslog line without its header: the tag and the
// message, as journalctl -o cat, container logs and collectors that strip the header
// give them:
//
//	ntls[1234]: info : 0 : NTLS is online and operational.
//	sshd: Connection closed by 10.0.0.8 port 2200
//
// The event has no host and no time. The process is read as in a syslog header
// (processAt); a level word in its place ("ERROR: cannot open slot") is the severity
// instead. The message goes through the same decoders as a syslog message.
type syslogBody struct{ o Options }

func newSyslogBody(o Options) *syslogBody { return &syslogBody{o: o} }

func (p *syslogBody) Format() string { return event.SourceSyslogBody }

func (p *syslogBody) Parse(line string, ev *event.Event) error {
	if kernelReportHead(line) {
		// a line of a kernel crash report copied without its dmesg bracket: the
		// kernel's, and its head is the message's start, not a process
		ev.Source, ev.Message = event.SourceKernel, line
		return nil
	}
	// BusyBox's and some relays' "facility.severity" before the tag ("daemon.alert
	// apcupsd[1234]: ..."), as logread writes it after its time
	facility, severity, at := "", "", 0
	if k := strings.IndexByte(line, ' '); k > 0 {
		if f, sev := facilitySeverity(line[:k]); f != "" {
			facility, severity, at = f, sev, skipSpaces(line, k)
		}
	}
	i := processAt(line, at, ev)
	if i <= at || ev.Process == "" || !programName(ev.Process) {
		return errNoTag
	}
	if i < len(line) && line[i-1] != ' ' {
		return fail(event.SourceSyslogBody, "no space after the process's colon")
	}
	ev.Source = event.SourceSyslogBody
	ev.Facility, ev.Severity = facility, severity
	if errorCode(ev.Process) && ev.PID == 0 {
		// "ORA-00600: internal error code, ...": an error's code, which the message keeps
		ev.Process, ev.Message = "", line[at:]
		return nil
	}
	ev.Message = line[i:]
	last := ev.Process[strings.LastIndexByte(ev.Process, ' ')+1:]
	switch sev := levelWord(last); {
	case ev.PID != 0: // "sshd[42]:" names a process whatever it is called
	case sev != "" && last == ev.Process:
		ev.Severity, ev.Process = sev, ""
	case sev != "":
		// "BTRFS CRITICAL: Device 1: ...": a name and the level it logged at
		ev.Severity, ev.Process = sev, strings.TrimSpace(ev.Process[:len(ev.Process)-len(last)])
	case proseHead(ev.Process):
		// "Failed: No key available", "Unable: ...": a sentence's first word, not a
		// process; the message is the whole line.
		ev.Process, ev.Message = "", line
	case exceptionName(ev.Process):
		// "NoSuchTokenException: No such token", "ValueError: ...": the head of an
		// exception a program did not handle, not a process; the error it reports.
		ev.Severity, ev.Process, ev.Message = "err", "", line
	}
	decodeMessage(ev)
	return nil
}

// programName reports whether name can be a program's name: a letter or digit first,
// then letters, digits and ._-/@+() or the spaces of a multi-word name ("Luna PED
// Client"); at most 64 bytes.
func programName(name string) bool {
	if name == "" || len(name) > 64 || !(isWordByte(name[0]) || name[0] == '(') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isWordByte(c) && c != '.' && c != '-' && c != '/' && c != '@' && c != '+' &&
			c != '(' && c != ')' && c != ' ' {
			return false
		}
	}
	return true
}

// errorCode reports whether name is an error's code rather than a program: capitals, a
// dash and digits, as Oracle (ORA-00600, TNS-12541, RMAN-06054) and many others write them.
func errorCode(name string) bool {
	i := 0
	for i < len(name) && name[i] >= 'A' && name[i] <= 'Z' {
		i++
	}
	if i < 2 || i > 8 || i+2 >= len(name) || name[i] != '-' {
		return false
	}
	for j := i + 1; j < len(name); j++ {
		if !isDigit(name[j]) {
			return false
		}
	}
	return len(name)-i-1 <= 6
}

// exceptionName reports whether name is an exception's class, as Java, Python and .NET
// name them: one word ending in Exception or Error ("NoSuchTokenException", "ValueError").
func exceptionName(name string) bool {
	for i := 0; i < len(name); i++ {
		if !isWordByte(name[i]) && name[i] != '.' && name[i] != '$' {
			return false
		}
	}
	return len(name) > 5 && name[0] >= 'A' && name[0] <= 'Z' &&
		(strings.HasSuffix(name, "Exception") || strings.HasSuffix(name, "Error"))
}

// kernelReportHeads start the lines of a kernel crash report (arch/x86/kernel/dumpstack.c
// __die_header's "%s: %04lx [#%d]", traps.c's trap names, lib/bug.c, kernel/panic.c), which
// people paste and collectors forward without the dmesg bracket.
var kernelReportHeads = [...]string{"Oops: ", "BUG: ", "divide error: ", "invalid opcode: ",
	"general protection fault", "stack segment: ", "double fault: ", "Kernel panic - not syncing",
	"RIP: ", "Call Trace:", "Kernel Offset: ", "Hardware name: ", "Modules linked in: "}

func kernelReportHead(line string) bool {
	for _, h := range kernelReportHeads {
		if strings.HasPrefix(line, h) {
			return true
		}
	}
	return false
}

// proseHead reports whether name is a word that starts a sentence about a failure rather
// than a program's name.
func proseHead(name string) bool {
	switch name {
	case "Failed", "FAILED", "Failure", "FAILURE", "Unable", "Cannot", "Could not", "Fatal":
		return true
	}
	return false
}

package parse

import (
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// openSSL reads the lines of OpenSSL's error queue as ERR_print_errors writes them (the
// openssl command, applications and engines such as the PKCS#11 engine print them to
// stderr):
//
//	139781956970312:error:26096080:engine routines:ENGINE_load_private_key:failed loading private key:eng_pkey.c:124:
//	40B7D1C1E07F0000:error:13000080:engine routines:ENGINE_load_private_key:failed loading private key:crypto/engine/eng_pkey.c:80:
//	error:0909006C:PEM routines:get_name:no start line
//
// that is the thread id (decimal before OpenSSL 3, hexadecimal since; fields.thread), the
// word error, the packed error code (fields.code), the library (fields.library), the
// function (fields.function; empty in OpenSSL 3 for most errors), the reason
// (fields.reason), the source file and line (fields.file, fields.line) and the optional
// data. Severity is err. The message is the line from the library on.
type openSSL struct{ o Options }

func newOpenSSL(o Options) *openSSL { return &openSSL{o: o} }

func (p *openSSL) Format() string { return event.SourceOpenSSL }

var errOpenSSLShape = fail(event.SourceOpenSSL, "no [thread id:]error:<hex code>: at the start")

// looksOpenSSL reports whether line starts like an error-queue line: an optional thread id
// (decimal or hexadecimal digits) and ":", then "error:" and eight hexadecimal digits.
func looksOpenSSL(line string) bool {
	i := 0
	for i < len(line) && i < 20 && isHex(line[i]) {
		i++
	}
	if i < len(line) && line[i] == ':' && i > 0 {
		i++
	} else {
		i = 0 // no thread id ("error:..." starts with the hexadecimal digit e)
	}
	if !strings.HasPrefix(line[i:], "error:") {
		return false
	}
	i += len("error:")
	for k := 0; k < 8; k++ {
		if i+k >= len(line) || !isHex(line[i+k]) {
			return false
		}
	}
	return i+8 < len(line) && line[i+8] == ':'
}

func (p *openSSL) Parse(line string, ev *event.Event) error {
	if !looksOpenSSL(line) {
		return errOpenSSLShape
	}
	i := strings.Index(line, "error:")
	if i > 0 {
		ev.Fields.SetString("thread", line[:i-1])
	}
	i += len("error:")
	ev.Fields.SetString("code", line[i:i+8])
	i += 9
	ev.Source = event.SourceOpenSSL
	ev.Severity = "err"
	ev.Message = line[i:]
	rest := line[i:]
	for n, name := range [...]string{"library", "function", "reason", "file", "line"} {
		k := strings.IndexByte(rest, ':')
		v := rest
		if k >= 0 {
			v, rest = rest[:k], rest[k+1:]
		} else {
			rest = ""
		}
		if v != "" {
			ev.Fields.SetString(name, v)
		}
		if k < 0 {
			break
		}
		if n == 4 {
			if d := strings.TrimSuffix(rest, ":"); d != "" {
				ev.Fields.SetString("data", d)
			}
		}
	}
	return nil
}

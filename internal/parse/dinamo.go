package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// dinamo reads the native event log of a Dinamo HSM (the Dinamo HSM event log
// specification):
//
//	2022/01/11 22:28:56 0000004C 0000017C A575C340 log truncated|172.17.0.1 172.17.0.2:4433 master
//	2022/01/11 22:31:54 00000052 00000199 EE4E6C03 172.17.0.1 auth try, c: 21, tls: y, 2|172.17.0.1 172.17.0.2:4433 -
//	2022/01/11 22:31:54 00000052 00000198 000A3309 session thread up [2]
//
// that is date, time, thread (8 hex digits), event counter (8 hex digits, monotonic, reset
// when the HSM starts), correlation id (cid, 8 hex digits, one per client session), the
// event text and, after a '|', a trailer "<client IP> <HSM address:port> <user or ->". The
// remote console ("Follow") replaces the '|' by a space: there the trailer is recognised
// at the end of the line by its shape only. Some events (firmware threads) have no trailer.
//
// The event text may carry attributes "t:n" (key/algorithm type), "a:n" (object
// attributes), "c:n" (socket of the session) and "tls:y|n", with or without a space after
// the colon; they become typed fields and stay in the message.
type dinamo struct{ o Options }

func newDinamo(o Options) *dinamo { return &dinamo{o: o} }

func (p *dinamo) Format() string { return event.SourceDinamoLog }

func (p *dinamo) Parse(line string, ev *event.Event) error {
	loc := p.o.Location
	if loc == nil {
		loc = time.Local
	}
	t, i, err := dinamoTimestamp(line, loc)
	if err != nil {
		return err
	}
	thread, _, i, err := dinamoHexField(line, skipSpaces(line, i), "thread")
	if err != nil {
		return err
	}
	_, counter, i, err := dinamoHexField(line, skipSpaces(line, i), "counter")
	if err != nil {
		return err
	}
	cid, _, i, err := dinamoHexField(line, skipSpaces(line, i), "cid")
	if err != nil {
		return err
	}
	if i < len(line) && line[i] == '|' {
		i++ // "iiiiiiii|text", as the spec's summary of the format writes it
	}
	i = skipSpaces(line, i)
	end := len(line)
	for end > i && isSpace(line[end-1]) {
		end--
	}
	if i >= end {
		return fail(event.SourceDinamoLog, "no event text after the cid (truncated line)")
	}
	rest := line[i:end]

	ev.Source = event.SourceDinamoLog
	ev.Time = t
	ev.Fields.SetString("thread", thread)
	ev.Fields.SetInt("counter", int64(counter))
	ev.Fields.SetString("cid", cid)
	if tr, ok := dinamoTrailer(rest); ok {
		ev.Message = tr.text
		ev.Host = tr.host
		ev.Fields.SetString("client_ip", tr.client)
		ev.Fields.SetString("hsm_address", tr.addr)
		if tr.user != "-" {
			ev.Fields.SetString("user", tr.user)
		}
	} else {
		ev.Message = rest
	}
	dinamoAttributes(ev, ev.Message)
	return nil
}

// dinamoTimestamp reads "yyyy/mm/dd HH:MM:SS" at the start of line.
func dinamoTimestamp(line string, loc *time.Location) (time.Time, int, error) {
	const noDate = "no yyyy/mm/dd date at the start of the line"
	year, i, ok := digits(line, 0, 4, 4)
	if !ok || i >= len(line) || line[i] != '/' {
		return time.Time{}, 0, fail(event.SourceDinamoLog, noDate)
	}
	month, i, ok := digits(line, i+1, 2, 2)
	if !ok || i >= len(line) || line[i] != '/' {
		return time.Time{}, 0, fail(event.SourceDinamoLog, noDate)
	}
	day, i, ok := digits(line, i+1, 2, 2)
	if !ok || (i < len(line) && !isSpace(line[i])) {
		return time.Time{}, 0, fail(event.SourceDinamoLog, noDate)
	}
	if !validDate(year, time.Month(month), day) {
		return time.Time{}, 0, fail(event.SourceDinamoLog, "no such date: "+line[:i])
	}
	if i >= len(line) {
		return time.Time{}, 0, fail(event.SourceDinamoLog, "line ends after the date (truncated line)")
	}
	h, m, s, ns, j, ok := clockAt(line, skipSpaces(line, i))
	if !ok || (j < len(line) && !isSpace(line[j])) {
		return time.Time{}, 0, fail(event.SourceDinamoLog, "no HH:MM:SS time after the date")
	}
	return time.Date(year, time.Month(month), day, h, m, s, ns, loc), j, nil
}

// dinamoHexField reads one of the 8-hex-digit header fields (thread, counter, cid) at i
// and returns it as written, its value and the position after it.
func dinamoHexField(line string, i int, name string) (string, uint64, int, error) {
	if i >= len(line) {
		return "", 0, i, fail(event.SourceDinamoLog, "line ends before the "+name+" (truncated line)")
	}
	j := i
	for j < len(line) && !isSpace(line[j]) && line[j] != '|' {
		j++
	}
	v, _, ok := hexValue(line, i, 8)
	if !ok || j-i != 8 {
		tok := line[i:j]
		if len(tok) > 24 {
			tok = tok[:24] + "..."
		}
		return "", 0, i, fail(event.SourceDinamoLog, name+" is not 8 hexadecimal digits: \""+tok+"\"")
	}
	if name != "cid" {
		if j >= len(line) {
			return "", 0, i, fail(event.SourceDinamoLog, "line ends after the "+name+" (truncated line)")
		}
		if !isSpace(line[j]) {
			return "", 0, i, fail(event.SourceDinamoLog, "no space after the "+name)
		}
	}
	return line[i:j], v, j, nil
}

// dinamoTail is the session trailer of a line and the text before it.
type dinamoTail struct {
	text, client, addr, host, user string
}

// dinamoTrailer finds "<client IP> <HSM address:port> <user>" at the end of s (which has
// no trailing spaces), after a '|' (native form) or spaces (console form). ok is false
// when the end of s does not have that shape: then s is all text.
func dinamoTrailer(s string) (dinamoTail, bool) {
	var tr dinamoTail
	us, ue := dinamoTokenBefore(s, len(s))
	if !dinamoAfterSpace(s, us, ue) {
		return tr, false
	}
	as, ae := dinamoTokenBefore(s, us)
	if !dinamoAfterSpace(s, as, ae) {
		return tr, false
	}
	cs, ce := dinamoTokenBefore(s, as)
	client := s[cs:ce]
	if !isIPv4(client) && !dinamoIPv6(client) {
		return tr, false
	}
	host, ok := dinamoHostPort(s[as:ae])
	if !ok {
		return tr, false
	}
	te := dinamoSkipSpacesBack(s, cs)
	if te > 0 && s[te-1] == '|' {
		te = dinamoSkipSpacesBack(s, te-1)
	}
	tr = dinamoTail{text: s[:te], client: client, addr: s[as:ae], host: host, user: s[us:ue]}
	return tr, true
}

// dinamoTokenBefore returns the bounds of the token that ends before end, past any spaces.
func dinamoTokenBefore(s string, end int) (start, stop int) {
	stop = dinamoSkipSpacesBack(s, end)
	return dinamoTokenStart(s, stop), stop
}

// dinamoAfterSpace reports whether the token s[start:stop] is non-empty and has a space
// before it (a trailer field, not the start of the line or the text after a '|').
func dinamoAfterSpace(s string, start, stop int) bool {
	return start > 0 && start < stop && isSpace(s[start-1])
}

// dinamoSkipSpacesBack returns the position before the run of spaces that ends at end.
func dinamoSkipSpacesBack(s string, end int) int {
	for end > 0 && isSpace(s[end-1]) {
		end--
	}
	return end
}

// dinamoTokenStart returns the start of the token that ends at end: the bytes before end
// up to a space, a tab or a '|'.
func dinamoTokenStart(s string, end int) int {
	for end > 0 && !isSpace(s[end-1]) && s[end-1] != '|' {
		end--
	}
	return end
}

// dinamoHostPort accepts "IPv4:port" and "[IPv6]:port" and returns the address alone.
func dinamoHostPort(s string) (string, bool) {
	c := strings.LastIndexByte(s, ':')
	if c < 0 {
		return "", false
	}
	port, j, ok := digits(s, c+1, 1, 5)
	if !ok || j != len(s) || port > 65535 {
		return "", false
	}
	host := s[:c]
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
		return host, dinamoIPv6(host)
	}
	return host, isIPv4(host)
}

// dinamoIPv6 accepts IPv6 addresses in text form: eight groups of 1 to 4 hex digits, one
// "::" standing for missing groups, an optional trailing dotted quad ("::ffff:10.0.0.1").
func dinamoIPv6(s string) bool {
	if len(s) < 2 || len(s) > 45 {
		return false
	}
	groups, gap, i := 0, false, 0
	if s[0] == ':' {
		if s[1] != ':' {
			return false
		}
		gap, i = true, 2
		if i == len(s) {
			return true // "::"
		}
	}
	for {
		j := i
		for j < len(s) && j-i < 5 && isHex(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '.' {
			if !isIPv4(s[i:]) {
				return false
			}
			groups += 2
			break
		}
		if j == i || j-i > 4 {
			return false
		}
		groups++
		if j == len(s) {
			break
		}
		if s[j] != ':' {
			return false
		}
		if j+1 < len(s) && s[j+1] == ':' {
			if gap {
				return false
			}
			gap, i = true, j+2
			if i == len(s) {
				break
			}
			continue
		}
		i = j + 1
		if i == len(s) {
			return false // a single trailing colon
		}
	}
	if gap {
		return groups < 8
	}
	return groups == 8
}

// dinamoAttributes reads the "t:n", "a:n", "c:n" and "tls:y|n" attributes of the event
// text m. A key starts the text or follows a space or a comma; its value ends the text or
// is followed by a comma or a space. The first occurrence of a key wins.
func dinamoAttributes(ev *event.Event, m string) {
	const seenT, seenA, seenC, seenTLS = 1, 2, 4, 8
	var seen uint8
	var keyType, attrs, socket int
	var tls bool
	for i := 0; i < len(m); {
		c := strings.IndexByte(m[i:], ':')
		if c < 0 {
			break
		}
		c += i
		i = c + 1
		s := c
		for s > 0 && m[s-1] >= 'a' && m[s-1] <= 'z' {
			s--
		}
		if s == c || (s > 0 && m[s-1] != ' ' && m[s-1] != '\t' && m[s-1] != ',') {
			continue
		}
		v := skipSpaces(m, c+1)
		switch key := m[s:c]; key {
		case "t", "a", "c":
			n, j, ok := digits(m, v, 1, 18)
			if !ok || !dinamoValueEnd(m, j) {
				continue
			}
			switch {
			case key == "t" && seen&seenT == 0:
				keyType, seen = n, seen|seenT
			case key == "a" && seen&seenA == 0:
				attrs, seen = n, seen|seenA
			case key == "c" && seen&seenC == 0:
				socket, seen = n, seen|seenC
			}
		case "tls":
			if v >= len(m) || !dinamoValueEnd(m, v+1) || seen&seenTLS != 0 {
				continue
			}
			switch m[v] {
			case 'y', 'Y':
				tls, seen = true, seen|seenTLS
			case 'n', 'N':
				tls, seen = false, seen|seenTLS
			}
		}
	}
	if seen&seenT != 0 {
		ev.Fields.SetInt("key_type", int64(keyType))
		if name := dinamoAlgorithm(keyType); name != "" {
			ev.Fields.SetString("key_type_name", name)
		}
	}
	if seen&seenA != 0 {
		ev.Fields.SetInt("attributes", int64(attrs))
	}
	if seen&seenC != 0 {
		ev.Fields.SetInt("socket", int64(socket))
	}
	if seen&seenTLS != 0 {
		ev.Fields.SetBool("tls", tls)
	}
}

// dinamoValueEnd reports whether an attribute value may end at j.
func dinamoValueEnd(m string, j int) bool {
	return j == len(m) || m[j] == ',' || isSpace(m[j])
}

// dinamoAlgorithm returns the name of a key/algorithm type code ("t:n") from the spec's
// list of algorithm types, or "" for a code the list does not have. Codes 26 and 30 have
// two names each (SECG and X9.62); the first listed is returned.
func dinamoAlgorithm(code int) string {
	switch code {
	case 0:
		return "INVALID_OBJ_TYPE"
	case 1:
		return "ALG_DES"
	case 2:
		return "ALG_3DES_112"
	case 3:
		return "ALG_3DES_168"
	case 4:
		return "ALG_RSA_512"
	case 5:
		return "ALG_RSA_1024"
	case 6:
		return "ALG_RSA_2048"
	case 7:
		return "ALG_AES_128"
	case 8:
		return "ALG_AES_192"
	case 9:
		return "ALG_AES_256"
	case 10:
		return "ALG_ARC4"
	case 11:
		return "ALG_RSA_4096"
	case 12:
		return "ALG_OBJ_BLOB"
	case 13:
		return "ALG_OBJ_BLOB_X509"
	case 14:
		return "ALG_OBJ_BLOB_PKCS7"
	case 15:
		return "ALG_OBJ_BLOB_CRL"
	case 16:
		return "ALG_OBJ_BLOB_HOTP"
	case 18:
		return "ALG_ECC_SECP112R1"
	case 19:
		return "ALG_ECC_SECP112R2"
	case 20:
		return "ALG_ECC_SECP128R1"
	case 21:
		return "ALG_ECC_SECP128R2"
	case 22:
		return "ALG_ECC_SECP160K1"
	case 23:
		return "ALG_ECC_SECP160R1"
	case 24:
		return "ALG_ECC_SECP160R2"
	case 25:
		return "ALG_ECC_SECP192K1"
	case 26:
		return "ALG_ECC_SECP192R1" // also ALG_ECC_X9_62_PRIME192V1
	case 27:
		return "ALG_ECC_SECP224K1"
	case 28:
		return "ALG_ECC_SECP224R1"
	case 29:
		return "ALG_ECC_SECP256K1"
	case 30:
		return "ALG_ECC_SECP256R1" // also ALG_ECC_X9_62_PRIME256V1
	case 31:
		return "ALG_ECC_SECP384R1"
	case 32:
		return "ALG_ECC_SECP521R1"
	case 33:
		return "ALG_ECC_X9_62_PRIME192V2"
	case 34:
		return "ALG_ECC_X9_62_PRIME192V3"
	case 35:
		return "ALG_ECC_X9_62_PRIME239V1"
	case 36:
		return "ALG_ECC_X9_62_PRIME239V2"
	case 37:
		return "ALG_ECC_X9_62_PRIME239V3"
	case 38:
		return "ALG_ECC_BRAINPOOL_P160R1"
	case 39:
		return "ALG_ECC_BRAINPOOL_P160T1"
	case 40:
		return "ALG_ECC_BRAINPOOL_P192R1"
	case 41:
		return "ALG_ECC_BRAINPOOL_P192T1"
	case 42:
		return "ALG_ECC_BRAINPOOL_P224R1"
	case 43:
		return "ALG_ECC_BRAINPOOL_P224T1"
	case 44:
		return "ALG_ECC_BRAINPOOL_P256R1"
	case 45:
		return "ALG_ECC_BRAINPOOL_P256T1"
	case 46:
		return "ALG_ECC_BRAINPOOL_P320R1"
	case 47:
		return "ALG_ECC_BRAINPOOL_P320T1"
	case 48:
		return "ALG_ECC_BRAINPOOL_P384R1"
	case 49:
		return "ALG_ECC_BRAINPOOL_P384T1"
	case 50:
		return "ALG_ECC_BRAINPOOL_P512R1"
	case 51:
		return "ALG_ECC_BRAINPOOL_P512T1"
	case 90:
		return "ALG_MAP_2_OBJ"
	case 91:
		return "ALG_DESX"
	case 92:
		return "ALG_HMAC_MD5"
	case 93:
		return "ALG_HMAC_SHA1"
	case 94:
		return "ALG_HMAC_SHA2_256"
	case 95:
		return "ALG_HMAC_SHA2_384"
	case 96:
		return "ALG_HMAC_SHA2_512"
	case 121:
		return "ALG_RSA_1152"
	case 122:
		return "ALG_RSA_1408"
	case 123:
		return "ALG_RSA_1984"
	case 124:
		return "ALG_RSA_8192"
	case 125:
		return "ALG_EXT_MAP_2_OBJ"
	case 126:
		return "ALG_RSA_2304"
	case 127:
		return "ALG_RSA_2560"
	case 128:
		return "ALG_RSA_2816"
	case 129:
		return "ALG_RSA_3072"
	case 250:
		return "ALG_CMAC_AES"
	case 251:
		return "ALG_CMAC_DES"
	}
	return ""
}

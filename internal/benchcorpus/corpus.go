// Package benchcorpus generates the mixed corpus that the Go benchmarks and the harnesses
// under bench/ measure with: nine tenths generic Linux syslog noise of the kind a syslog
// server receives alongside HSM lines, one tenth HSM lines (the guide's examples, Dinamo
// and Luna PCIe ALM lines). One generator, so that a benchmark's figure and a harness's
// figure are about the same input.
package benchcorpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// GuidePath is the guide's examples under the shared folder beside the checkout.
const GuidePath = "corpus/luna-guide-examples.jsonl"

// SharedDir finds the shared/ folder beside the checkout that holds dir (../shared from the
// repository root, the folder with go.mod).
func SharedDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("benchcorpus: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("the shared corpus is missing: %w (clone the project with shared/ beside it)", err)
			}
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// HSMLines reads the guide's examples from the shared folder and adds Dinamo and ALM lines.
func HSMLines(shared string) ([]string, error) {
	p := filepath.Join(shared, GuidePath)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("benchcorpus: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var ex struct {
			Line string `json:"line"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			return nil, fmt.Errorf("benchcorpus: %s:%d: %w", p, n, err)
		}
		lines = append(lines, ex.Line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("benchcorpus: %s: %w", p, err)
	}
	return append(lines, ExtraHSM...), nil
}

// ExtraHSM are HSM lines of formats the guide does not show: Dinamo event log lines and
// Luna PCIe ALM lines.
var ExtraHSM = []string{
	"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21|172.17.0.1 172.17.0.2:4433 master",
	"2022/01/11 22:28:56 0000004C 0000017D A575C340 master truncated log|172.17.0.1 172.17.0.2:4433 master",
	"2012 Feb 29 12:05:01 myLuna kern info kernel: k7pf0: [HSM] ALM2007: HSM zeroized",
	"[  812.345678] k7pf0: ALM0015: PCIe Link Failure",
}

// noise are templates of generic syslog lines: %T is the traditional timestamp, %I the
// high-precision one, %H a host, %P a PID, %A an address, %N a number. Filled from the
// line's index, so that hosts, PIDs and addresses vary the way they do in a real file.
var noise = []string{
	"%T %H sshd[%P]: Accepted publickey for deploy from %A port %N ssh2: ED25519 SHA256:abcdef",
	"%T %H systemd[1]: Started Session %N of User deploy.",
	"%T %H CRON[%P]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
	"%T %H kernel: [%N.123456] IPv4: martian source %A from 10.0.0.2, on dev eth0",
	"%T %H systemd-logind[611]: New session %N of user deploy.",
	"%I %H postfix/smtpd[%P]: connect from unknown[%A]",
	"%T %H dhclient[700]: DHCPACK of %A from 10.0.0.1",
	"%T %H rsyslogd: [origin software=\"rsyslogd\"] rsyslogd was HUPed",
	"%T %H nginx[900]: %A - - \"GET /health HTTP/1.1\" 200 %N",
}

// Noise returns the i-th noise line.
func Noise(i int) string { return string(AppendNoise(nil, i)) }

// AppendNoise appends the i-th noise line to dst.
func AppendNoise(dst []byte, i int) []byte {
	t := noise[i%len(noise)]
	sec := i / 50 // fifty lines a second
	for k := 0; k < len(t); k++ {
		if t[k] != '%' || k+1 == len(t) {
			dst = append(dst, t[k])
			continue
		}
		k++
		switch t[k] {
		case 'T':
			dst = append(dst, "Nov 22 "...)
			dst = appendClock(dst, sec)
		case 'I':
			dst = append(dst, "2026-11-22T"...)
			dst = appendClock(dst, sec)
			dst = append(dst, '.')
			dst = append(dst, pad(strconv.Itoa(i*7919%1000000), 6)...)
			dst = append(dst, "+00:00"...)
		case 'H':
			dst = append(dst, "web"...)
			dst = append(dst, pad(strconv.Itoa(i*31%40), 2)...)
		case 'P':
			dst = strconv.AppendInt(dst, int64(1000+i*17%30000), 10)
		case 'A':
			dst = append(dst, "10."...)
			dst = strconv.AppendInt(dst, int64(i%7), 10)
			dst = append(dst, '.')
			dst = strconv.AppendInt(dst, int64(i/7%250), 10)
			dst = append(dst, '.')
			dst = strconv.AppendInt(dst, int64(1+i*13%250), 10)
		case 'N':
			dst = strconv.AppendInt(dst, int64(1000+i*101%60000), 10)
		default:
			dst = append(dst, '%', t[k])
		}
	}
	return dst
}

func appendClock(dst []byte, sec int) []byte {
	sec %= 86400
	dst = append(dst, pad(strconv.Itoa(sec/3600), 2)...)
	dst = append(dst, ':')
	dst = append(dst, pad(strconv.Itoa(sec/60%60), 2)...)
	dst = append(dst, ':')
	return append(dst, pad(strconv.Itoa(sec%60), 2)...)
}

func pad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// Mixed returns n lines: per ten, nine noise lines and one HSM line, in turn.
func Mixed(n int, hsm []string) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		if i%10 == 9 && len(hsm) > 0 {
			out = append(out, hsm[(i/10)%len(hsm)])
			continue
		}
		out = append(out, Noise(i-i/10))
	}
	return out
}

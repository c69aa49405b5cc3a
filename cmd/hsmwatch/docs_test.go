package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docCommand is one hsmwatch command line shown in docs/.
type docCommand struct {
	where  string // FILE:LINE
	args   []string
	online bool // in an sh-online block: needs an HSM, a network or root; checked, not run
	exit   int  // the exit status the page says ("# exit N"), 0 by default
}

var exitComment = regexp.MustCompile(`\s+#\s*exit\s+(\d+)\s*$`)

// docCommands reads the fenced blocks of docs/*.md marked sh (run offline) and sh-online
// (not run) and returns their hsmwatch lines. A line of an sh block that is no hsmwatch
// command is an error: such a block must run as it stands.
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil || len(pages) < 5 {
		t.Fatalf("docs: %v %v", pages, err)
	}
	var out []docCommand
	for _, page := range pages {
		f, err := os.Open(page)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		block, n := "", 0
		for sc.Scan() {
			n++
			line := sc.Text()
			if strings.HasPrefix(line, "```") {
				if block == "" {
					block = strings.TrimSpace(strings.TrimPrefix(line, "```"))
					if block == "" {
						block = "text"
					}
				} else {
					block = ""
				}
				continue
			}
			if block != "sh" && block != "sh-online" {
				continue
			}
			where := fmt.Sprintf("%s:%d", filepath.Base(page), n)
			text := strings.TrimSpace(line)
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			if !strings.HasPrefix(text, "hsmwatch ") {
				if block == "sh" {
					t.Errorf("%s: an sh block holds only hsmwatch commands (mark others sh-online): %s", where, text)
				}
				continue
			}
			c := docCommand{where: where, online: block == "sh-online"}
			if m := exitComment.FindStringSubmatch(text); m != nil {
				c.exit, _ = strconv.Atoi(m[1])
				text = text[:len(text)-len(m[0])]
			}
			args, err := shellWords(strings.TrimPrefix(text, "hsmwatch "))
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			c.args = args
			out = append(out, c)
		}
		f.Close()
		if block != "" {
			t.Errorf("%s: a fenced block is not closed", page)
		}
	}
	return out
}

// shellWords splits a command line as a POSIX shell would for plain words and quotes; any
// other shell syntax is refused (a documented command must run as it stands).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unclosed quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case strings.IndexByte("|&;<>$`\\*?(){}", c) >= 0:
			return nil, fmt.Errorf("shell syntax %q in %q: show a plain command", c, s)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// Every hsmwatch command of an sh block in docs/ runs, as the built binary (this test
// binary acting as hsmwatch, TestMain), from the repository's root with its sample files,
// and exits as the page says. The commands of sh-online blocks name existing commands and
// flags.
func TestDocsCommands(t *testing.T) {
	cmds := docCommands(t)
	root, _ := newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	ran, checked := 0, 0
	for _, c := range cmds {
		sub, rest, err := root.Find(c.args)
		if err != nil || (sub == root && (len(rest) == 0 || !strings.HasPrefix(rest[0], "-"))) {
			t.Errorf("%s: hsmwatch %s: no such command (%v)", c.where, strings.Join(c.args, " "), err)
			continue
		}
		if err := sub.ParseFlags(rest); err != nil {
			t.Errorf("%s: hsmwatch %s: %v", c.where, strings.Join(c.args, " "), err)
			continue
		}
		// Find and ParseFlags leave their marks on the tree: the next line gets a fresh one.
		root, _ = newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
		if c.online {
			checked++
			continue
		}
		ran++
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0], c.args...)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "HSMWATCH_TEST_AS_MAIN=1", "HOME="+t.TempDir())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		cancel()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Errorf("%s: hsmwatch %s: %v", c.where, strings.Join(c.args, " "), err)
			continue
		}
		if code != c.exit {
			t.Errorf("%s: hsmwatch %s: exit %d, the page says %d:\n%s", c.where, strings.Join(c.args, " "), code, c.exit, out.String())
		} else if out.Len() == 0 {
			t.Errorf("%s: hsmwatch %s printed nothing", c.where, strings.Join(c.args, " "))
		}
	}
	if ran < 10 || checked < 5 {
		t.Errorf("%d commands run and %d checked: the blocks of docs/ were not found", ran, checked)
	}
	t.Logf("%d commands run, %d online commands checked", ran, checked)
}

func TestShellWords(t *testing.T) {
	w, err := shellWords(`check log --since "2012-01-01 00:00" 'a b' x`)
	if err != nil || strings.Join(w, "|") != "check|log|--since|2012-01-01 00:00|a b|x" {
		t.Errorf("%q %v", w, err)
	}
	for _, bad := range []string{"scan x | head", "scan $F", `scan "x`} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

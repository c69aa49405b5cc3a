package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/hsmwatch/hsmwatch/internal/secretfile"
)

// secretFlag is one secret (a community, a passphrase) with its three sources: a file
// (--X-file), an environment variable, and the flag value itself. A flag value shows in
// process lists (ps, /proc/PID/cmdline), so the file and the environment are the safe
// forms; the flag is accepted for tests and warned about. The value never reaches a log,
// an error or the output.
type secretFlag struct {
	flag, env, what string
	value, file     string
}

func (s *secretFlag) register(fl *pflag.FlagSet, flag, env, what string) {
	s.flag, s.env, s.what = flag, env, what
	fl.StringVar(&s.value, flag, "", what+" (shows in process lists: prefer --"+flag+"-file or "+env+")")
	fl.StringVar(&s.file, flag+"-file", "", "read "+what+" from this file (first line)")
}

// get returns the secret: from the file, else the flag, else the environment; "" when
// none is given. Giving both the file and the flag is an error.
func (s *secretFlag) get(warn io.Writer) (string, error) {
	switch {
	case s.file != "" && s.value != "":
		return "", fmt.Errorf("give %s once: --%s-file or --%s", s.what, s.flag, s.flag)
	case s.file != "":
		return secretfile.FirstLine(s.file, "--"+s.flag+"-file", warn)
	case s.value != "":
		fmt.Fprintf(warn, "hsmwatch: warning: --%s shows in process lists; use --%s-file or %s\n", s.flag, s.flag, s.env)
		return s.value, nil
	}
	return os.Getenv(s.env), nil
}

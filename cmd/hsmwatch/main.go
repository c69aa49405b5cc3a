// Command hsmwatch monitors Hardware Security Modules: it reads their logs, traps and
// polls, classifies what happens and acts on it. Each subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/version"
)

// exitError carries an exit status through cobra without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// app holds what every subcommand needs; nothing lives in package variables.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	logSet         *logSettings // --log-level, --log-format: a.log follows them
}

func main() {
	// First of all: this process may be the child that runs a PKCS#11 library for a
	// check or the daemon's probe (pkcs11probe.Spawner); then it does that and exits.
	pkcs11probe.MaybeChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// newRoot builds the whole command tree (also what `hsmwatch man` and `hsmwatch
// completion` describe).
func newRoot(stdin io.Reader, stdout, stderr io.Writer) (*cobra.Command, *app) {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, logSet: &logSettings{}}
	a.log = a.logSet.newLogger(stderr)
	info := version.Get()
	root := &cobra.Command{
		Use:   "hsmwatch",
		Short: "Monitor Hardware Security Modules: logs, traps, polls, alarms",
		Long: "hsmwatch monitors Hardware Security Modules (Thales Luna, Dinamo, any PKCS#11 HSM): it reads\n" +
			"their logs, SNMP traps and polls, classifies every event with an editable rule catalog, keeps\n" +
			"alarm state and acts on it (SNMP traps, Nagios/Icinga checks, Prometheus metrics, webhooks,\n" +
			"a dashboard).",
		Version:       info.Short(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --version without cobra's -v shorthand (the checks' -v is verbose), printing what
	// `hsmwatch version` prints.
	root.Flags().Bool("version", false, "print the version, commit, build date and Go version, and exit")
	root.SetVersionTemplate(info.Long())
	a.logSet.register(root.PersistentFlags())
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(a.scanCommand(), a.rulesCommand(), a.simCommand(), a.checkCommand(), a.trapdCommand(), a.pollCommand(), a.serveCommand(), a.demoCommand(), a.configCommand(), a.alarmCommand(),
		a.versionCommand(info), a.manCommand(root))
	a.checkVersions(root, info)
	return root, a
}

// run executes the command line and returns the exit status: 0 done, 1 an input or
// output failed, 2 the command line is wrong.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root, _ := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "hsmwatch: interrupted")
		return 1
	default:
		fmt.Fprintf(stderr, "hsmwatch: %v\n", err)
		return 2
	}
}

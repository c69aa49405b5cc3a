package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/check/p11check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

type memoryFlags struct {
	p11Flags
	total  uint64
	memory string
}

func (a *app) checkMemoryCommand() *cobra.Command {
	var f memoryFlags
	cmd := &cobra.Command{
		Use:   "memory -p LIBRARY (-l LABEL | -s SLOT | --all) [-w 75] [-c 90] [-m TOTAL] [-v] [-t 10]",
		Short: "Check the memory in use on an HSM token over PKCS#11 (p11memmon's check)",
		Long: `memory checks how much of a token's memory is in use, the way SURFnet's p11memmon
does: it loads the HSM's PKCS#11 library, finds the token by label (-l) or slot (-s),
reads the private memory the token reports (total and free; no login needed) and reports
used = total - free as a whole percentage:

  OK: HSM memory usage is at 0% (43968 bytes in use) | used=43968B;;;0;14286412 usage=0.31%;75;90

-w and -c are Monitoring Plugins ranges over the exact percentage (75 means above 75%).
-m gives the total in bytes when the token reports a wrong one (the Luna SA 5 may).
--memory public or both checks the public memory too (-m applies to private memory).
--all checks every initialised token. -v prints each step, as p11memmon -v does.
The exit status is 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, with a message saying what to do
when the token cannot be checked. -t bounds the whole check, even a library that hangs.`,
		Args: a.checkNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.checkMemory(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.Uint64VarP(&f.total, "total", "m", 0, "the total private memory in bytes, instead of the total the token reports")
	fl.StringVar(&f.memory, "memory", "private", "which memory: private (p11memmon), public or both")
	return cmd
}

func (a *app) checkMemory(ctx context.Context, f memoryFlags) error {
	sel, th, to, err := f.parse()
	if err == nil {
		switch f.memory {
		case "private", "public", "both":
		default:
			err = fmt.Errorf("--memory %q: use private, public or both", f.memory)
		}
	}
	if err != nil {
		check.Unknownf("%v (see hsmwatch check memory --help)", err).Write(a.stdout)
		return exitError{code: int(check.Unknown)}
	}
	tr := check.NewTrace(a.stdout, f.Verbose)
	mem := p11check.Memory{Which: f.memory, Total: f.total}
	res := p11check.Run(ctx, to, tr, f.lib, sel, func(s *pkcs11probe.Session) check.Result {
		return p11check.MemoryResult(tr, s, mem, th, sel.All)
	})
	return exitStatus(res.Write(a.stdout))
}

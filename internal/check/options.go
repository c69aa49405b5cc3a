package check

import (
	"github.com/spf13/pflag"
)

// Options are the command-line options every check shares, with the plugins' letters:
// -w and -c (ranges), -v (repeatable: -v, -vv, -vvv) and -t (timeout).
type Options struct {
	Warn, Crit string
	Verbose    int
	Timeout    string
}

// Register adds -w/--warning, -c/--critical, -v/--verbose and -t/--timeout to fs. what
// says what the ranges apply to ("the memory usage in percent"); warn and crit are the
// defaults ("" for none).
func (o *Options) Register(fs *pflag.FlagSet, what, warn, crit string) {
	fs.StringVarP(&o.Warn, "warning", "w", warn, "WARNING when "+what+" is outside this range (Monitoring Plugins syntax: 10 means above 10, 10: below 10, @10:20 inside)")
	fs.StringVarP(&o.Crit, "critical", "c", crit, "CRITICAL when "+what+" is outside this range")
	fs.CountVarP(&o.Verbose, "verbose", "v", "more output: -v, -vv, -vvv")
	fs.StringVarP(&o.Timeout, "timeout", "t", "10", "seconds (or 500ms, 2s) before the check gives up with UNKNOWN, whatever it waits for; N:STATE reports STATE instead")
}

// Parse reads the ranges and the timeout; the error names the option at fault.
func (o Options) Parse() (Threshold, Timeout, error) {
	th, err := ParseThreshold(o.Warn, o.Crit)
	if err != nil {
		return Threshold{}, Timeout{}, err
	}
	to, err := ParseTimeout(o.Timeout)
	if err != nil {
		return Threshold{}, Timeout{}, err
	}
	return th, to, nil
}

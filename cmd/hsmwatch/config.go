package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	_ "github.com/hsmwatch/hsmwatch/internal/component/all"
	"github.com/hsmwatch/hsmwatch/internal/config"
)

// configCommand prints a sample configuration and checks a file without starting
// anything.
func (a *app) configCommand() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Print a sample configuration or check one"}
	c.AddCommand(&cobra.Command{
		Use:   "sample",
		Short: "Print a configuration that shows every kind of source and sink",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(a.stdout, config.Sample())
			return err
		},
	}, &cobra.Command{
		Use:   "check FILE",
		Short: "Check a configuration file: every problem, as FILE:LINE: KEY: problem",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := config.Load(args[0])
			if c != nil {
				err = errors.Join(err, c.CheckFiles())
			}
			if err != nil {
				fmt.Fprintln(a.stderr, err)
				return exitError{2}
			}
			fmt.Fprintf(a.stdout, "%s: %d sources, %d sinks\n", args[0], len(c.Sources.List), len(c.Sinks.List))
			return nil
		},
	})
	return c
}

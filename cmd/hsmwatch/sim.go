package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// simCommand is a placeholder replaced by the simulator (issue 4).
func (a *app) simCommand() *cobra.Command {
	return &cobra.Command{Use: "sim", Short: "Run simulated HSMs (not built yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errors.New("sim: not built yet") }}
}

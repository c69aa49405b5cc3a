package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// checkLogCommand is a placeholder until the state tracker exists (issue 6, point 4).
func (a *app) checkLogCommand() *cobra.Command {
	return &cobra.Command{Use: "log FILE...", Short: "Check an exported log (not built yet)", Hidden: true,
		RunE: func(*cobra.Command, []string) error { return errors.New("check log: not built yet") }}
}

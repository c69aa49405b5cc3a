package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/hsmwatch/hsmwatch/internal/version"
)

// versionCommand prints what --version prints: version, commit, build date, Go version.
func (a *app) versionCommand(info version.Info) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(a.stdout, info.Long())
			return err
		},
	}
}

// checkVersions gives every check -V/--version, the Nagios plugin convention: one line
// naming the check and the build.
func (a *app) checkVersions(root *cobra.Command, info version.Info) {
	for _, c := range root.Commands() {
		if c.Name() != "check" {
			continue
		}
		for _, sub := range c.Commands() {
			sub.Version = info.Short()
			sub.Flags().BoolP("version", "V", false, "print the plugin's version and exit")
			sub.SetVersionTemplate(sub.CommandPath() + " " + info.Short() + "\n")
		}
	}
}

// manCommand writes a man page per command (section 1) into a folder: the packages
// ship them (scripts/package.sh).
func (a *app) manCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write the man pages of every command into DIR (hsmwatch.1, hsmwatch-scan.1, ...)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			h := &doc.GenManHeader{Title: "HSMWATCH", Section: "1", Manual: "hsmwatch manual",
				Source: "hsmwatch " + version.Get().Version}
			// The date is the build's (the commit time) so that two builds of one commit give
			// the same pages; the current time only when the binary records none.
			if t, err := time.Parse(time.RFC3339, version.Get().Date); err == nil {
				h.Date = &t
			}
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, h, dir); err != nil {
				return fmt.Errorf("man pages in %s: %w", dir, err)
			}
			n, _ := filepath.Glob(filepath.Join(dir, "*.1"))
			fmt.Fprintf(a.stdout, "%d man pages in %s\n", len(n), dir)
			return nil
		},
	}
}

package passive

import (
	"fmt"
	"os"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// IcingaSpec is one sinks.icinga entry.
type IcingaSpec struct {
	URL          string `yaml:"url"`
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	CAFile       string `yaml:"ca_file"`
	Service      string `yaml:"service"`
}

// ID is the URL and the service.
func (s *IcingaSpec) ID() string { return s.URL + " " + s.Service }

// Check implements component.Checker.
func (s *IcingaSpec) Check() []component.Problem {
	var ps []component.Problem
	if !strings.HasPrefix(s.URL, "https://") || len(s.URL) == len("https://") {
		ps = append(ps, component.Problemf("url", "want the Icinga 2 API's https:// URL (https://icinga.example:5665)"))
	}
	if s.User == "" {
		ps = append(ps, component.Problemf("user", "name the ApiUser (permission actions/process-check-result)"))
	}
	if s.PasswordFile == "" {
		ps = append(ps, component.Problemf("password_file", "name the file holding the ApiUser's password"))
	}
	return ps
}

// NagiosSpec is one sinks.nagios entry.
type NagiosSpec struct {
	// CommandPipe is Nagios' command_file (nagios.cfg). Not named *_file: the
	// configuration's file check (internal/config/files.go) opens such files for reading,
	// which would block on a pipe, and Nagios removes the pipe while it is stopped.
	CommandPipe string `yaml:"command_pipe"`
	Service     string `yaml:"service"`
}

// ID is the command file and the service.
func (s *NagiosSpec) ID() string { return s.CommandPipe + " " + s.Service }

// Check implements component.Checker.
func (s *NagiosSpec) Check() []component.Problem {
	if s.CommandPipe == "" {
		return []component.Problem{component.Problemf("command_pipe", "name Nagios' external command file (command_file in nagios.cfg)")}
	}
	return nil
}

const icingaSample = `# Icinga 2: alarms as passive results of the service "hsmwatch" of each HSM's host
# (contrib/icinga2/hsmwatch.conf defines it), through the API over TLS.
- url: https://icinga.example:5665
  user: hsmwatch
  password_file: /etc/hsmwatch/icinga-api.pass
  ca_file: /etc/hsmwatch/icinga-ca.crt
  service: hsmwatch
`

const nagiosSample = `# Nagios: alarms as passive results (PROCESS_SERVICE_CHECK_RESULT) written to its
# external command file; contrib/nagios/hsmwatch.cfg defines the service.
- command_pipe: /var/lib/nagios4/rw/nagios.cmd
  service: hsmwatch
`

func init() {
	component.Register(component.Kind{Role: component.SinkRole, Key: "icinga",
		Doc: "sends alarms as Icinga 2 passive check results (API)", Sample: icingaSample,
		New: func() component.Spec { return &IcingaSpec{} },
		Sink: func(sp component.Spec, env component.Env) (component.Sink, error) {
			s := sp.(*IcingaSpec)
			pw, err := os.ReadFile(s.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("icinga: password_file: %w", err)
			}
			return NewIcinga(IcingaConfig{URL: s.URL, User: s.User, Password: strings.TrimSpace(string(pw)),
				CAFile: s.CAFile, Service: s.Service, Logger: env.Logger})
		}})
	component.Register(component.Kind{Role: component.SinkRole, Key: "nagios",
		Doc: "writes alarms as Nagios passive check results (command file)", Sample: nagiosSample,
		New: func() component.Spec { return &NagiosSpec{} },
		Sink: func(sp component.Spec, _ component.Env) (component.Sink, error) {
			s := sp.(*NagiosSpec)
			return NewNagios(NagiosConfig{CommandFile: s.CommandPipe, Service: s.Service})
		}})
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/hsmwatch/hsmwatch/internal/snmp/agent"
)

// The hsmwatch agent runs in a child process (this program again, with childEnv set)
// so that its CPU time is its own, as snmpd's is.
const (
	childEnv      = "HSMWATCH_BENCH_AGENT_OF"
	childProcsEnv = "HSMWATCH_BENCH_GOMAXPROCS"
)

func childProcs() string {
	if v := os.Getenv(childProcsEnv); v != "" {
		return v
	}
	return fmt.Sprint(runtime.NumCPU())
}

// startChild starts the agent process with snmpd's tree and waits for its address.
func startChild(ctx context.Context, snmpdAddr string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), childEnv+"="+snmpdAddr)
	if v := os.Getenv(childProcsEnv); v != "" {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+v)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{server: server{pid: cmd.Process.Pid}, cmd: cmd}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		p.stop()
		return nil, fmt.Errorf("agent process did not start: %q %v", line, err)
	}
	p.addr = addr
	return p, waitAnswer(addr, 10*time.Second)
}

// serveChild copies snmpd's mib-2 into a tree and serves it until killed.
func serveChild() error {
	snmpdAddr := os.Getenv(childEnv)
	g, err := newClient(snmpdAddr, false)
	if err != nil {
		return err
	}
	vars, err := g.BulkWalkAll(".1.3.6.1.2.1")
	g.Conn.Close()
	if err != nil {
		return fmt.Errorf("copy snmpd's tree: %w", err)
	}
	tree := agent.NewMapTree()
	for _, v := range vars {
		tree.Set(v)
	}
	a, err := agent.New(agent.Config{
		Addr:        "127.0.0.1:0",
		Communities: []string{"public"},
		Users: []agent.User{{Name: benchUser, AuthProto: gosnmp.SHA, AuthPass: benchAuthPass,
			PrivProto: gosnmp.AES, PrivPass: benchPrivPass}},
		Tree: tree,
	})
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", a.Addr())
	return a.Serve(context.Background())
}

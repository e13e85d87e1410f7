/*
Copyright 2026 The Tenantry Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// component is how one operator or bridge process of a scenario is started, and where it answers.
type component struct {
	opts framework.ProcessOptions
	// metrics is the /metrics URL; ready the /readyz URL.
	metrics, ready string
	// url is the bridge's production URL (empty for an operator).
	url string
}

func freeAddr(t *scenarioT) string {
	t.Helper()
	a, err := framework.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// operator describes an operator process named name of scenario, built into binDir (the
// current build when empty), logging to <scenario>/manager-<name>.log, with extra flags last.
func operator(t *scenarioT, scenario, name, binDir string, extra ...string) component {
	t.Helper()
	o := components
	o.LogDir = filepath.Join(logDir, scenario)
	if binDir != "" {
		o.BinDir = binDir
	}
	metrics, probes := freeAddr(t), freeAddr(t)
	po := framework.ManagerProcessOptions(o, metrics, probes)
	po.Name = "operator " + name
	po.LogPath = filepath.Join(o.LogDir, "manager-"+name+".log")
	po.Args = append(po.Args, extra...)
	return component{opts: po, metrics: "http://" + metrics + "/metrics", ready: "http://" + probes + "/readyz"}
}

// bridge describes a bridge process named name of scenario.
func bridge(t *scenarioT, scenario, name string) component {
	t.Helper()
	o := components
	o.LogDir = filepath.Join(logDir, scenario)
	bind, pages, metrics := freeAddr(t), freeAddr(t), freeAddr(t)
	po := framework.BridgeProcessOptions(o, bind, pages, metrics)
	po.Name = "bridge " + name
	po.LogPath = filepath.Join(o.LogDir, "webhookbridge-"+name+".log")
	return component{opts: po, metrics: "http://" + metrics + "/metrics", ready: "http://" + metrics + "/readyz",
		url: "http://" + bind + framework.BridgePath}
}

// start starts the process and waits until it is ready; the test stops it when it ends.
func (c component) start(t *scenarioT) *framework.Process {
	t.Helper()
	p, err := framework.StartProcess(c.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(20 * time.Second) })
	if err := framework.WaitHTTP(context.Background(), c.ready, p, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return p
}

// supervise starts the process, waits until it is ready, and keeps it running: whenever it exits
// it is started again after delay(n). The test stops it when it ends.
func (c component) supervise(t *scenarioT, delay func(n int) time.Duration) *framework.Supervisor {
	t.Helper()
	p, err := framework.StartProcess(c.opts)
	if err != nil {
		t.Fatal(err)
	}
	s := framework.Supervise(p, delay)
	t.Cleanup(func() { _ = s.Stop(20 * time.Second) })
	if err := framework.WaitHTTP(context.Background(), c.ready, p, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return s
}

// backoff is a kubelet-like restart delay: 1 s doubling up to 8 s.
func backoff(n int) time.Duration {
	return min(time.Second<<min(n-1, 3), 8*time.Second)
}

// logLine is one JSON line of an operator's or a bridge's log.
type logLine struct {
	TS     time.Time `json:"ts"`
	Level  string    `json:"level"`
	Logger string    `json:"logger"`
	Msg    string    `json:"msg"`
	Error  string    `json:"error"`
}

// logLines parses the JSON lines of a process's own log (see framework.Process.Log); lines that
// are not JSON (klog's, a panic) are skipped.
func logLines(p *framework.Process) []logLine {
	b, err := p.Log()
	if err != nil {
		return nil
	}
	var lines []logLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && !l.TS.IsZero() {
			lines = append(lines, l)
		}
	}
	return lines
}

// firstLog is the time of the first line of p's log with message msg.
func firstLog(p *framework.Process, msg string) (time.Time, bool) {
	for _, l := range logLines(p) {
		if l.Msg == msg {
			return l.TS, true
		}
	}
	return time.Time{}, false
}

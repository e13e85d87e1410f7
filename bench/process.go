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

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// process is a binary the harness started (the test framework's Process, its log appended to),
// with the names the harness uses; the kernel kills it if the harness dies.
type process struct {
	*framework.Process
	// logPath is where its output goes.
	logPath string
}

func startProcess(name, path string, args, env []string, logPath string) (*process, error) {
	p, err := framework.StartProcess(framework.ProcessOptions{Name: name, Path: path, Args: args, Env: env,
		LogPath: logPath, AppendLog: true})
	if err != nil {
		return nil, err
	}
	return &process{Process: p, logPath: logPath}, nil
}

func (p *process) pid() int { return p.Pid() }

func (p *process) exited() bool { return !p.Running() }

// stop sends SIGTERM (the graceful path: the operator releases its Lease) and SIGKILL after
// timeout.
func (p *process) stop(timeout time.Duration) error {
	if p == nil {
		return nil
	}
	return p.Stop(timeout)
}

// waitHTTP polls url until it answers 200, failing early if p exits.
func waitHTTP(ctx context.Context, url string, p *process, timeout time.Duration) error {
	var fp *framework.Process
	if p != nil {
		fp = p.Process
	}
	return framework.WaitHTTP(ctx, url, fp, timeout)
}

// poll calls cond every interval, the first time at once, until it reports done, fails, or ctx
// ends.
func poll(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	return wait.PollUntilContextCancel(ctx, interval, true, func(context.Context) (bool, error) { return cond() })
}

// envWith is this program's environment with KUBECONFIG (removed when empty) and extra
// variables replaced.
var envWith = framework.Env

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat; 100 on Linux.
const clockTicks = 100

// cpuSecondsOf adds, with children, the CPU time of the children it has waited for (helm and
// kubectl for the harness).
func cpuSecondsOf(pid int, children bool) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(s[i+1:])
	// After the command: state(0) ppid(1) ... utime(11) stime(12).
	if len(fields) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseFloat(fields[11], 64)
	st, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	total := ut + st
	if children && len(fields) > 14 {
		cut, err1 := strconv.ParseFloat(fields[13], 64)
		cst, err2 := strconv.ParseFloat(fields[14], 64)
		if err1 == nil && err2 == nil {
			total += cut + cst
		}
	}
	return total / clockTicks, true
}

// schedOf is how long all of a process's threads ran, and how long they were runnable but
// waiting for a core, from /proc/<pid>/task/*/schedstat (a thread that exits takes its figures
// with it; Go processes seldom end threads).
func schedOf(pid int) (run, wait time.Duration, ok bool) {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(stats) == 0 {
		return 0, 0, false
	}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, 0, false
		}
		r, err1 := strconv.ParseInt(f[0], 10, 64)
		w, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, false
		}
		run += time.Duration(r)
		wait += time.Duration(w)
	}
	return run, wait, true
}

// rssBytes is a process's resident set size from /proc/<pid>/status.
func rssBytes(pid int) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, err := strconv.ParseFloat(f[1], 64)
				return kb * 1024, err == nil
			}
		}
	}
	return 0, false
}

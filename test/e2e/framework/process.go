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

package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// ProcessOptions says how to start a Process.
type ProcessOptions struct {
	// Name is what messages call the process.
	Name string
	// Path is the binary; Args its arguments; Env its whole environment.
	Path string
	Args []string
	Env  []string
	// LogPath receives standard output and standard error.
	LogPath string
	// Detach starts the process in a session of its own so that it outlives this program (the
	// demo's KEEP mode). Otherwise the kernel kills it when this program dies, however it dies.
	Detach bool
	// AppendLog appends to LogPath instead of truncating it, so that a restarted process (see
	// Process.Restart) keeps the log of the ones before it.
	AppendLog bool
}

// Process is a started binary.
type Process struct {
	Name, Path, LogPath string
	cmd                 *exec.Cmd
	done                chan struct{}
	err                 error
	// opts started the process; Restart starts it again with them.
	opts ProcessOptions
	// logOffset is where this process's output starts in LogPath.
	logOffset int64
	// startedAt and exitedAt (set before done is closed) bound the process's life.
	startedAt, exitedAt time.Time
}

// StartProcess starts a binary with its output going to a log file.
func StartProcess(o ProcessOptions) (*Process, error) {
	if err := os.MkdirAll(filepath.Dir(o.LogPath), 0o755); err != nil {
		return nil, err
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if o.AppendLog {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(o.LogPath, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating log of %s: %w", o.Name, err)
	}
	defer func() { _ = f.Close() }()
	var offset int64
	if fi, err := f.Stat(); err == nil && o.AppendLog {
		offset = fi.Size()
	}
	cmd := exec.Command(o.Path, o.Args...)
	cmd.Env = o.Env
	cmd.Stdout, cmd.Stderr = f, f
	if o.Detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Name, err)
	}
	p := &Process{Name: o.Name, Path: o.Path, LogPath: o.LogPath, cmd: cmd, done: make(chan struct{}),
		opts: o, logOffset: offset, startedAt: time.Now()}
	go func() {
		p.err = cmd.Wait()
		p.exitedAt = time.Now()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Stop asks the process to shut down (SIGTERM) and kills it after timeout.
func (p *Process) Stop(timeout time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not stop within %s and was killed", p.Name, timeout)
}

// StopPid stops a process started by an earlier run (whose pid was saved), but only if pid is
// still a process of binary: a pid reused by something else is left alone.
func StopPid(pid int, binary string, timeout time.Duration) (bool, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	// A binary rebuilt since the process started shows as "<path> (deleted)".
	if err != nil || (exe != binary && exe != binary+" (deleted)") {
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return false, nil
	}
	gone := func(context.Context) (bool, error) { return !alive(pid), nil }
	if wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, gone) == nil {
		return true, nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return true, fmt.Errorf("process %d (%s) did not stop within %s and was killed", pid, filepath.Base(binary), timeout)
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// ProcessAlive reports whether pid is a running process whose command line contains substr.
func ProcessAlive(pid int, substr string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && alive(pid) && strings.Contains(string(cmdline), substr)
}

// FreeAddr returns a loopback address with a port nothing listens on.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// FreeAddrs returns n loopback addresses, each with a port nothing listens on.
func FreeAddrs(n int) ([]string, error) {
	addrs := make([]string, n)
	for i := range addrs {
		a, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	return addrs, nil
}

// WaitHTTP polls url until it answers 200, failing early if p exits.
func WaitHTTP(ctx context.Context, url string, p *Process, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if p != nil {
			select {
			case <-p.Exited():
				if p.err == nil {
					return false, fmt.Errorf("%s exited", p.Name)
				}
				return false, fmt.Errorf("%s exited: %w", p.Name, p.err)
			default:
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		name := url
		if p != nil {
			name = p.Name
			err = fmt.Errorf("%w; the end of %s:\n%s", err, p.LogPath, LogTail(p.LogPath, 20))
		}
		return fmt.Errorf("waiting for %s to be ready: %w", name, err)
	}
	return nil
}

// LogTail returns the last n lines of a log file.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WritePid records a detached process so a later run can stop it.
func WritePid(path string, p *Process) error {
	return os.WriteFile(path, []byte(strconv.Itoa(p.Pid())+"\n"), 0o600)
}

// ReadPid reads a pid written by WritePid.
func ReadPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, errors.Join(fmt.Errorf("%s does not hold a pid", path), err)
	}
	return pid, nil
}

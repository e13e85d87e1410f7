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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// Fault injection for the chaos suite (test/chaos): killing and restarting the local processes,
// keeping them running the way a kubelet keeps a container running, and stopping and starting
// the control plane's own processes.

// Signal sends sig to the process; a process that has exited already is no error.
func (p *Process) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling %s: %w", p.Name, err)
	}
	return nil
}

// Kill sends SIGKILL, as a node failure or the OOM killer would, and returns once the process
// is gone, with the moment the signal was sent.
func (p *Process) Kill() (time.Time, error) {
	at := time.Now()
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return at, err
	}
	<-p.done
	return at, nil
}

// Restart starts the binary again with the options it was started with, appending to its log.
// The process must have exited.
func (p *Process) Restart() (*Process, error) {
	select {
	case <-p.done:
	default:
		return nil, fmt.Errorf("restarting %s: it is still running", p.Name)
	}
	o := p.opts
	o.AppendLog = true
	return StartProcess(o)
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// StartedAt is when the process was started.
func (p *Process) StartedAt() time.Time { return p.startedAt }

// ExitedAt is when the process was seen to exit; zero while it runs.
func (p *Process) ExitedAt() time.Time {
	if p.Running() {
		return time.Time{}
	}
	return p.exitedAt
}

// Err is how the process ended (nil for exit status 0); nil while it runs.
func (p *Process) Err() error {
	if p.Running() {
		return nil
	}
	return p.err
}

// Log returns what this process (not the ones before it in an appended log) has written so far.
func (p *Process) Log() ([]byte, error) {
	f, err := os.Open(p.LogPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(p.logOffset, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// Exit is one end of a supervised process.
type Exit struct {
	// Process is the process that ended.
	Process *Process
	// At is when it ended; Err how (nil for exit status 0).
	At  time.Time
	Err error
	// Killed is true when Supervisor.Kill ended it.
	Killed bool
}

// Supervisor keeps a process running the way a kubelet keeps a container running: whenever it
// exits, for whatever reason, it is started again after a delay.
type Supervisor struct {
	// delay says how long to wait before the n-th restart (n counts from 1).
	delay func(n int) time.Duration

	mu       sync.Mutex
	current  *Process
	exits    []Exit
	killing  *Process
	restarts int
	failures []error
	stopping bool
	stop     chan struct{}
	done     chan struct{}
}

// Supervise watches p and restarts it whenever it exits until Stop. delay(n) is the pause
// before the n-th restart.
func Supervise(p *Process, delay func(n int) time.Duration) *Supervisor {
	s := &Supervisor{delay: delay, current: p, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *Supervisor) run() {
	defer close(s.done)
	for n := 1; ; n++ {
		s.mu.Lock()
		p := s.current
		s.mu.Unlock()
		select {
		case <-p.Exited():
		case <-s.stop:
			return
		}
		s.mu.Lock()
		s.exits = append(s.exits, Exit{Process: p, At: p.exitedAt, Err: p.err, Killed: s.killing == p})
		s.mu.Unlock()
		for {
			select {
			case <-time.After(s.delay(n)):
			case <-s.stop:
				return
			}
			next, err := p.Restart()
			s.mu.Lock()
			if err != nil {
				s.failures = append(s.failures, err)
				s.mu.Unlock()
				n++
				continue
			}
			s.current = next
			s.restarts++
			s.mu.Unlock()
			break
		}
	}
}

// Current is the process running now, or the last one if it is being restarted.
func (s *Supervisor) Current() *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Kill SIGKILLs the current process (the supervisor then restarts it after its delay) and
// returns when it is gone, with the moment of the kill.
func (s *Supervisor) Kill() (time.Time, error) {
	s.mu.Lock()
	p := s.current
	s.killing = p
	s.mu.Unlock()
	return p.Kill()
}

// WaitRunning waits until a process started by the supervisor is running, and returns it.
func (s *Supervisor) WaitRunning(ctx context.Context) (*Process, error) {
	var p *Process
	err := wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(context.Context) (bool, error) {
		p = s.Current()
		return p.Running(), nil
	})
	return p, err
}

// Exits lists every end of a supervised process so far.
func (s *Supervisor) Exits() []Exit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Exit(nil), s.exits...)
}

// Restarts counts the restarts so far.
func (s *Supervisor) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// Stop ends supervision and stops the current process (SIGTERM, then SIGKILL after timeout).
func (s *Supervisor) Stop(timeout time.Duration) error {
	s.mu.Lock()
	if !s.stopping {
		s.stopping = true
		close(s.stop)
	}
	s.mu.Unlock()
	<-s.done
	s.mu.Lock()
	p, failures := s.current, s.failures
	s.mu.Unlock()
	return errors.Join(append([]error{p.Stop(timeout)}, failures...)...)
}

// Control-plane components kwokctl runs as processes of the cluster, by the name of their pid file.
const (
	KubeAPIServer         = "kube-apiserver"
	Etcd                  = "etcd"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	KwokController        = "kwok-controller"
)

// kwokWorkdir is where hack/cluster.sh keeps kwokctl's state.
func kwokWorkdir() string {
	if dir := os.Getenv("KWOK_WORKDIR"); dir != "" {
		return dir
	}
	return filepath.Join(Root(), "bin", "clusters")
}

// Workdir is the cluster's kwokctl directory: its configuration, pids, logs and etcd data.
func (c *Cluster) Workdir() string { return filepath.Join(c.kwokWorkdir(), "clusters", c.Name) }

// kwokWorkdir is the KWOK_WORKDIR of the cluster's kwokctl.
func (c *Cluster) kwokWorkdir() string {
	if c.KwokWorkdir != "" {
		return c.KwokWorkdir
	}
	return kwokWorkdir()
}

func (c *Cluster) pidFile(component string) string {
	return filepath.Join(c.Workdir(), "pids", component+".pid")
}

// ComponentPid is the pid of a running control-plane component (KubeAPIServer, Etcd, ...).
func (c *Cluster) ComponentPid(component string) (int, error) {
	b, err := os.ReadFile(c.pidFile(component))
	if err != nil {
		return 0, fmt.Errorf("reading the pid of %s: %w", component, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, errors.Join(fmt.Errorf("%s does not hold a pid", c.pidFile(component)), err)
	}
	if !alive(pid) {
		return 0, fmt.Errorf("%s (pid %d) is not running", component, pid)
	}
	return pid, nil
}

// KillComponent SIGKILLs a control-plane component and waits until it is gone, returning the
// moment of the kill. Its pid file is removed, so that StartComponents starts it again (kwokctl
// takes a pid that still exists, such as an unreaped zombie, for a running component).
func (c *Cluster) KillComponent(ctx context.Context, component string) (time.Time, error) {
	c.components.Lock()
	defer c.components.Unlock()
	pid, err := c.ComponentPid(component)
	if err != nil {
		return time.Time{}, err
	}
	at := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return at, fmt.Errorf("killing %s (pid %d): %w", component, pid, err)
	}
	gone := func(context.Context) (bool, error) { return !alive(pid), nil }
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 30*time.Second, true, gone); err != nil {
		return at, fmt.Errorf("waiting for %s (pid %d) to die: %w", component, pid, err)
	}
	if err := os.Remove(c.pidFile(component)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return at, err
	}
	return at, nil
}

// StartComponents starts every control-plane component that is not running (`kwokctl start
// cluster`), and waits until the API server is ready. kwokctl's own output goes to progress.
func (c *Cluster) StartComponents(ctx context.Context, progress io.Writer) error {
	c.components.Lock()
	defer c.components.Unlock()
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "kwokctl"), "--name", c.Name, "start", "cluster")
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+c.kwokWorkdir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, progress), io.MultiWriter(&out, progress)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("starting cluster %q with kwokctl: %w: %s", c.Name, err, out.String())
	}
	return c.WaitReady(ctx, 2*time.Minute)
}

// WaitReady polls the API server's /readyz until it answers ok.
func (c *Cluster) WaitReady(ctx context.Context, timeout time.Duration) error {
	cfg := *c.Config
	cfg.Timeout = 2 * time.Second
	cs, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the API server of %q to be ready: %w", c.Name, err)
	}
	return nil
}

// Watchdog restarts control-plane components that exit, as a kubelet restarts the static Pods of
// a control plane. kube-controller-manager and kube-scheduler exit when they cannot renew their
// leader-election Lease in time — which an API server slowed down by a test's load, or stopped by
// one, makes happen — and kwokctl does not start them again by itself.
type Watchdog struct {
	c        *Cluster
	commands map[string]componentCommand

	mu       sync.Mutex
	restarts map[string]int
	errs     []error
	stop     chan struct{}
	done     chan struct{}
}

// componentCommand is how a running component was started, read from /proc.
type componentCommand struct {
	args []string
	dir  string
	env  []string
}

// Watch starts a Watchdog over the named components, which must be running. It checks them every
// interval. The API server and etcd are better left to the tests that stop them on purpose.
func (c *Cluster) Watch(interval time.Duration, components ...string) (*Watchdog, error) {
	w := &Watchdog{c: c, commands: map[string]componentCommand{}, restarts: map[string]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, name := range components {
		pid, err := c.ComponentPid(name)
		if err != nil {
			return nil, err
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			return nil, fmt.Errorf("reading the command line of %s: %w", name, err)
		}
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			return nil, fmt.Errorf("reading the environment of %s: %w", name, err)
		}
		dir, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err != nil {
			return nil, fmt.Errorf("reading the directory of %s: %w", name, err)
		}
		w.commands[name] = componentCommand{args: nulSeparated(cmdline), dir: dir, env: nulSeparated(environ)}
	}
	go w.run(interval)
	return w, nil
}

func nulSeparated(b []byte) []string {
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

func (w *Watchdog) run(interval time.Duration) {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-time.After(interval):
		}
		for name, cmd := range w.commands {
			if err := w.ensure(name, cmd); err != nil {
				w.mu.Lock()
				w.errs = append(w.errs, err)
				w.mu.Unlock()
			}
		}
	}
}

// ensure starts the component again, detached and logging where kwokctl has it log, if it is not
// running; its pid file is updated so that kwokctl (and deleting the cluster) find it.
func (w *Watchdog) ensure(name string, c componentCommand) error {
	w.c.components.Lock()
	defer w.c.components.Unlock()
	if _, err := w.c.ComponentPid(name); err == nil {
		return nil
	}
	logFile, err := os.OpenFile(filepath.Join(w.c.Workdir(), "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	cmd := exec.Command(c.args[0], c.args[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.dir, c.env, logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("restarting %s: %w", name, err)
	}
	go func() { _ = cmd.Wait() }()
	if err := os.WriteFile(w.c.pidFile(name), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	w.mu.Lock()
	w.restarts[name]++
	w.mu.Unlock()
	return nil
}

// Restarts counts the restarts of each component so far.
func (w *Watchdog) Restarts() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.restarts))
	for k, v := range w.restarts {
		out[k] = v
	}
	return out
}

// Stop ends the watch (the components keep running) and reports the restarts that failed.
func (w *Watchdog) Stop() error {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.errs...)
}

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

// Package framework runs Tenantry the way an installation does, on a local cluster: a kwok
// cluster from hack/cluster.sh, the Helm chart, and the operator and the bridge as local processes
// that authenticate as the chart's ServiceAccounts, so what they may do is exactly what the chart
// grants. The end-to-end tests (test/e2e) and `make demo` (hack/demo) are both built on it.
package framework

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Root is the repository's top directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Tool runs `hack/tools.sh <name>` and returns the path it prints on its last line, building the
// tool the first time. Progress lines go to progress.
func Tool(ctx context.Context, name string, progress io.Writer) (string, error) {
	out, err := script(ctx, progress, filepath.Join("hack", "tools.sh"), name)
	if err != nil {
		return "", fmt.Errorf("providing %s with hack/tools.sh: %w", name, err)
	}
	return out, nil
}

// script runs a repository script and returns the last line of its standard output; its
// standard error goes to progress.
func script(ctx context.Context, progress io.Writer, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(Root(), name), args...)
	cmd.Dir = Root()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, progress
	if err := cmd.Run(); err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// Cluster is a running local cluster.
type Cluster struct {
	Name string
	// Kubeconfig is the cluster administrator's kubeconfig file.
	Kubeconfig string
	// BinDir holds kubectl and the control-plane binaries the cluster runs.
	BinDir string
	// Config is the administrator's client configuration.
	Config *rest.Config
	// KwokWorkdir is where kwokctl keeps the cluster's state (its KWOK_WORKDIR); hack/cluster.sh's
	// ($KWOK_WORKDIR, else bin/clusters) when empty.
	KwokWorkdir string

	// components serialises starting control-plane components (see faults.go).
	components sync.Mutex
}

// UpCluster starts the cluster name with nodes kwok nodes (hack/cluster.sh up), or reuses it.
func UpCluster(ctx context.Context, name string, nodes int, progress io.Writer) (*Cluster, error) {
	kubeconfig, err := script(ctx, progress, filepath.Join("hack", "cluster.sh"), "up", "--name", name, "--nodes", fmt.Sprint(nodes))
	if err != nil {
		return nil, fmt.Errorf("starting cluster %q with hack/cluster.sh: %w", name, err)
	}
	binDir, err := Tool(ctx, "cluster", progress)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %q: %w", kubeconfig, err)
	}
	// The demo and the tests create tenants in bursts; the defaults (5 QPS) would be the bottleneck.
	cfg.QPS, cfg.Burst = 100, 200
	return &Cluster{Name: name, Kubeconfig: kubeconfig, BinDir: binDir, Config: cfg}, nil
}

// DownCluster deletes the cluster name (hack/cluster.sh down); a missing cluster is no error.
func DownCluster(ctx context.Context, name string, progress io.Writer) error {
	if _, err := script(ctx, progress, filepath.Join("hack", "cluster.sh"), "down", "--name", name); err != nil {
		return fmt.Errorf("deleting cluster %q with hack/cluster.sh: %w", name, err)
	}
	return nil
}

// ListClusters names the local clusters hack/cluster.sh manages.
func ListClusters(ctx context.Context) ([]string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(Root(), "hack", "cluster.sh"), "list")
	cmd.Dir = Root()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("listing clusters with hack/cluster.sh: %w", err)
	}
	return strings.Fields(out.String()), nil
}

// Kubectl is kubectl against the cluster as its administrator.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	return cmd
}

// Kwokctl runs the kwokctl of binDir with KWOK_WORKDIR workdir (hack/cluster.sh's when empty);
// its output, a chatty JSON log, is appended to logPath, whose end the error of a failed command
// quotes.
func Kwokctl(ctx context.Context, binDir, workdir, logPath string, args ...string) error {
	if workdir == "" {
		workdir = kwokWorkdir()
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "kwokctl"), args...)
	cmd.Env = Env("", "KWOK_WORKDIR="+workdir)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kwokctl %s: %w; %s ends with:\n%s", strings.Join(args, " "), err, logPath, LogTail(logPath, 15))
	}
	return nil
}

// UpClusterAndBuild does at once what a suite needs before anything else (the three are
// independent; even on 2 cores this saves time): it starts the cluster name with nodes kwok nodes
// (UpCluster), builds the operator and the bridge into binDir and fetches helm, whose path it
// returns.
func UpClusterAndBuild(ctx context.Context, name string, nodes int, binDir string, progress io.Writer) (*Cluster, string, error) {
	var (
		cluster *Cluster
		helm    string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		cluster, err = UpCluster(gctx, name, nodes, progress)
		return err
	})
	g.Go(func() error { return Build(gctx, binDir, progress, "manager", "webhookbridge") })
	g.Go(func() (err error) {
		helm, err = Tool(gctx, "helm", progress)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, "", err
	}
	return cluster, helm, nil
}

// Build compiles the named commands (directories under cmd/) into outDir.
func Build(ctx context.Context, outDir string, progress io.Writer, commands ...string) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	args := []string{"build", "-o", outDir + string(filepath.Separator)}
	for _, c := range commands {
		args = append(args, "./cmd/"+c)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = Root()
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %w", strings.Join(commands, ", "), err)
	}
	return nil
}

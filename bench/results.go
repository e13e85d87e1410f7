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
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Results is everything one run measured; results.json is this, and report.md renders it.
type Results struct {
	Config       Config               `json:"config"`
	Started      time.Time            `json:"started"`
	DurationSec  float64              `json:"durationSec"`
	Machine      Machine              `json:"machine"`
	Provisioning []ProvisioningResult `json:"provisioning,omitempty"`
	Helm         []*HelmResult        `json:"helm,omitempty"`
	HelmOperator *OperatorResult      `json:"helmOperator,omitempty"`
	Callbacks    *CallbacksResult     `json:"callbacks,omitempty"`
	Lifecycle    *LifecycleResult     `json:"lifecycle,omitempty"`
	Scale        *ScaleResult         `json:"scale,omitempty"`
	Unauth       *UnauthResult        `json:"unauthenticatedLoad,omitempty"`
	Metering     *MeteringResult      `json:"metering,omitempty"`
	Rollout      *RolloutResult       `json:"rollout,omitempty"`
	Goals        []Goal               `json:"goals"`
	Errors       []string             `json:"errors,omitempty"`
}

// ProvisioningResult is scenario 1 for one N.
type ProvisioningResult struct {
	N        int             `json:"n"`
	Ceiling  *CeilingResult  `json:"ceiling,omitempty"`
	Operator *OperatorResult `json:"operator,omitempty"`
	// Ratio is operator tenants/s (to Ready) over ceiling tenants/s (objects accepted).
	Ratio float64 `json:"ratio"`
	// RatioAvailable compares with the ceiling's objects all available (pods running) instead.
	RatioAvailable float64 `json:"ratioToAvailable"`
	// Minimal is the minimal-path ceiling on the same N; MinimalRatio is operator tenants/s over
	// its tenants/s, MinimalCPURatio the operator's control-plane CPU per tenant over its (with
	// several rounds, the medians of the rounds' ratios).
	Minimal         *MinimalResult `json:"minimal,omitempty"`
	MinimalRatio    float64        `json:"minimalRatio,omitempty"`
	MinimalCPURatio float64        `json:"minimalCpuRatio,omitempty"`
	// MinimalCPUPerWriteRatio is the same per write (ProvisioningRound.MinimalCPUPerWriteRatio).
	MinimalCPUPerWriteRatio float64 `json:"minimalCpuPerWriteRatio,omitempty"`
	// MinimalApply is the minimal path writing the children by server-side apply as the operator
	// does; MinimalApplyRatio and MinimalApplyCPURatio compare the operator with it.
	MinimalApply         *MinimalResult `json:"minimalByApply,omitempty"`
	MinimalApplyRatio    float64        `json:"minimalByApplyRatio,omitempty"`
	MinimalApplyCPURatio float64        `json:"minimalByApplyCpuRatio,omitempty"`
	// Writes compares the writes per tenant of the minimal path and the operator's path.
	Writes []WriteDiff `json:"writesVsMinimal,omitempty"`
	// Rounds are the rounds of the minimal paths and the operator (-rounds): Minimal,
	// MinimalApply and Operator are the first's, and the ratios above the medians of theirs.
	Rounds []ProvisioningRound `json:"rounds,omitempty"`
}

// Goal is one figure the issue asks for, and whether this run reached it.
type Goal struct {
	Scenario string `json:"scenario"`
	What     string `json:"what"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
	// Measurable is false when the run did not produce the figure (scenario skipped or failed).
	Measurable bool   `json:"measurable"`
	Note       string `json:"note,omitempty"`
}

// Machine describes where the run happened: every component shares it.
type Machine struct {
	CPUs           int    `json:"cpus"`
	CPUModel       string `json:"cpuModel"`
	MemoryGiB      int    `json:"memoryGiB"`
	Kernel         string `json:"kernel"`
	GoVersion      string `json:"goVersion"`
	Kubernetes     string `json:"kubernetes"`
	Commit         string `json:"commit"`
	Dirty          bool   `json:"dirty"`
	LoadAvgStart   string `json:"loadAverageAtStart"`
	PprofAvailable bool   `json:"pprofAvailable"`
}

func machineInfo(ctx context.Context, root, k8sBin string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				var kb int
				for _, c := range f[1] {
					kb = kb*10 + int(c-'0')
				}
				m.MemoryGiB = (kb + (1 << 19)) >> 20
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvgStart = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.CommandContext(ctx, filepath.Join(k8sBin, "kube-apiserver"), "--version").Output(); err == nil {
		m.Kubernetes = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--", ".", ":!bench").Output(); err == nil {
		m.Dirty = len(strings.TrimSpace(string(out))) > 0
	}
	return m
}

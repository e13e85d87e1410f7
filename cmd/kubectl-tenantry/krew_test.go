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
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// krewPlugin is the part of a krew Plugin manifest the test reads.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		ShortDescription string `json:"shortDescription"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			SHA256 string `json:"sha256"`
			Bin    string `json:"bin"`
		} `json:"platforms"`
	} `json:"spec"`
}

// TestKrewManifest builds the release archive for this machine with hack/krew.sh and checks that
// the manifest names it with its sha256 and that the binary inside is the plugin.
func TestKrewManifest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	dist := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("bash", "hack/krew.sh", "v0.1.0")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "DIST="+dist, "KREW_PLATFORMS="+platform)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/krew.sh: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dist, "tenantry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m krewPlugin
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "tenantry" || m.Spec.Version != "v0.1.0" {
		t.Fatalf("manifest header: %+v", m)
	}
	if len(m.Spec.Platforms) != 1 {
		t.Fatalf("want one platform, got %+v", m.Spec.Platforms)
	}
	pl := m.Spec.Platforms[0]
	if pl.Selector.MatchLabels["os"] != runtime.GOOS || pl.Selector.MatchLabels["arch"] != runtime.GOARCH || pl.Bin != "kubectl-tenantry" {
		t.Errorf("platform entry: %+v", pl)
	}
	archive := filepath.Join(dist, filepath.Base(pl.URI))
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatalf("the manifest's archive %s: %v", pl.URI, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != pl.SHA256 {
		t.Errorf("sha256 of %s is %x, manifest says %s", archive, sum, pl.SHA256)
	}

	// The archive holds the binary krew links as kubectl-tenantry, and it is the plugin.
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != pl.Bin {
		t.Fatalf("first archive entry %v, %v; want %s", hdr, err, pl.Bin)
	}
	bin := filepath.Join(t.TempDir(), pl.Bin)
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, tr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	help, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(help), "kubectl tenantry") || !strings.Contains(string(help), "doctor") {
		t.Errorf("%s --help: %v\n%s", bin, err, help)
	}
}

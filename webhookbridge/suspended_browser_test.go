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

package webhookbridge_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/webhookbridge"
)

// TestSuspendedPageInHeadlessChromium renders the page a frozen tenant's visitors see in a real
// browser, checks its text and saves a screenshot whose path the test prints.
func TestSuspendedPageInHeadlessChromium(t *testing.T) {
	browser := os.Getenv("TENANTRY_BROWSER")
	if browser == "" {
		browser, _ = exec.LookPath("chromium")
	}
	if browser == "" {
		if os.Getenv("TENANTRY_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is required (TENANTRY_REQUIRE_BROWSER is set) but was not found")
		}
		t.Skip("chromium not installed; make test installs it")
	}
	srv := httptest.NewServer(webhookbridge.SuspendedPage())
	defer srv.Close()

	artifacts := os.Getenv("TENANTRY_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifacts, "suspended-page.png")
	_ = os.Remove(shot)
	profile := t.TempDir()
	common := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--window-size=1024,700",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	dom, err := exec.CommandContext(ctx, browser, append(common, "--dump-dom", srv.URL+"/any/path")...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{"subscription is suspended", "订阅已暂停"} {
		if !strings.Contains(strings.ToLower(string(dom)), strings.ToLower(want)) {
			t.Errorf("rendered page lacks %q:\n%s", want, dom)
		}
	}

	out, err := exec.CommandContext(ctx, browser, append(common, "--screenshot="+shot, srv.URL+"/")...).CombinedOutput()
	if err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 2000 {
		t.Fatalf("screenshot %s is not a rendered PNG (%d bytes)", shot, len(png))
	}
	t.Logf("screenshot of the suspended page: %s (%d bytes)", shot, len(png))
}

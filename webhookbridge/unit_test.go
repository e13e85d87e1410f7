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
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func TestInstanceName(t *testing.T) {
	g := NewWithT(t)
	label := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	seen := map[string]bool{}
	for _, tc := range []struct{ order, line string }{
		{"CS2211181819B4LVS", "CS2211181819B4LVS-000001"},
		{"CS2211181819B4LVS", "CS2211181819B4LVS-000002"},
		{"CS2211181819B4LVS-000001", ""},
		{"CS2211181819B4LVS", "-000001"},
		{"订单", "行"},
		{strings.Repeat("x", 256), strings.Repeat("y", 256)},
	} {
		name := webhookbridge.InstanceName(tc.order, tc.line)
		g.Expect(name).To(Equal(webhookbridge.InstanceName(tc.order, tc.line)), "deterministic")
		g.Expect(len(name)).To(BeNumerically("<=", 56))
		g.Expect(name).To(MatchRegexp(label.String()))
		g.Expect(seen).NotTo(HaveKey(name), "distinct order lines get distinct names")
		seen[name] = true
	}
	// Golden value, computed independently: "ti-" + sha256(order + "\n" + line)[:20 hex]. Changing
	// it would orphan every existing instance from its order, so it must never change.
	g.Expect(webhookbridge.InstanceName("CS2211181819B4LVS", "CS2211181819B4LVS-000001")).To(Equal("ti-24ff0a548f782d73c50f"))
}

func TestPayPerUseInstanceName(t *testing.T) {
	g := NewWithT(t)
	name := webhookbridge.PayPerUseInstanceName("CS2211181819B4LVS", "00301-111111-0--0")
	g.Expect(name).To(Equal(webhookbridge.PayPerUseInstanceName("CS2211181819B4LVS", "00301-111111-0--0")), "deterministic")
	g.Expect(name).NotTo(Equal(webhookbridge.PayPerUseInstanceName("CS2211181819B4LVS", "00301-222222-0--0")), "one instance per product")
	g.Expect(name).NotTo(Equal(webhookbridge.InstanceName("CS2211181819B4LVS", "00301-111111-0--0")), "never an order line's name")
	g.Expect(len(name)).To(BeNumerically("<=", 56))
	// Golden value, computed independently: "ti-" + sha256(order + "\n" + "\x00product:" + product)[:20 hex].
	g.Expect(name).To(Equal("ti-3b26edb74cc6fe6e60d9"))
}

func TestParseKeys(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"one key", "current\n", []string{"current"}, false},
		{"rotation", "  current  \r\n\n\tprevious\n\n", []string{"current", "previous"}, false},
		{"empty", " \n\n", nil, true},
		{"three keys", "a\nb\nc", nil, true},
		{"same key twice", "a\na", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := webhookbridge.ParseKeys(tc.in)
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
				g.Expect(err.Error()).NotTo(ContainSubstring("a\n"))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	g := NewWithT(t)
	c := fake.NewClientBuilder().WithScheme(testenv.Scheme()).Build()
	valid := func() webhookbridge.Options {
		return webhookbridge.Options{
			Client: c, Verifier: &protocol.Verifier{Keys: []string{"k"}}, AccessKey: "k",
			Orders: &orderquery.Client{AK: "a", SK: "s"},
		}
	}
	_, err := webhookbridge.New(valid())
	g.Expect(err).NotTo(HaveOccurred())
	for name, mutate := range map[string]func(*webhookbridge.Options){
		"no client":     func(o *webhookbridge.Options) { o.Client = nil },
		"no verifier":   func(o *webhookbridge.Options) { o.Verifier = nil },
		"no keys":       func(o *webhookbridge.Options) { o.Verifier = &protocol.Verifier{} },
		"no access key": func(o *webhookbridge.Options) { o.AccessKey = "" },
		"no orders":     func(o *webhookbridge.Options) { o.Orders = nil },
		"relative path": func(o *webhookbridge.Options) { o.Path = "saasproduce" },
		"negative":      func(o *webhookbridge.Options) { o.CallBudget = -1 },
	} {
		o := valid()
		mutate(&o)
		_, err := webhookbridge.New(o)
		g.Expect(err).To(HaveOccurred(), name)
	}
}

func TestSuspendedPage(t *testing.T) {
	g := NewWithT(t)
	h := webhookbridge.SuspendedPage()
	for _, path := range []string{"/", "/some/deep/path?x=1", "/favicon.ico"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "shop-42.apps.example.com"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		body, _ := io.ReadAll(resp.Body)
		g.Expect(resp.StatusCode).To(Equal(http.StatusServiceUnavailable))
		g.Expect(resp.Header.Get("Retry-After")).NotTo(BeEmpty())
		g.Expect(resp.Header.Get("Content-Type")).To(Equal("text/html; charset=utf-8"))
		g.Expect(string(body)).To(ContainSubstring("This subscription is suspended"))
		g.Expect(string(body)).To(ContainSubstring("订阅已暂停"))
		g.Expect(string(body)).To(ContainSubstring("KooGallery"))
		g.Expect(string(body)).To(ContainSubstring("shop-42.apps.example.com"))
		g.Expect(string(body)).NotTo(MatchRegexp(`(src|href)=`), "no external assets")
	}

	// The Host is escaped.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = `<script>alert(1)</script>`
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	g.Expect(rec.Body.String()).NotTo(ContainSubstring("<script>"))
	g.Expect(rec.Body.String()).To(ContainSubstring("&lt;script&gt;"))

	// HEAD: headers only.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	g.Expect(rec.Code).To(Equal(http.StatusServiceUnavailable))
	g.Expect(rec.Body.Len()).To(BeZero())
}

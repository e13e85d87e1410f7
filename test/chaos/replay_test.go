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
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

// captured is one request exactly as it went over the wire: its query string (signature,
// timestamp, nonce) and its body.
type captured struct {
	query url.Values
	body  []byte
}

// wiretap is an http.RoundTripper that keeps a copy of the last request it carried: what an
// attacker who reads an access log and a TLS-terminating proxy's traffic has.
type wiretap struct {
	next http.RoundTripper
	mu   sync.Mutex
	last captured
}

func (w *wiretap) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	w.mu.Lock()
	w.last = captured{query: req.URL.Query(), body: body}
	w.mu.Unlock()
	return w.next.RoundTrip(req)
}

func (w *wiretap) lastRequest() captured {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// replay sends a captured request, byte for byte the same (same nonce, timestamp and signature),
// to the bridge at url.
func replay(ctx context.Context, url string, c captured) (*simulator.Answer, error) {
	cl, err := simulator.NewClient(simulator.Options{BaseURL: url, AccessKey: keys.AccessKey})
	if err != nil {
		return nil, err
	}
	return cl.Raw(ctx, c.body, c.query)
}

// replayAcrossBridgeReplicas runs two bridge replicas, A and B, sharing the cluster as the
// chart's replicas do, and replays to B, within the timestamp window, requests captured on
// their way to A: a queryInstance whose answer carried the tenant's admin password, a purchase,
// and a FREEZE replayed after the UNFREEZE that followed it. B must disclose no secret and
// change nothing: the query is refused, there is still one TenantInstance, and the tenant stays
// Active with its spec untouched (docs/threat-model.md, the marketplace boundary).
func replayAcrossBridgeReplicas(t *scenarioT) {
	ctx := context.Background()
	operator(t, "replay", "a", "").start(t)
	a, b := bridge(t, "replay", "a"), bridge(t, "replay", "b")
	a.start(t)
	b.start(t)

	m := newMarket(a.url, newRNG(cfg.seed^0x7265706c6179))
	tap := &wiretap{next: m.http.Transport}
	m.http.Transport = tap
	giveUp := time.Now().Add(cfg.callGiveUp)

	tn, ok, err := m.buy(ctx, skuSmall, giveUp)
	if err != nil || !ok {
		t.Fatalf("buying a tenant through bridge A: acknowledged %v, %v", ok, err)
	}
	purchase := tap.lastRequest()

	// A query to A, repeated (each time freshly signed) until the operator has made the tenant's
	// admin account and A discloses it.
	query, err := simulator.NewClient(simulator.Options{BaseURL: a.url, AccessKey: keys.AccessKey, HTTP: m.http})
	if err != nil {
		t.Fatal(err)
	}
	var original captured
	var password string
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Until(giveUp), true, func(ctx context.Context) (bool, error) {
		answer, err := query.Query(ctx, tn.id)
		if err == nil && answer.ResultCode == simulator.ResultSuccess && len(answer.Info) == 1 && answer.Info[0].AppInfo != nil {
			password = answer.Info[0].AppInfo.Password
		}
		original = tap.lastRequest()
		return password != "", nil
	})
	if err != nil {
		t.Fatalf("bridge A never answered queryInstance %s with an admin password: %v", tn.id, err)
	}

	// The captured query, replayed to B and to A within the window: refused, nothing disclosed.
	var queryCodes []string
	disclosed := 0
	for _, target := range []struct{ name, url string }{{"B", b.url}, {"A", a.url}} {
		answer, err := replay(ctx, target.url, original)
		if err != nil {
			t.Fatalf("replaying queryInstance to bridge %s: %v", target.name, err)
		}
		if answer.ResultCode == simulator.ResultSuccess || bytes.Contains(answer.Raw, []byte(password)) {
			disclosed++
			t.Errorf("bridge %s answered a replayed queryInstance with %s, disclosing the admin password: %s",
				target.name, answer.ResultCode, answer.Raw)
		}
		queryCodes = append(queryCodes, target.name+" "+answer.ResultCode)
	}

	// The purchase replayed to B: at most the answer the marketplace had; one TenantInstance.
	buyAgain, err := replay(ctx, b.url, purchase)
	if err != nil {
		t.Fatalf("replaying newInstance to bridge B: %v", err)
	}
	if bytes.Contains(buyAgain.Raw, []byte(password)) {
		t.Errorf("bridge B disclosed the admin password answering a replayed newInstance: %s", buyAgain.Raw)
	}

	// FREEZE then UNFREEZE through A, acknowledged; then the FREEZE replayed to B.
	freeze := freezeCall()
	if !m.send(ctx, tn, freeze, giveUp) {
		t.Fatalf("FREEZE of %s was not acknowledged", tn.id)
	}
	frozen := tap.lastRequest()
	if !m.send(ctx, tn, unfreezeCall(), giveUp) {
		t.Fatalf("UNFREEZE of %s was not acknowledged", tn.id)
	}
	before := &tenantryv1alpha1.TenantInstance{}
	if err := admin.Get(ctx, client.ObjectKey{Name: tn.id}, before); err != nil {
		t.Fatal(err)
	}
	if before.Spec.Lifecycle == tenantryv1alpha1.LifecycleFrozen {
		t.Fatalf("%s is still frozen after an acknowledged UNFREEZE", tn.id)
	}
	freezeAgain, err := replay(ctx, b.url, frozen)
	if err != nil {
		t.Fatalf("replaying FREEZE to bridge B: %v", err)
	}
	after := &tenantryv1alpha1.TenantInstance{}
	if err := admin.Get(ctx, client.ObjectKey{Name: tn.id}, after); err != nil {
		t.Fatal(err)
	}
	if after.Generation != before.Generation || !equality.Semantic.DeepEqual(after.Spec, before.Spec) {
		t.Errorf("a FREEZE replayed to bridge B (answered %s) changed %s: generation %d → %d, lifecycle %q → %q",
			freezeAgain.ResultCode, tn.id, before.Generation, after.Generation, before.Spec.Lifecycle, after.Spec.Lifecycle)
	}

	// The tenant is what the acknowledged calls made it: one instance, Active, Ready, serving.
	took, converged := converge(ctx, t, []*tenant{tn}, cfg.convergeTimeout)
	report(t, "replays", "queryInstance to B and A: %s, password disclosed %d times; newInstance to B: %s; FREEZE to B after UNFREEZE: %s, generation %d → %d",
		strings.Join(queryCodes, ", "), disclosed, buyAgain.ResultCode, freezeAgain.ResultCode, before.Generation, after.Generation)
	if converged {
		report(t, "convergence", "%s", seconds(took))
	}
	report(t, "calls", "%s", m.statsLine())
	if u := unexpectedAnswers([]*tenant{tn}); len(u) > 0 {
		t.Errorf("answers the marketplace would not resend: %v", u)
	}
}

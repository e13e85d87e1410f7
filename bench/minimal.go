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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/ssa"
)

// MinimalResult is the minimal-path ceiling: the least any declarative system must write per
// tenant. The TenantInstance is created (as the bridge creates it, with its identity), then its
// children (the operator's objects, owned by it, created once each), and once the tenant's
// Deployment is available one status write marks it Ready. Nothing is read back from the API
// server but one watch of Deployments, and nothing is written twice.
//
// ByApply marks the same path writing each child as the operator does instead of creating it:
// by server-side apply under the operator's field owner, sent by the operator's own ssa package
// (the namespace by an apply conditional on its absence, the admin Secret by a create). It
// measures what server-side apply itself costs over creates, which any operator owning its
// fields by server-side apply, as this one does, pays.
type MinimalResult struct {
	ByApply          bool    `json:"byApply,omitempty"`
	Tenants          int     `json:"tenants"`
	ObjectsPerTenant int     `json:"objectsPerTenant"`
	Workers          int     `json:"workers"`
	CreatedSec       float64 `json:"allObjectsCreatedSec"`
	ElapsedSec       float64 `json:"elapsedSec"`
	TenantsPerSec    float64 `json:"tenantsPerSec"`
	AllReady         bool    `json:"allReady"`
	ReadyCount       int     `json:"readyCount"`
	// ReadyLatency runs from the TenantInstance's create to its Ready status seen by the watch.
	ReadyLatency Latency            `json:"readyLatency"`
	Errors       int                `json:"errors"`
	Note         string             `json:"note,omitempty"`
	Ready        []Point            `json:"readySeries"`
	CPU          map[string]float64 `json:"cpuCores"`
	// ControlPlaneCPUPerTenant is kube-apiserver + etcd CPU-seconds per tenant until all Ready.
	ControlPlaneCPUPerTenant float64        `json:"controlPlaneCpuSecPerTenant"`
	APIServer                APIServerStats `json:"apiserver"`
	// Writes are the writes of both identities (the bridge's creates, the ceiling's children and
	// statuses), as the audit log recorded them.
	Writes          WriteCounts `json:"auditWrites"`
	WritesPerTenant float64     `json:"auditWritesPerTenant"`
	// APIServerProfile is kube-apiserver's CPU profile over the phase's first seconds.
	APIServerProfile *Profile `json:"apiserverProfile,omitempty"`
}

// minimalStatus is the one status the minimal path writes: what the operator's status says of a
// Ready tenant (the same fields and conditions, so the same bytes to store).
func minimalStatus(ti *tenantryv1alpha1.TenantInstance, plan *tenantryv1alpha1.TenantPlan, replicas int32) tenantryv1alpha1.TenantInstanceStatus {
	d := controllers.Desired{Instance: ti, Plan: plan, SuspendedHost: suspendedHost, SuspendedPort: suspendedPort}
	st := tenantryv1alpha1.TenantInstanceStatus{
		ObservedGeneration: ti.Generation, State: tenantryv1alpha1.StateRunning, Plan: plan.Name,
		Namespace: tenantryv1alpha1.NamespaceName(ti.Name), URL: d.URL(), AdminURL: d.AdminURL(),
		Replicas: replicas, ReadyReplicas: replicas,
		AdminAccountSecretRef: &tenantryv1alpha1.SecretReference{Namespace: tenantryv1alpha1.NamespaceName(ti.Name), Name: tenantryv1alpha1.AdminSecretName},
	}
	set := func(t string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: ti.Generation})
	}
	if exp := ti.Spec.ExpiresAt; exp != nil {
		set(tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNotExpired, "Paid until "+exp.UTC().Format("2006-01-02T15:04:05Z"))
	}
	set(tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive, "Serving")
	set(tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable, fmt.Sprintf("Serving %s with %d ready replicas", st.URL, replicas))
	return st
}

// retryWrite runs write until it succeeds (or the object exists), with a short backoff, up to 20
// times; failures are counted in errs.
func retryWrite(ctx context.Context, errs *atomic.Int64, lastErr *atomic.Value, write func() error) error {
	for attempt := 0; ; attempt++ {
		err := write()
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		errs.Add(1)
		lastErr.Store(err.Error())
		if attempt >= 20 || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond) // retry backoff, not a measurement
	}
}

// runMinimal runs the minimal path for n tenants, h.cfg.Workers requests in flight for the
// creates; a tenant's status is written as soon as the watch sees its Deployment available.
func (h *harness) runMinimal(ctx context.Context, e *env, n, profileSecs int, byApply bool) (*MinimalResult, error) {
	bridgeCfg, err := e.saConfig(bridgeSA)
	if err != nil {
		return nil, err
	}
	bridge, err := client.New(bridgeCfg, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	cfg, err := e.saConfig(ceilingSA)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ceiling, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	plan := benchPlan(h.cfg.Replicas)
	names := tenantNames("min", n)
	res := &MinimalResult{Tenants: n, Workers: h.cfg.Workers, ByApply: byApply}
	what, profileFile := "minimal path", fmt.Sprintf("apiserver-minimal-%d.pb.gz", n)
	if byApply {
		what, profileFile = "minimal path by apply", fmt.Sprintf("apiserver-minimal-apply-%d.pb.gz", n)
	}
	var applied ssa.Cache

	var (
		mu        sync.Mutex
		instances = make(map[string]*tenantryv1alpha1.TenantInstance, n)
		createdAt = make(map[string]time.Time, n)
		queued    = make(map[string]bool, n)
		statusQ   = make(chan string, n)
		closed    bool
		errs      atomic.Int64
		lastErr   atomic.Value
	)
	ready := newCompletions(names)
	unwatch := e.watch.handle(func(ev watchEvent) {
		if ev.deleted {
			return
		}
		switch o := ev.obj.(type) {
		case *tenantryv1alpha1.TenantInstance:
			if tiReady(o) {
				ready.mark(o.Name, ev.at)
			}
		case *appsv1.Deployment:
			name := strings.TrimPrefix(o.Namespace, tenantryv1alpha1.NamespacePrefix)
			if !deploymentAvailable(o) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if _, ours := instances[name]; ours && !queued[name] && !closed {
				queued[name] = true
				statusQ <- name
			}
		}
	})
	defer unwatch()

	h.logf("%s: %d tenants (TenantInstance, its objects, one status each) with %d workers", what, n, h.cfg.Workers)
	api0, _ := e.apiserverMetrics(ctx)
	audit0 := e.auditOffset()
	cpu0 := e.markCPU()
	start := time.Now()
	apiProf := h.profileAPIServer(ctx, e, fmt.Sprintf("kube-apiserver while the %s provisions %d tenants", what, n), profileFile, profileSecs)

	// Status writers: one write per tenant, from the instance as created (a merge patch of the
	// status subresource, as the operator writes it).
	var swg sync.WaitGroup
	for range h.cfg.Workers {
		swg.Go(func() {
			for name := range statusQ {
				mu.Lock()
				ti := instances[name]
				mu.Unlock()
				patched := ti.DeepCopy()
				patched.Status = minimalStatus(ti, plan, int32(h.cfg.Replicas))
				_ = retryWrite(ctx, &errs, &lastErr, func() error {
					return ceiling.Status().Patch(ctx, patched, client.MergeFrom(ti))
				})
			}
		})
	}

	var next atomic.Int64
	var wg sync.WaitGroup
	for range h.cfg.Workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				ti := benchInstance(names[i])
				t0 := time.Now()
				if retryWrite(ctx, &errs, &lastErr, func() error { return bridge.Create(ctx, ti) }) != nil {
					continue
				}
				if ti.UID == "" { // it existed already: take the stored one, for its UID
					if err := bridge.Get(ctx, client.ObjectKeyFromObject(ti), ti); err != nil {
						errs.Add(1)
						lastErr.Store(err.Error())
						continue
					}
				}
				// One write per object: a create, or the operator's own write (byApply).
				var writes []func() error
				if byApply {
					for _, w := range tenantWrites(ti, plan) {
						writes = append(writes, func() error { return writeAsOperator(ctx, &applied, ceiling, w) })
					}
				} else {
					objs, err := ownedTenantObjects(ti, plan)
					if err != nil {
						errs.Add(1)
						lastErr.Store(err.Error())
						continue
					}
					for _, o := range objs {
						writes = append(writes, func() error { return createTyped(ctx, cs, o) })
					}
				}
				mu.Lock()
				instances[ti.Name], createdAt[ti.Name] = ti, t0
				mu.Unlock()
				for _, write := range writes {
					_ = retryWrite(ctx, &errs, &lastErr, write)
				}
			}
		})
	}
	wg.Wait()
	res.CreatedSec = time.Since(start).Seconds()
	h.logf("%s: every object written after %.1fs; waiting for the Deployments and writing statuses", what, res.CreatedSec)

	wctx, cancel := context.WithTimeout(ctx, h.readyTimeout(n))
	defer cancel()
	if err := ready.wait(wctx); err != nil {
		h.logf("%s: not every tenant became Ready: %v%s", what, err, deadNote(e))
	} else {
		res.AllReady = true
	}
	cpu1 := e.markCPU()
	api1, _ := e.apiserverMetrics(ctx)
	unwatch()
	mu.Lock()
	closed = true
	close(statusQ)
	mu.Unlock()
	swg.Wait()

	res.APIServer = apiserverDelta(api0, api1)
	res.APIServerProfile = <-apiProf
	res.ControlPlaneCPUPerTenant = controlPlaneSeconds(cpu0, cpu1) / float64(n)
	res.CPU = cpuSince(cpu0, cpu1)
	res.Errors = int(errs.Load())
	if v := lastErr.Load(); v != nil {
		res.Note = "last error: " + v.(string)
	}
	r := readinessOf(start, ready.times(), createdAt)
	res.ReadyCount, res.Ready, res.ReadyLatency = r.count, r.series, r.latency
	res.ElapsedSec, res.TenantsPerSec = r.elapsedSec, r.perSec
	if objs, err := ownedTenantObjects(benchInstance("min-x"), plan); err == nil {
		res.ObjectsPerTenant = len(objs)
	}
	if res.Writes, err = e.auditWrites(audit0, e.auditOffset(), saUser(bridgeSA), saUser(ceilingSA)); err != nil {
		h.logf("reading the audit log: %v", err)
	}
	res.WritesPerTenant = ratio(float64(res.Writes.Total), float64(n))
	h.logf("%s: %d of %d tenants Ready after %.1fs (%.1f tenants/s, %.1f writes per tenant, %d errors)",
		what, res.ReadyCount, n, res.ElapsedSec, res.TenantsPerSec, res.WritesPerTenant, res.Errors)
	return res, nil
}

// writeAsOperator writes one of a tenant's objects as the operator's first reconcile does, with
// the operator's own ssa package and field owner: the namespace by an apply conditional on its
// absence, the admin Secret by a create, every other object by server-side apply. Nothing is
// recorded for the applies to be skipped against, so each is sent.
func writeAsOperator(ctx context.Context, applied *ssa.Cache, c client.Client, w tenantWrite) error {
	if w.secret != nil {
		return c.Create(ctx, w.secret, client.FieldOwner(controllers.FieldOwner))
	}
	if _, ok := w.ac.(*corev1ac.NamespaceApplyConfiguration); ok {
		_, err := applied.Create(ctx, c, noRecords{}, w.ac)
		if apierrors.IsConflict(err) {
			return nil // a retry of an apply the API server had carried out: the namespace is ours
		}
		return err
	}
	_, err := applied.Apply(ctx, c, noRecords{}, w.ac)
	return err
}

// noRecords is a child cache that holds nothing, under the operator's field owner.
type noRecords struct{}

func (noRecords) Lookup(schema.GroupKind, client.ObjectKey) (childcache.Record, bool) {
	return childcache.Record{}, false
}

func (noRecords) FieldOwner() string { return controllers.FieldOwner }

// WriteDiff is one resource's writes per tenant on the minimal path and on the operator's path
// (the bridge's TenantInstance creates and the operator's writes).
type WriteDiff struct {
	Resource string `json:"resource"`
	// Minimal and Operator are writes per tenant by verb (and refusal), e.g. "create": 1.
	Minimal  map[string]float64 `json:"minimalPerTenant"`
	Operator map[string]float64 `json:"operatorPerTenant"`
	// Extra is the operator's writes per tenant beyond the minimal path's (negative: fewer).
	Extra float64 `json:"extraPerTenant"`
}

// writeDiffs compares two write counts per tenant, resource by resource, the largest extra first.
func writeDiffs(minimal WriteCounts, minN int, operator WriteCounts, opN int) []WriteDiff {
	byRes := map[string]*WriteDiff{}
	add := func(kinds map[string]int, n int, side func(*WriteDiff) map[string]float64, sign float64) {
		for key, c := range kinds {
			verb, resource, _ := strings.Cut(key, " ")
			resource, refused, _ := strings.Cut(resource, " ")
			if refused != "" {
				verb += " " + refused
			}
			d := byRes[resource]
			if d == nil {
				d = &WriteDiff{Resource: resource, Minimal: map[string]float64{}, Operator: map[string]float64{}}
				byRes[resource] = d
			}
			per := ratio(float64(c), float64(n))
			side(d)[verb] += per
			d.Extra += sign * per
		}
	}
	add(minimal.Kinds, minN, func(d *WriteDiff) map[string]float64 { return d.Minimal }, -1)
	add(operator.Kinds, opN, func(d *WriteDiff) map[string]float64 { return d.Operator }, 1)
	out := make([]WriteDiff, 0, len(byRes))
	for _, d := range byRes {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Extra != out[j].Extra {
			return out[i].Extra > out[j].Extra
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}

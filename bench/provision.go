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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

// tenantNames are the instance names of one phase: prefix-00001, prefix-00002, ...
func tenantNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i+1)
	}
	return out
}

// benchInstance is a TenantInstance shaped like the ones the bridge writes for a purchase.
func benchInstance(name string) *tenantryv1alpha1.TenantInstance {
	exp := metav1.NewTime(time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second))
	return &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: []string{tenantryv1alpha1.Finalizer}},
		Spec: tenantryv1alpha1.TenantInstanceSpec{
			SKU: planSKU, ProductID: "00301-000000-0--0", ExpiresAt: &exp,
			Order: tenantryv1alpha1.Order{
				OrderID: "CS" + strings.ToUpper(strings.ReplaceAll(name, "-", "")), OrderLineID: name + "-line",
				ChargingMode: tenantryv1alpha1.ChargingPeriod, PeriodType: "month", PeriodNumber: 1,
			},
			Customer: &tenantryv1alpha1.Customer{CustomerID: "bench-customer", CustomerName: "Bench Co"},
		},
	}
}

// tenantObjects are exactly the objects the operator creates for an instance, built by the
// operator's own builders (controllers.Desired) in the order it applies them. Owner references
// are left out: there is no TenantInstance to own them here, and the garbage collector would
// delete objects whose owner does not exist. Each carries the applied-hash annotation the
// operator adds, so the bytes stored are the same.
func tenantObjects(name string, plan *tenantryv1alpha1.TenantPlan) ([]client.Object, error) {
	return objectsOf(benchInstance(name), plan, false)
}

// ownedTenantObjects are the objects the operator creates for ti, owned by ti as the operator's
// are (ti must carry the UID the API server gave it).
func ownedTenantObjects(ti *tenantryv1alpha1.TenantInstance, plan *tenantryv1alpha1.TenantPlan) ([]client.Object, error) {
	return objectsOf(ti, plan, true)
}

func objectsOf(ti *tenantryv1alpha1.TenantInstance, plan *tenantryv1alpha1.TenantPlan, owned bool) ([]client.Object, error) {
	var objs []client.Object
	for _, w := range tenantWrites(ti, plan) {
		if w.secret != nil {
			objs = append(objs, w.secret)
			continue
		}
		data, err := json.Marshal(w.ac)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		obj, _, err := clientgoscheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("decoding %T: %w", w.ac, err)
		}
		o := obj.(client.Object)
		if !owned {
			o.SetOwnerReferences(nil)
		}
		a := o.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[tenantryv1alpha1.AnnotationAppliedHash] = hex.EncodeToString(sum[:12])
		o.SetAnnotations(a)
		objs = append(objs, o)
	}
	return objs, nil
}

// tenantWrite is one object the operator writes for a tenant: an apply configuration it applies
// (the namespace by an apply conditional on its absence), or the admin account Secret, which it
// creates.
type tenantWrite struct {
	ac     runtime.ApplyConfiguration
	secret *corev1.Secret
}

// tenantWrites are the operator's objects of ti, built by its own builders, in the order it
// writes them.
func tenantWrites(ti *tenantryv1alpha1.TenantInstance, plan *tenantryv1alpha1.TenantPlan) []tenantWrite {
	d := controllers.Desired{Instance: ti, Plan: plan, SuspendedHost: suspendedHost, SuspendedPort: suspendedPort}
	ws := []tenantWrite{
		{ac: d.Namespace()}, {ac: d.ResourceQuota()}, {ac: d.LimitRange()}, {ac: d.NetworkPolicy()},
		{secret: d.AdminSecret(randomKey())},
		{ac: d.TenantInfoConfigMap()}, {ac: d.Deployment()}, {ac: d.Service()},
	}
	if svc := d.SuspendedService(); svc != nil {
		ws = append(ws, tenantWrite{ac: svc})
	}
	if ing := d.Ingress(); ing != nil {
		ws = append(ws, tenantWrite{ac: ing})
	}
	return ws
}

// objectKinds names the objects of a tenant, for the report.
func objectKinds(objs []client.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%T %s", o, o.GetName()))
	}
	return out
}

// createTyped creates one object with the typed client-go clientset.
func createTyped(ctx context.Context, cs kubernetes.Interface, o client.Object) error {
	opts := metav1.CreateOptions{FieldManager: "tenantry-bench-ceiling"}
	var err error
	switch v := o.(type) {
	case *corev1.Namespace:
		_, err = cs.CoreV1().Namespaces().Create(ctx, v, opts)
	case *corev1.ResourceQuota:
		_, err = cs.CoreV1().ResourceQuotas(v.Namespace).Create(ctx, v, opts)
	case *corev1.LimitRange:
		_, err = cs.CoreV1().LimitRanges(v.Namespace).Create(ctx, v, opts)
	case *networkingv1.NetworkPolicy:
		_, err = cs.NetworkingV1().NetworkPolicies(v.Namespace).Create(ctx, v, opts)
	case *corev1.Secret:
		_, err = cs.CoreV1().Secrets(v.Namespace).Create(ctx, v, opts)
	case *corev1.ConfigMap:
		_, err = cs.CoreV1().ConfigMaps(v.Namespace).Create(ctx, v, opts)
	case *appsv1.Deployment:
		_, err = cs.AppsV1().Deployments(v.Namespace).Create(ctx, v, opts)
	case *corev1.Service:
		_, err = cs.CoreV1().Services(v.Namespace).Create(ctx, v, opts)
	case *networkingv1.Ingress:
		_, err = cs.NetworkingV1().Ingresses(v.Namespace).Create(ctx, v, opts)
	default:
		return fmt.Errorf("no typed client for %T", o)
	}
	return err
}

// CeilingResult is what the bare client-go program achieved.
type CeilingResult struct {
	Tenants          int                `json:"tenants"`
	ObjectsPerTenant int                `json:"objectsPerTenant"`
	Objects          []string           `json:"objects"`
	Workers          int                `json:"workers"`
	ElapsedSec       float64            `json:"elapsedSec"`
	TenantsPerSec    float64            `json:"tenantsPerSec"`
	ObjectsPerSec    float64            `json:"objectsPerSec"`
	RequestLatency   Latency            `json:"requestLatency"`
	Errors           int                `json:"errors"`
	AvailableSec     float64            `json:"allDeploymentsAvailableSec"`
	AvailablePerSec  float64            `json:"availableTenantsPerSec"`
	AvailableAll     bool               `json:"allAvailable"`
	Created          []Point            `json:"createdSeries"`
	Available        []Point            `json:"availableSeries"`
	CPU              map[string]float64 `json:"cpuCores"`
	// ControlPlaneCPUPerTenant is kube-apiserver + etcd CPU-seconds per tenant while creating.
	ControlPlaneCPUPerTenant float64        `json:"controlPlaneCpuSecPerTenant"`
	APIServer                APIServerStats `json:"apiserver"`
	APIServerProfile         *Profile       `json:"apiserverProfile,omitempty"`
	AuditWrites              WriteCounts    `json:"auditWrites"`
	Note                     string         `json:"note,omitempty"`
}

// runCeiling creates every tenant's objects as fast as the API server accepts them, with the
// ceiling ServiceAccount (the operator's rights), and then waits for every Deployment to be
// available, which is what "Ready" adds on top of the writes.
func (h *harness) runCeiling(ctx context.Context, e *env, n, profileSecs int) (*CeilingResult, error) {
	cfg, err := e.saConfig(ceilingSA)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	plan := benchPlan(h.cfg.Replicas)
	names := tenantNames("ceil", n)
	all := make([][]client.Object, n)
	for i, name := range names {
		if all[i], err = tenantObjects(name, plan); err != nil {
			return nil, err
		}
	}
	res := &CeilingResult{Tenants: n, ObjectsPerTenant: len(all[0]), Objects: objectKinds(all[0]), Workers: h.cfg.Workers}

	avail := newCompletions(names)
	unwatch := e.watch.handle(func(ev watchEvent) {
		d, ok := ev.obj.(*appsv1.Deployment)
		if ok && !ev.deleted && deploymentAvailable(d) {
			avail.mark(strings.TrimPrefix(d.Namespace, tenantryv1alpha1.NamespacePrefix), ev.at)
		}
	})
	defer unwatch()

	h.logf("ceiling: creating %d tenants x %d objects with %d workers", n, res.ObjectsPerTenant, h.cfg.Workers)
	api0, _ := e.apiserverMetrics(ctx)
	audit0 := e.auditOffset()
	cpu0 := e.markCPU()
	start := time.Now()
	apiProf := h.profileAPIServer(ctx, e, fmt.Sprintf("kube-apiserver while the ceiling creates %d tenants", n), fmt.Sprintf("apiserver-ceiling-%d.pb.gz", n), profileSecs)
	var (
		mu      sync.Mutex
		lat     []time.Duration
		doneAt  = make([]time.Time, 0, n)
		errs    atomic.Int64
		next    atomic.Int64
		wg      sync.WaitGroup
		lastErr atomic.Value
	)
	for range h.cfg.Workers {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					break
				}
				for _, o := range all[i] {
					for attempt := 0; ; attempt++ {
						t0 := time.Now()
						err := createTyped(ctx, cs, o)
						mine = append(mine, time.Since(t0))
						if err == nil || apierrors.IsAlreadyExists(err) {
							break
						}
						errs.Add(1)
						lastErr.Store(err.Error())
						if attempt >= 20 || ctx.Err() != nil {
							break
						}
						time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond) // retry backoff, not a measurement
					}
				}
				mu.Lock()
				doneAt = append(doneAt, time.Now())
				mu.Unlock()
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	created := time.Since(start)
	cpu1 := e.markCPU()
	api1, _ := e.apiserverMetrics(ctx)
	res.APIServer = apiserverDelta(api0, api1)
	res.ControlPlaneCPUPerTenant = controlPlaneSeconds(cpu0, cpu1) / float64(n)
	res.ElapsedSec = created.Seconds()
	res.TenantsPerSec = rate(n, created)
	res.ObjectsPerSec = rate(n*res.ObjectsPerTenant, created)
	res.RequestLatency = summarize(lat)
	res.Errors = int(errs.Load())
	if v := lastErr.Load(); v != nil {
		res.Note = "last error: " + v.(string)
	}
	res.Created = cumulative(start, doneAt)
	res.CPU = cpuSince(cpu0, cpu1)
	h.logf("ceiling: %d tenants created in %.1fs (%.1f tenants/s, %.0f objects/s, %d errors)", n, res.ElapsedSec, res.TenantsPerSec, res.ObjectsPerSec, res.Errors)

	wctx, cancel := context.WithTimeout(ctx, h.readyTimeout(n))
	defer cancel()
	if err := avail.wait(wctx); err != nil {
		h.logf("ceiling: not every Deployment became available: %v%s", err, deadNote(e))
	} else {
		res.AvailableAll = true
	}
	times := avail.times()
	var last time.Time
	ts := make([]time.Time, 0, len(times))
	for _, t := range times {
		ts = append(ts, t)
		if t.After(last) {
			last = t
		}
	}
	res.Available = cumulative(start, ts)
	if !last.IsZero() {
		res.AvailableSec = last.Sub(start).Seconds()
		res.AvailablePerSec = rate(len(ts), last.Sub(start))
	}
	if res.AuditWrites, err = e.auditWrites(audit0, e.auditOffset(), saUser(ceilingSA)); err != nil {
		h.logf("reading the audit log: %v", err)
	}
	res.APIServerProfile = <-apiProf
	h.logf("ceiling: %d of %d Deployments available after %.1fs", len(ts), n, res.AvailableSec)
	return res, nil
}

// profileAPIServer starts a CPU profile of kube-apiserver for seconds (none when 0); the
// channel yields it (or nil) when done.
func (h *harness) profileAPIServer(ctx context.Context, e *env, what, file string, seconds int) <-chan *Profile {
	c := make(chan *Profile, 1)
	if seconds <= 0 {
		c <- nil
		return c
	}
	go func() {
		p, err := e.fetchAPIServerProfile(ctx, what, file, seconds)
		if err != nil {
			h.logf("%v", err)
		}
		c <- p
	}()
	return c
}

// readyTimeout bounds how long a phase waits for n tenants: generous, so a slow machine
// yields a slow number rather than no number.
func (h *harness) readyTimeout(n int) time.Duration {
	if h.cfg.ReadyTimeout > 0 {
		return h.cfg.ReadyTimeout
	}
	return 5*time.Minute + time.Duration(n)*300*time.Millisecond
}

// OperatorResult is the operator taking N TenantInstances to Ready.
type OperatorResult struct {
	Tenants         int                `json:"tenants"`
	CreateSec       float64            `json:"instancesCreatedSec"`
	ElapsedSec      float64            `json:"elapsedSec"`
	TenantsPerSec   float64            `json:"tenantsPerSec"`
	AllReady        bool               `json:"allReady"`
	ReadyCount      int                `json:"readyCount"`
	ReadyLatency    Latency            `json:"readyLatency"`
	RestWrites      map[string]float64 `json:"restRequestsByMethod"`
	WritesPerTenant float64            `json:"auditWritesPerTenant"`
	AuditWrites     WriteCounts        `json:"auditWrites"`
	// PathWrites are the writes of the whole path: the TenantInstances' creates (with the
	// bridge's identity) and the operator's writes, for comparison with the minimal path.
	PathWrites          WriteCounts        `json:"pathAuditWrites"`
	PathWritesPerTenant float64            `json:"pathAuditWritesPerTenant"`
	Ready               []Point            `json:"readySeries"`
	Samples             []OperatorSample   `json:"samples"`
	PeakRSSMiB          float64            `json:"peakRssMiB"`
	CPU                 map[string]float64 `json:"cpuCores"`
	// ControlPlaneCPUPerTenant is kube-apiserver + etcd CPU-seconds per tenant until all Ready.
	ControlPlaneCPUPerTenant float64        `json:"controlPlaneCpuSecPerTenant"`
	APIServer                APIServerStats `json:"apiserver"`
	APIServerProfile         *Profile       `json:"apiserverProfile,omitempty"`
	Profile                  *Profile       `json:"cpuProfile,omitempty"`
	ManagerArgs              []string       `json:"managerArgs"`
}

// createInstances writes TenantInstances as the bridge would, with its ServiceAccount and as
// fast as the API server takes them, recording when each was created.
func (h *harness) createInstances(ctx context.Context, e *env, names []string) (map[string]time.Time, time.Duration, error) {
	cfg, err := e.saConfig(bridgeSA)
	if err != nil {
		return nil, 0, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, 0, err
	}
	var (
		mu      sync.Mutex
		at      = make(map[string]time.Time, len(names))
		next    atomic.Int64
		wg      sync.WaitGroup
		failed  atomic.Int64
		lastErr atomic.Value
	)
	mk := e.newInstance
	if mk == nil {
		mk = benchInstance
	}
	start := time.Now()
	for range h.cfg.Workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) || ctx.Err() != nil {
					return
				}
				for attempt := 0; ; attempt++ {
					t0 := time.Now()
					err := c.Create(ctx, mk(names[i]))
					if err == nil || apierrors.IsAlreadyExists(err) {
						mu.Lock()
						at[names[i]] = t0
						mu.Unlock()
						break
					}
					lastErr.Store(err.Error())
					if attempt >= 20 || ctx.Err() != nil {
						failed.Add(1)
						break
					}
					time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond) // retry backoff
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return at, time.Since(start), fmt.Errorf("%d TenantInstances could not be created; last error: %v", n, lastErr.Load())
	}
	return at, time.Since(start), ctx.Err()
}

// runOperator creates n TenantInstances and measures the operator taking every one to Ready.
func (h *harness) runOperator(ctx context.Context, e *env, prefix string, n int, profileSecs int) (*OperatorResult, error) {
	if err := e.ensureManager(ctx); err != nil {
		return nil, err
	}
	names := tenantNames(prefix, n)
	res := &OperatorResult{Tenants: n, ManagerArgs: e.managerArgs}
	ready := newCompletions(names)
	unwatch := e.watch.handle(func(ev watchEvent) {
		if ti, ok := ev.obj.(*tenantryv1alpha1.TenantInstance); ok && !ev.deleted && tiReady(ti) {
			ready.mark(ti.Name, ev.at)
		}
	})
	defer unwatch()

	m0, err := framework.Scrape(ctx, h.hc, e.managerMetrics)
	if err != nil {
		return nil, err
	}
	api0, _ := e.apiserverMetrics(ctx)
	audit0 := e.auditOffset()
	cpu0 := e.markCPU()
	start := time.Now()
	smp := e.startSampler(start, time.Second, ready.count)
	apiProf := h.profileAPIServer(ctx, e, fmt.Sprintf("kube-apiserver while the operator provisions %d tenants", n), fmt.Sprintf("apiserver-operator-%d.pb.gz", n), profileSecs)
	var prof *Profile
	profDone := make(chan struct{})
	go func() {
		defer close(profDone)
		if profileSecs <= 0 {
			return
		}
		p, err := e.fetchProfile(ctx, "cpu", fmt.Sprintf("operator provisioning %d tenants", n), fmt.Sprintf("cpu-provision-%d.pb.gz", n), profileSecs)
		if err != nil {
			h.logf("operator: CPU profile: %v", err)
			return
		}
		prof = p
	}()

	h.logf("operator: creating %d TenantInstances", n)
	created, createDur, err := h.createInstances(ctx, e, names)
	if err != nil {
		h.logf("operator: %v", err)
	}
	res.CreateSec = createDur.Seconds()
	h.logf("operator: %d TenantInstances created in %.1fs; waiting for Ready", len(created), res.CreateSec)
	wctx, cancel := context.WithTimeout(ctx, h.readyTimeout(n))
	defer cancel()
	if err := ready.wait(wctx); err != nil {
		h.logf("operator: not every tenant became Ready: %v%s", err, deadNote(e))
	} else {
		res.AllReady = true
	}
	cpu1 := e.markCPU()
	api1, _ := e.apiserverMetrics(ctx)
	res.APIServer = apiserverDelta(api0, api1)
	res.ControlPlaneCPUPerTenant = controlPlaneSeconds(cpu0, cpu1) / float64(n)
	res.Samples = smp.stop()
	<-profDone
	res.Profile = prof
	res.APIServerProfile = <-apiProf
	m1, err := framework.Scrape(ctx, h.hc, e.managerMetrics)
	if err == nil {
		res.RestWrites = diffMaps(restByMethod(m0), restByMethod(m1))
	}
	r := readinessOf(start, ready.times(), created)
	res.ReadyCount, res.Ready, res.ReadyLatency = r.count, r.series, r.latency
	res.ElapsedSec, res.TenantsPerSec = r.elapsedSec, r.perSec
	for _, s := range res.Samples {
		res.PeakRSSMiB = max(res.PeakRSSMiB, s.RSSMiB)
	}
	res.CPU = cpuSince(cpu0, cpu1)
	if res.AuditWrites, err = e.auditWrites(audit0, e.auditOffset(), saUser(managerSA)); err != nil {
		h.logf("reading the audit log: %v", err)
	}
	res.WritesPerTenant = ratio(float64(res.AuditWrites.Total), float64(n))
	if res.PathWrites, err = e.auditWrites(audit0, e.auditOffset(), saUser(bridgeSA), saUser(managerSA)); err != nil {
		h.logf("reading the audit log: %v", err)
	}
	res.PathWritesPerTenant = ratio(float64(res.PathWrites.Total), float64(n))
	h.logf("operator: %d of %d tenants Ready after %.1fs (%.1f tenants/s, %.1f writes per tenant)", res.ReadyCount, n, res.ElapsedSec, res.TenantsPerSec, res.WritesPerTenant)
	return res, nil
}

func deadNote(e *env) string {
	if dead := e.deadControlPlane(); len(dead) > 0 {
		return fmt.Sprintf(" (not running any more: %s; their logs are kept in %s)", strings.Join(dead, ", "), e.dir)
	}
	return ""
}

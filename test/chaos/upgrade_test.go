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
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

// operatorUpgrade runs the operator built from an older commit (CHAOS_OLD_REF, by default
// the last one before the operator annotated what it applies) until upgradeTenants tenants are
// Ready, replaces it with the current build, and waits until the new build has reconciled every
// tenant: no Deployment's pod template may change, so no tenant's app is rolled.
func operatorUpgrade(t *scenarioT) {
	ctx := context.Background()
	rnd := newRNG(cfg.seed ^ 0x75706772)
	built := time.Now()
	oldBin, err := buildRef(ctx, t, cfg.oldRef)
	if err != nil {
		if cfg.full {
			t.Fatalf("building the old operator from %q (CHAOS_OLD_REF): %v", cfg.oldRef, err)
		}
		t.Skipf("cannot build the old operator from %q (CHAOS_OLD_REF), so the upgrade is not checked: %v", cfg.oldRef, err)
	}

	t.Logf("built the operator at %s in %s", cfg.oldRef, seconds(time.Since(built)))
	revoke := grantOldSecretReads(ctx, t)
	oldc := operator(t, "upgrade", "old", oldBin)
	old := oldc.start(t)
	if err := waitLeader(ctx, oldc.metrics, 2*cfg.leaseDuration+30*time.Second); err != nil {
		t.Fatalf("the old operator never led: %v", err)
	}
	brc := bridge(t, "upgrade", "a")
	brc.start(t)
	m := newMarket(brc.url, rnd)

	// Earlier scenarios leave tenants behind; buy the rest.
	present, err := liveInstances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tenants []*tenant
	if need := cfg.upgradeTenants - present; need > 0 {
		tenants = buyAll(ctx, t, m, need, time.Now().Add(cfg.callGiveUp))
	}
	n, err := liveInstances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// What the old build left is judged by the workloads, not by the status it wrote: an older
	// build may have bugs of its own that the upgrade is there to leave behind.
	if err := reconciledAll(ctx, oldc.metrics, n, cfg.convergeTimeout); err != nil {
		t.Fatalf("the old operator: %v", err)
	}
	if err := workloadsSettled(ctx, cfg.convergeTimeout); err != nil {
		t.Fatalf("under the old operator: %v", err)
	}
	if err := allReady(ctx, time.Second); err != nil {
		t.Logf("the old build's own status (not judged): %v", err)
	}
	before, err := snapshotWorkloads(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if err := old.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	revoke()
	newc := operator(t, "upgrade", "new", "")
	started := time.Now()
	newc.start(t)
	if err := reconciledAll(ctx, newc.metrics, n, cfg.convergeTimeout); err != nil {
		t.Fatalf("the new operator: %v", err)
	}
	reconciled := time.Since(started)
	// Every tenant was reconciled already: what is not Ready by now has stalled.
	if err := allReady(ctx, time.Minute); err != nil {
		t.Errorf("under the new operator: %v", err)
	} else if _, ok := converge(ctx, t, tenants, time.Minute); !ok {
		t.Error("the tenants did not converge under the new operator")
	}
	after, err := snapshotWorkloads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newMetrics, err := framework.Scrape(ctx, scrapeClient, newc.metrics)
	if err != nil {
		t.Fatal(err)
	}

	var rolled []string
	generations := 0
	for key, b := range before {
		a, ok := after[key]
		switch {
		case !ok:
			rolled = append(rolled, key+": Deployment gone")
		case a.uid != b.uid:
			rolled = append(rolled, key+": Deployment replaced")
		case a.template != b.template || a.replicaSets != b.replicaSets:
			rolled = append(rolled, fmt.Sprintf("%s: rollout (pod template %s → %s, ReplicaSets %d → %d, generation %d → %d)",
				key, b.template[:12], a.template[:12], b.replicaSets, a.replicaSets, b.generation, a.generation))
		case a.pods != b.pods:
			rolled = append(rolled, key+": Pods replaced")
		}
		if ok && a.generation != b.generation {
			generations++
		}
	}
	sort.Strings(rolled)
	writes := newMetrics.Sum(metricRESTRequests, map[string]string{"method": "POST|PUT|PATCH|DELETE"})
	report(t, "upgrade", "%s (%s) → current build, %d tenants present", cfg.oldRef, strings.TrimSpace(gitDescribe(ctx, cfg.oldRef)), n)
	report(t, "new build reconciled every tenant", "%s after it started, %.0f reconciles, %.0f API writes", seconds(reconciled),
		newMetrics.Sum(metricReconciles, tenantController), writes)
	// A new generation alone is no rollout: the API server bumps a Deployment's generation for any
	// change of its annotations too (they are copied to its ReplicaSets).
	report(t, "Deployments", "%d compared: %d rolled or replaced, %d with a new generation (metadata only)", len(before), len(rolled), generations)
	if len(rolled) > 0 {
		shown := rolled
		if len(shown) > 20 {
			shown = shown[:20]
		}
		t.Errorf("the upgrade rolled %d of %d tenant apps:\n  %s", len(rolled), len(before), strings.Join(shown, "\n  "))
	}
}

// buildRef builds cmd/manager as it was at ref into a temporary directory and returns the
// directory. The tree is exported with `git archive`, so the repository's own state (worktrees,
// index) is never touched.
func buildRef(ctx context.Context, t *scenarioT, ref string) (string, error) {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		return "", errors.New("git is not installed")
	}
	commit, err := exec.CommandContext(ctx, git, "-C", framework.Root(), "rev-parse", "--verify", "--quiet", ref+"^{commit}").Output()
	if err != nil {
		return "", fmt.Errorf("no commit %q in %s (a shallow clone?)", ref, framework.Root())
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	var archive, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, git, "-C", framework.Root(), "archive", "--format=tar", strings.TrimSpace(string(commit)))
	cmd.Stdout, cmd.Stderr = &archive, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git archive %s: %w: %s", ref, err, stderr.String())
	}
	if err := untar(&archive, src); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "manager"), "./cmd/manager")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/manager at %s: %w: %s", ref, err, out)
	}
	return bin, nil
}

// untar extracts the directories and regular files of a tar stream into dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("archive entry %q is outside the tree", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

func gitDescribe(ctx context.Context, ref string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", framework.Root(), "log", "-1", "--format=%h %s", ref).Output()
	if err != nil {
		return "?"
	}
	return string(out)
}

// liveInstances counts the TenantInstances that are not being deleted.
func liveInstances(ctx context.Context) (int, error) {
	list := &tenantryv1alpha1.TenantInstanceList{}
	if err := admin.List(ctx, list); err != nil {
		return 0, err
	}
	n := 0
	for _, ti := range list.Items {
		if ti.DeletionTimestamp == nil {
			n++
		}
	}
	return n, nil
}

// allReady waits until every live TenantInstance is Ready for its current spec.
func allReady(ctx context.Context, timeout time.Duration) error {
	var notReady []string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		list := &tenantryv1alpha1.TenantInstanceList{}
		if err := admin.List(ctx, list); err != nil {
			return false, nil
		}
		deps := &appsv1.DeploymentList{}
		if err := admin.List(ctx, deps, client.HasLabels{tenantryv1alpha1.LabelInstance}); err != nil {
			return false, nil
		}
		deployment := map[string]appsv1.Deployment{}
		for _, d := range deps.Items {
			deployment[d.Labels[tenantryv1alpha1.LabelInstance]] = d
		}
		notReady = notReady[:0]
		for _, ti := range list.Items {
			ready := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady)
			if ti.DeletionTimestamp == nil && (ti.Status.ObservedGeneration != ti.Generation || ready == nil ||
				ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != ti.Generation) {
				why := "no Ready condition"
				if ready != nil {
					why = fmt.Sprintf("Ready=%s %s: %s", ready.Status, ready.Reason, ready.Message)
				}
				d := deployment[ti.Name]
				notReady = append(notReady, fmt.Sprintf("%s (generation %d, observed %d, %s, %s; its Deployment: generation %d, observed %d, %d/%d ready)",
					ti.Name, ti.Generation, ti.Status.ObservedGeneration, ti.Status.State, why,
					d.Generation, d.Status.ObservedGeneration, d.Status.ReadyReplicas, ptrValue(d.Spec.Replicas)))
			}
		}
		return len(notReady) == 0, nil
	})
	if err != nil {
		shown := notReady
		if len(shown) > 10 {
			shown = shown[:10]
		}
		return fmt.Errorf("%d tenants are not Ready: %w; first ones:\n  %s", len(notReady), err, strings.Join(shown, "\n  "))
	}
	return nil
}

// workloadsSettled waits until every live tenant's Deployment has been observed by the
// Deployment controller and runs the replicas it asks for.
func workloadsSettled(ctx context.Context, timeout time.Duration) error {
	var unsettled []string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		tis := &tenantryv1alpha1.TenantInstanceList{}
		if err := admin.List(ctx, tis); err != nil {
			return false, nil
		}
		deps := &appsv1.DeploymentList{}
		if err := admin.List(ctx, deps, client.HasLabels{tenantryv1alpha1.LabelInstance}); err != nil {
			return false, nil
		}
		deployment := map[string]*appsv1.Deployment{}
		for i := range deps.Items {
			deployment[deps.Items[i].Labels[tenantryv1alpha1.LabelInstance]] = &deps.Items[i]
		}
		unsettled = unsettled[:0]
		for _, ti := range tis.Items {
			d := deployment[ti.Name]
			switch {
			case ti.DeletionTimestamp != nil:
			case d == nil:
				unsettled = append(unsettled, ti.Name+": no Deployment")
			case d.Status.ObservedGeneration != d.Generation || d.Status.Replicas != ptrValue(d.Spec.Replicas) ||
				d.Status.ReadyReplicas != ptrValue(d.Spec.Replicas) || d.Status.UpdatedReplicas != ptrValue(d.Spec.Replicas):
				unsettled = append(unsettled, fmt.Sprintf("%s: generation %d observed %d, %d/%d ready", ti.Name, d.Generation,
					d.Status.ObservedGeneration, d.Status.ReadyReplicas, ptrValue(d.Spec.Replicas)))
			}
		}
		return len(unsettled) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%d tenant apps have not settled: %w: %v", len(unsettled), err, unsettled)
	}
	return nil
}

// reconciledAll waits until the operator at metrics url has worked through its start: at least n
// reconciles of TenantInstances, and nothing queued or in progress. The controller queues every
// existing instance before its workers start, so this means every one was reconciled.
func reconciledAll(ctx context.Context, url string, n int, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		m, err := framework.Scrape(ctx, scrapeClient, url)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		reconciles := m.Sum(metricReconciles, tenantController)
		depth := m.Sum(metricQueueDepth, map[string]string{"name": "tenantinstance"})
		active := m.Sum(metricActiveWorkers, tenantController)
		last = fmt.Sprintf("%.0f reconciles of %d instances, %.0f queued, %.0f in progress", reconciles, n, depth, active)
		return m.Sum(metricLeader, map[string]string{"name": leaseName}) == 1 && reconciles >= float64(n) && depth == 0 && active == 0, nil
	})
	if err != nil {
		return fmt.Errorf("did not reconcile every tenant (%s): %w", last, err)
	}
	return nil
}

// workload is what an upgrade must not change about a tenant's app.
type workload struct {
	uid         string
	generation  int64
	template    string // hash of the pod template
	replicaSets int
	pods        string // the live Pods' UIDs
}

// snapshotWorkloads records every tenant Deployment, by namespace/name.
func snapshotWorkloads(ctx context.Context) (map[string]workload, error) {
	tis := &tenantryv1alpha1.TenantInstanceList{}
	if err := admin.List(ctx, tis); err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for _, ti := range tis.Items {
		live[ti.Name] = ti.DeletionTimestamp == nil
	}
	labelled := client.HasLabels{tenantryv1alpha1.LabelInstance}
	deps := &appsv1.DeploymentList{}
	if err := admin.List(ctx, deps, labelled); err != nil {
		return nil, err
	}
	rss := &appsv1.ReplicaSetList{}
	if err := admin.List(ctx, rss, labelled); err != nil {
		return nil, err
	}
	pods := &corev1.PodList{}
	if err := admin.List(ctx, pods, labelled); err != nil {
		return nil, err
	}
	rsByNS := map[string]int{}
	for _, rs := range rss.Items {
		rsByNS[rs.Namespace]++
	}
	podsByNS := map[string][]string{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			podsByNS[p.Namespace] = append(podsByNS[p.Namespace], string(p.UID))
		}
	}
	out := map[string]workload{}
	for _, d := range deps.Items {
		if d.DeletionTimestamp != nil || !live[d.Labels[tenantryv1alpha1.LabelInstance]] {
			continue
		}
		tmpl, err := json.Marshal(d.Spec.Template)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(tmpl)
		uids := podsByNS[d.Namespace]
		sort.Strings(uids)
		out[d.Namespace+"/"+d.Name] = workload{uid: string(d.UID), generation: d.Generation, template: hex.EncodeToString(sum[:]),
			replicaSets: rsByNS[d.Namespace], pods: strings.Join(uids, ",")}
	}
	return out, nil
}

// grantOldSecretReads gives the operator's ServiceAccount the cluster-wide Secret reads the
// chart of the old build's day granted: that build watches Secrets in every namespace, and
// today's chart grants it none. The returned func takes the grant away, as the `helm upgrade`
// that brings the new build does; it also runs at cleanup.
func grantOldSecretReads(ctx context.Context, t *scenarioT) (revoke func()) {
	t.Helper()
	const name = "chaos-upgrade-old-operator-secret-reads"
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: framework.Namespace, Name: framework.ManagerServiceAccount}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := admin.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("granting the old operator its Secret reads: %v", err)
		}
	}
	done := false
	revoke = func() {
		if done {
			return
		}
		done = true
		for _, obj := range []client.Object{binding, role} {
			if err := admin.Delete(context.Background(), obj); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("revoking the old operator's Secret reads: %v", err)
			}
		}
	}
	t.Cleanup(revoke)
	return revoke
}

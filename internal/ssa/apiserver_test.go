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

package ssa_test

import (
	"context"
	"net/http"
	"os"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/ssa"
	"github.com/tenantry/tenantry/internal/testenv"
)

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// apiServer starts an API server for one test, and the child cache over it, synced.
func apiServer(t *testing.T) (context.Context, *rest.Config, *childcache.Cache) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an API server")
	}
	g := NewWithT(t)
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	records, err := childcache.New(cfg, nil, "tenantry-operator")
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = records.Start(ctx) }()
	g.Expect(records.WaitForCacheSync(ctx)).To(BeTrue())
	return ctx, cfg, records
}

// Against a real API server: an object applied and unchanged is not applied again, neither by
// the same process nor by a restarted one (whose Cache is empty: the fields the API server says
// the operator owns must be those of the apply configuration, which this proves for the largest
// object the operator applies); the Deployment controller's status writes cost nothing; a hand
// edit is put back, also by a restarted operator. The API server answers each apply in protobuf.
func TestApplyAgainstTheAPIServer(t *testing.T) {
	ctx, cfg, records := apiServer(t)
	g := NewWithT(t)
	// The content type of every answer to an apply.
	var (
		mu      sync.Mutex
		answers []string
	)
	recorded := rest.CopyConfig(cfg)
	recorded.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if err == nil && req.Method == http.MethodPatch && req.Header.Get("Content-Type") == string(types.ApplyPatchType) {
				mu.Lock()
				answers = append(answers, resp.Header.Get("Content-Type"))
				mu.Unlock()
			}
			return resp, err
		})
	})
	k8s, err := client.New(recorded, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())

	// The apply configuration of a tenant's app Deployment, as the operator builds it.
	data, err := os.ReadFile("testdata/deployment.json")
	g.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	g.Expect(u.UnmarshalJSON(data)).To(Succeed())
	ac := client.ApplyConfigurationFromUnstructured(u)
	key := client.ObjectKey{Namespace: u.GetNamespace(), Name: u.GetName()}
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: key.Namespace}})).To(Succeed())
	deployment := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	apply := func(c *ssa.Cache) ssa.Change {
		// Apply marshals ac anew each time; the unstructured it was made from is left alone.
		res, err := c.Apply(ctx, k8s, records, ac)
		g.Expect(err).NotTo(HaveOccurred())
		return res.Change
	}
	// synced waits until the records show the Deployment as the API server has it.
	synced := func() *appsv1.Deployment {
		d := &appsv1.Deployment{}
		g.Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, key, d)).To(Succeed())
			rec, ok := records.Lookup(deployment, key)
			g.Expect(ok).To(BeTrue())
			g.Expect(rec.ResourceVersion()).To(Equal(d.ResourceVersion))
		}).Should(Succeed())
		return d
	}

	// fieldsIntact is what the record tells, from the object alone, of the fields the operator
	// applied: the API server's entry against the hash the apply wrote beside it.
	fieldsIntact := func() (intact, known bool) {
		rec, ok := records.Lookup(deployment, key)
		g.Expect(ok).To(BeTrue())
		return rec.AppliedFieldsIntact()
	}

	var c ssa.Cache
	g.Expect(apply(&c)).To(Equal(ssa.Applied))
	mu.Lock()
	g.Expect(answers).To(Equal([]string{runtime.ContentTypeProtobuf}), "the API server answers the apply of a built-in kind in protobuf")
	mu.Unlock()
	synced()
	intact, known := fieldsIntact()
	g.Expect(known).To(BeTrue(), "the apply writes the hash of the fields it sets")
	g.Expect(intact).To(BeTrue(), "the API server lists the very fields the apply's hash is of")
	g.Expect(apply(&c)).To(Equal(ssa.Skipped))
	g.Expect(apply(&ssa.Cache{})).To(Equal(ssa.Skipped), "a restarted operator over an object in sync")

	// What the Deployment controller writes.
	d := synced()
	d.Annotations["deployment.kubernetes.io/revision"] = "1"
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}
	g.Expect(k8s.Status().Update(ctx, d)).To(Succeed())
	synced()
	g.Expect(apply(&c)).To(Equal(ssa.Skipped), "status writes of the Deployment controller")
	g.Expect(apply(&ssa.Cache{})).To(Equal(ssa.Skipped), "a restarted operator after status writes")

	// A hand edit of what the operator applied.
	d = synced()
	d.Spec.Replicas = ptr.To[int32](5)
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	synced()
	intact, known = fieldsIntact()
	g.Expect([]bool{intact, known}).To(Equal([]bool{false, true}), "a hand edit takes its field out of the operator's entry")
	g.Expect(apply(&ssa.Cache{})).To(Equal(ssa.Updated), "a restarted operator repairs a hand edit")
	g.Expect(*synced().Spec.Replicas).To(Equal(int32(2)))

	// An object without the applied-fields annotation, as an earlier operator applied it: a
	// restarted operator computes the set of the apply configuration instead, and trusts the
	// object while the fields are intact, and repairs a hand edit.
	d = synced()
	delete(d.Annotations, v1alpha1.AnnotationAppliedFields)
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	synced()
	_, known = fieldsIntact()
	g.Expect(known).To(BeFalse())
	g.Expect(apply(&ssa.Cache{})).To(Equal(ssa.Skipped), "a restarted operator over an earlier operator's object in sync")
	d = synced()
	d.Spec.Template.Spec.Containers[0].Image = "edited:1"
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	synced()
	g.Expect(apply(&ssa.Cache{})).To(Equal(ssa.Updated), "a restarted operator repairs a hand edit of an earlier operator's object")
	synced()
	intact, known = fieldsIntact()
	g.Expect([]bool{intact, known}).To(Equal([]bool{true, true}), "the repair writes the annotation again")
	g.Expect(k8s.Patch(ctx, d, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"replicas":5}}`)))).To(Succeed())
	synced()
	g.Expect(apply(&c)).To(Equal(ssa.Updated), "the running operator repairs a hand edit")
	g.Expect(*synced().Spec.Replicas).To(Equal(int32(2)))
	g.Expect(apply(&c)).To(Equal(ssa.Skipped))

	// An apply that changes nothing on the API server: a label someone else added, which the
	// apply leaves alone.
	d = synced()
	d.Labels["team"] = "x"
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	synced()
	g.Expect(apply(&c)).To(Equal(ssa.Unchanged))
}

// Against a real API server: Create makes an object that is the operator's exactly as an Apply's
// (one managed-fields entry, of the apply, and the applied-fields hash intact), so an Apply of the
// same configuration afterwards is skipped, by this process and by a restarted one; and a Create
// of an object that exists, made by someone else, fails with a Conflict and changes nothing.
func TestCreateAgainstTheAPIServer(t *testing.T) {
	ctx, cfg, records := apiServer(t)
	g := NewWithT(t)
	k8s, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	namespaceKind := schema.GroupKind{Kind: "Namespace"}
	namespace := func(name string) *corev1ac.NamespaceApplyConfiguration {
		return corev1ac.Namespace(name).
			WithLabels(map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, "pod-security.kubernetes.io/enforce": "restricted"}).
			WithAnnotations(map[string]string{v1alpha1.AnnotationInstanceUID: "uid-1"})
	}

	var c ssa.Cache
	res, err := c.Create(ctx, k8s, records, namespace("created"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Change).To(Equal(ssa.Applied))
	ns := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "created"}, ns)).To(Succeed())
	g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	g.Expect(ns.Annotations).To(HaveKeyWithValue(v1alpha1.AnnotationInstanceUID, "uid-1"))
	g.Expect(ns.ManagedFields).To(ConsistOf(And(
		HaveField("Manager", "tenantry-operator"), HaveField("Operation", metav1.ManagedFieldsOperationApply))),
		"the object is owned as an apply's, with no entry of an update")
	g.Eventually(func(g Gomega) {
		rec, ok := records.Lookup(namespaceKind, client.ObjectKey{Name: "created"})
		g.Expect(ok).To(BeTrue())
		g.Expect(rec.ResourceVersion()).To(Equal(ns.ResourceVersion))
		intact, known := rec.AppliedFieldsIntact()
		g.Expect([]bool{intact, known}).To(Equal([]bool{true, true}))
	}).Should(Succeed())
	for _, cache := range []*ssa.Cache{&c, {}} {
		res, err = cache.Apply(ctx, k8s, records, namespace("created"))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.Change).To(Equal(ssa.Skipped), "an apply after the create, by the same or a restarted operator")
	}
	_, err = c.Create(ctx, k8s, records, namespace("created"))
	g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "a second create: %v", err)

	// Somebody else's namespace of the name is left as it is.
	theirs := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Labels: map[string]string{"team": "x"}}}
	g.Expect(k8s.Create(ctx, theirs)).To(Succeed())
	_, err = c.Create(ctx, k8s, records, namespace("theirs"))
	g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "a create over an existing object: %v", err)
	after := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "theirs"}, after)).To(Succeed())
	g.Expect(after.ResourceVersion).To(Equal(theirs.ResourceVersion))
	g.Expect(after.Labels).To(Equal(theirs.Labels))
	g.Expect(after.Annotations).To(BeEmpty())
}

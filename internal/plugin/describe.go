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

package plugin

import (
	"cmp"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// InstanceStory is what `kubectl tenantry describe` reports: one tenant's story.
type InstanceStory struct {
	Name       string    `json:"name"`
	Created    time.Time `json:"created"`
	Releasing  bool      `json:"releasing"`
	Generation int64     `json:"generation"`

	Spec   tenantryv1alpha1.TenantInstanceSpec   `json:"spec"`
	Status tenantryv1alpha1.TenantInstanceStatus `json:"status"`

	// Calls are the marketplace calls that shaped the spec, oldest first: what spec.marketplace
	// records (the last call that set each aspect and the orders applied) and the Events the
	// bridge and the operator recorded on the instance, applied and ignored alike.
	Calls []Call `json:"calls"`
	// Events are all Events on the instance, oldest first.
	Events []Event `json:"events"`
	// Children are the objects in the tenant namespace.
	Children []Child `json:"children"`
	// Hosts are the DNS names the instance holds (TenantHost claims).
	Hosts []string `json:"hosts"`
	// Directory counts the 联营 users and departments synced for the instance.
	Directory DirectoryCount `json:"directory"`
}

// Call is one marketplace call that changed, or tried to change, the instance.
type Call struct {
	At time.Time `json:"at"`
	// What the call did: the aspect it set or the Event reason.
	What string `json:"what"`
	// Order is the marketplace order, when the call carried one.
	Order string `json:"order,omitempty"`
	// Note is the Event's message, when the call is known from an Event.
	Note string `json:"note,omitempty"`
	// Ignored is true when the call changed nothing (a stale or duplicate delivery).
	Ignored bool `json:"ignored,omitempty"`
}

// Event is one Event on the instance.
type Event struct {
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	Reason string    `json:"reason"`
	Note   string    `json:"note"`
	Count  int32     `json:"count"`
	From   string    `json:"from"`
}

// Child is one object in the tenant namespace.
type Child struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Detail is what matters of it at a glance: ready replicas, hosts, the Secret's role.
	Detail string `json:"detail,omitempty"`
}

// DirectoryCount counts an instance's directory.
type DirectoryCount struct {
	Shards int `json:"shards"`
	Users  int `json:"users"`
	Orgs   int `json:"orgs"`
}

// ignoredReasons are the Event reasons of calls that changed nothing.
var ignoredReasons = map[string]bool{"StaleFreezeIgnored": true, "PreflightFinding": true}

// syncReasons are the Event reasons of the 联营 kit's calls and of a renewal change taking effect.
var syncReasons = map[string]bool{"TenantSynced": true, "ApplicationSynced": true, "UsersSynced": true, "OrgsSynced": true, "PendingChangeApplied": true}

// isMarketplaceReason tells the Event reasons that record a marketplace call.
func isMarketplaceReason(reason string) bool {
	return strings.HasPrefix(reason, "Marketplace") || ignoredReasons[reason] || syncReasons[reason]
}

// ChildObjects is what a tenant namespace holds. Secrets are shown by name and role, never
// their data.
type ChildObjects struct {
	Deployments     []appsv1.Deployment
	Services        []corev1.Service
	Ingresses       []networkingv1.Ingress
	Secrets         []corev1.Secret
	ConfigMaps      []corev1.ConfigMap
	NetworkPolicies []networkingv1.NetworkPolicy
	ResourceQuotas  []corev1.ResourceQuota
}

// Tell assembles an instance's story from what the API holds about it.
func Tell(ti *tenantryv1alpha1.TenantInstance, events []corev1.Event, children ChildObjects,
	hosts []tenantryv1alpha1.TenantHost, dirs []tenantryv1alpha1.TenantDirectory) InstanceStory {
	s := InstanceStory{
		Name:       ti.Name,
		Created:    ti.CreationTimestamp.UTC(),
		Releasing:  ti.DeletionTimestamp != nil,
		Generation: ti.Generation,
		Spec:       *ti.Spec.DeepCopy(),
		Status:     *ti.Status.DeepCopy(),
		Calls:      []Call{},
		Events:     []Event{},
		Children:   []Child{},
		Hosts:      []string{},
	}
	// Personal data of the buyer never leaves through this command.
	s.Spec.Customer = nil
	if s.Spec.Tenant != nil {
		for i := range s.Spec.Tenant.Applications {
			s.Spec.Tenant.Applications[i].EncryptedClientSecret = ""
		}
	}

	if m := ti.Spec.Marketplace; m != nil {
		add := func(t *metav1.MicroTime, what, order string) {
			if t != nil {
				s.Calls = append(s.Calls, Call{At: t.UTC(), What: what, Order: order})
			}
		}
		add(m.LifecycleSetAt, "lifecycle set to "+string(ti.Spec.Lifecycle), "")
		add(m.ExpirySetAt, "expiry set", m.ExpiryOrderID)
		add(m.SKUSetAt, "SKU set to "+ti.Spec.SKU, m.SKUOrderID)
		add(m.QuantitySetAt, "quantity set", "")
		add(m.TenantSetAt, "enterprise tenant set", "")
		add(m.RenewedAt, "renewed", "")
		for _, o := range m.AppliedOrders {
			add(o.AppliedAt, "order applied: "+string(o.Scene), o.OrderID)
		}
	}
	for _, e := range events {
		ev := Event{At: eventTime(&e), Type: e.Type, Reason: e.Reason, Note: e.Message, Count: max(e.Count, 1), From: eventSource(&e)}
		s.Events = append(s.Events, ev)
		if isMarketplaceReason(e.Reason) {
			s.Calls = append(s.Calls, Call{At: ev.At, What: e.Reason, Note: e.Message, Ignored: ignoredReasons[e.Reason]})
		}
	}
	slices.SortStableFunc(s.Calls, func(a, b Call) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(s.Events, func(a, b Event) int { return a.At.Compare(b.At) })

	for _, d := range children.Deployments {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		detail := itoa(int64(d.Status.ReadyReplicas)) + "/" + itoa(int64(want)) + " ready"
		if len(d.Spec.Template.Spec.Containers) > 0 {
			detail += ", image " + d.Spec.Template.Spec.Containers[0].Image
		}
		s.Children = append(s.Children, Child{Kind: "Deployment", Name: d.Name, Detail: detail})
	}
	for _, svc := range children.Services {
		s.Children = append(s.Children, Child{Kind: "Service", Name: svc.Name, Detail: string(svc.Spec.Type)})
	}
	for _, in := range children.Ingresses {
		var hs []string
		for _, r := range in.Spec.Rules {
			hs = append(hs, r.Host)
		}
		detail := ""
		if in.Spec.IngressClassName != nil {
			detail = "class " + *in.Spec.IngressClassName + ", "
		}
		s.Children = append(s.Children, Child{Kind: "Ingress", Name: in.Name, Detail: detail + "hosts " + strings.Join(hs, ",")})
	}
	for _, sec := range children.Secrets {
		s.Children = append(s.Children, Child{Kind: "Secret", Name: sec.Name, Detail: sec.Labels[tenantryv1alpha1.LabelSecretRole]})
	}
	for _, cm := range children.ConfigMaps {
		s.Children = append(s.Children, Child{Kind: "ConfigMap", Name: cm.Name})
	}
	for _, np := range children.NetworkPolicies {
		s.Children = append(s.Children, Child{Kind: "NetworkPolicy", Name: np.Name})
	}
	for _, q := range children.ResourceQuotas {
		s.Children = append(s.Children, Child{Kind: "ResourceQuota", Name: q.Name})
	}
	slices.SortStableFunc(s.Children, func(a, b Child) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name)) })

	for _, h := range hosts {
		if h.Spec.InstanceName == ti.Name {
			s.Hosts = append(s.Hosts, h.Name)
		}
	}
	slices.Sort(s.Hosts)
	for _, d := range dirs {
		s.Directory.Shards++
		s.Directory.Users += int(d.Spec.UserCount)
		s.Directory.Orgs += int(d.Spec.OrgCount)
	}
	return s
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.UTC()
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.UTC()
	case !e.EventTime.IsZero():
		return e.EventTime.UTC()
	default:
		return e.CreationTimestamp.UTC()
	}
}

func eventSource(e *corev1.Event) string {
	if e.ReportingController != "" {
		return e.ReportingController
	}
	return e.Source.Component
}

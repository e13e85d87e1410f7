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

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/merchantkey"
	"github.com/tenantry/tenantry/internal/outcome"
)

// What the app sees of its 联营 tenant (docs/operations.md, "What the app sees"):
//
//   - TENANTRY_DIRECTORY_DIR (/var/run/tenantry/directory): one projected volume of a fixed set of
//     optional ConfigMaps: index.json (from tenant-directory) and, per directory shard that
//     exists, users-NN.json (tenant-directory-users-NN) or orgs-NN.json (tenant-directory-orgs-NN).
//   - /var/run/tenantry/credentials: the Secret tenant-app-credentials, optional, one file per
//     <appId>.clientId and <appId>.clientSecret.
//
// The kubelet refreshes both in a running pod, so kit syncs reach the app without a restart, and
// the pod template never changes as shards and applications come and go.
const (
	credentialsMountPath = "/var/run/tenantry/credentials"
	directoryIndexFile   = "index.json"
)

// directoryShardConfigMapName is the ConfigMap in the tenant namespace projecting shard index of
// part of the directory; directoryShardFile is its one key, the file name the app sees.
func directoryShardConfigMapName(part tenantryv1alpha1.DirectoryPart, index int) string {
	return DirectoryName + "-" + directoryShardStem(part, index)
}

// directoryShardFile is the file (and ConfigMap key) of a shard: users-NN.json or orgs-NN.json.
func directoryShardFile(part tenantryv1alpha1.DirectoryPart, index int) string {
	return directoryShardStem(part, index) + ".json"
}

func directoryShardStem(part tenantryv1alpha1.DirectoryPart, index int) string {
	if part == tenantryv1alpha1.DirectoryOrgs {
		return fmt.Sprintf("orgs-%02d", index)
	}
	return fmt.Sprintf("users-%02d", index)
}

// shardSlot is one directory shard an instance may have, with the names of its ConfigMap and file.
type shardSlot struct {
	part            tenantryv1alpha1.DirectoryPart
	index           int
	configMap, file string
}

// directoryShards lists every shard slot: the user shards, then the department shards. The list
// is shared: callers only read it.
var directoryShards = sync.OnceValue(func() []shardSlot {
	out := make([]shardSlot, 0, tenantryv1alpha1.DirectoryUserShards+tenantryv1alpha1.DirectoryOrgShards)
	add := func(part tenantryv1alpha1.DirectoryPart, index int) {
		out = append(out, shardSlot{part: part, index: index,
			configMap: directoryShardConfigMapName(part, index), file: directoryShardFile(part, index)})
	}
	for i := range tenantryv1alpha1.DirectoryUserShards {
		add(tenantryv1alpha1.DirectoryUsers, i)
	}
	for i := range tenantryv1alpha1.DirectoryOrgShards {
		add(tenantryv1alpha1.DirectoryOrgs, i)
	}
	return out
})

// reconcileAppCredentials decrypts the 联营 applications' client secrets into a Secret. With no
// application left (the kit removed the last one, or the tenant, or bound another tenant) the
// Secret is deleted, so the credentials leave the app's files too. Without the merchant key it
// waits, and a secret the key cannot decrypt stalls the tenant; being an optional step, neither
// holds back the workload.
func (r *TenantInstanceReconciler) reconcileAppCredentials(ctx context.Context, s *scope) error {
	t := s.instance.Spec.Tenant
	if t == nil || len(t.Applications) == 0 {
		// At first sight the Secret can only exist while a tenant is bound or its directory is
		// still projected: the directory goes in the same reconcile as the last application.
		ns := s.desired.namespace()
		projected := r.childExists(schema.GroupKind{Kind: "ConfigMap"}, client.ObjectKey{Namespace: ns, Name: DirectoryName})
		return r.deleteSecret(ctx, ns, AppCredentialsName, t != nil || projected)
	}
	if r.MerchantKey == nil {
		return &outcome.Waiting{Reason: tenantryv1alpha1.ReasonProgressing, Proceed: true,
			Message: "the operator has no merchant private key to decrypt application client secrets"}
	}
	secrets := make(map[string]string, len(t.Applications))
	for _, app := range t.Applications {
		plain, err := merchantkey.DecryptClientSecret(r.MerchantKey, app.EncryptedClientSecret)
		if err != nil {
			return outcome.Stallf(tenantryv1alpha1.ReasonApplyFailed, "client secret of application %q cannot be decrypted with the merchant key", app.AppID)
		}
		secrets[app.AppID] = plain
	}
	if err := r.applySecret(ctx, s.desired.AppCredentialsSecret(secrets)); err != nil {
		return fmt.Errorf("applying application credentials: %w", err)
	}
	return nil
}

// deleteConfigMap deletes a ConfigMap of a tenant when the child cache says it exists (or when
// there is no child cache); absence is success.
func (r *TenantInstanceReconciler) deleteConfigMap(ctx context.Context, key client.ObjectKey) error {
	if r.Children != nil {
		if _, ok := r.Children.Lookup(configMapKind, key); !ok {
			return nil
		}
	}
	obj := &corev1.ConfigMap{}
	obj.SetNamespace(key.Namespace)
	obj.SetName(key.Name)
	err := r.Delete(ctx, obj)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting ConfigMap %s: %w", key, err)
	}
	if err == nil {
		noteChange(ctx, "ConfigMap/"+key.Name+" deleted")
	}
	return nil
}

// reconcileDirectory projects the directory shards of the instance's bound tenant, each into its
// own ConfigMap, plus the index ConfigMap; it deletes the ConfigMaps of shards that are gone or
// belong to another tenant (a rebinding), and everything when no tenant is bound. It reads every
// shard before projecting one, so that a key held by two shards (resolveDirectory) is projected
// once.
func (r *TenantInstanceReconciler) reconcileDirectory(ctx context.Context, s *scope) error {
	bound := ""
	if t := s.instance.Spec.Tenant; t != nil {
		bound = t.TenantID
	}
	ns := s.desired.namespace()
	slots := directoryShards()
	dirs := make([]*tenantryv1alpha1.TenantDirectory, len(slots))
	// Without a bound tenant no shard is projected, so none is read: every shard's ConfigMap is
	// deleted below, which is most often a lookup in the child cache.
	if bound != "" {
		for i, sh := range slots {
			dir := &tenantryv1alpha1.TenantDirectory{}
			err := r.Get(ctx, client.ObjectKey{Name: tenantryv1alpha1.DirectoryShardName(s.instance.Name, sh.part, sh.index)}, dir)
			switch {
			case apierrors.IsNotFound(err):
				continue
			case err != nil:
				return fmt.Errorf("reading tenant directory shard: %w", err)
			}
			if dir.Spec.TenantID == bound && dir.Spec.InstanceName == s.instance.Name && dir.Spec.Part == sh.part {
				dirs[i] = dir
			}
		}
	}
	resolveDirectory(dirs)
	index := directoryIndex{Users: []string{}, Orgs: []string{}}
	for i, sh := range slots {
		dir := dirs[i]
		if dir == nil {
			if err := r.deleteConfigMap(ctx, client.ObjectKey{Namespace: ns, Name: sh.configMap}); err != nil {
				return err
			}
			continue
		}
		cm, err := s.desired.DirectoryShardConfigMap(dir)
		if err != nil {
			return err
		}
		if err := r.apply(ctx, cm); err != nil {
			return fmt.Errorf("applying tenant directory shard config map: %w", err)
		}
		if sh.part == tenantryv1alpha1.DirectoryUsers {
			index.Users, index.UserCount = append(index.Users, sh.file), index.UserCount+len(dir.Spec.Users)
		} else {
			index.Orgs, index.OrgCount = append(index.Orgs, sh.file), index.OrgCount+len(dir.Spec.Orgs)
		}
	}
	if bound == "" {
		return r.deleteConfigMap(ctx, client.ObjectKey{Namespace: ns, Name: DirectoryName})
	}
	cm, err := s.desired.DirectoryIndexConfigMap(index)
	if err != nil {
		return err
	}
	if err := r.apply(ctx, cm); err != nil {
		return fmt.Errorf("applying tenant directory index config map: %w", err)
	}
	return nil
}

// resolveDirectory drops from the shards read (nil for absent ones) the entries that are not
// the key's current one, with the rule the bridge applies on its next write: the bridge places
// each key in one shard, but two of its calls racing to place the same new key may put it in two,
// and a removal may land in another shard than a concurrent add. Of several entries of one key —
// a user is keyed by appId and userName, a department by orgCode — the one synced last is kept
// (on a tie the first, in shard order), and an entry synced at or before a remembered removal of
// its key is dropped, so that a late add never brings back what was removed.
func resolveDirectory(dirs []*tenantryv1alpha1.TenantDirectory) {
	type entry struct {
		shard, pos int
		at         time.Time
	}
	latest := map[string]entry{}
	removed := map[string]time.Time{}
	consider := func(key string, shard, pos int, at *metav1.MicroTime) {
		t := time.Time{}
		if at != nil {
			t = at.Time
		}
		if w, ok := latest[key]; !ok || w.at.Before(t) {
			latest[key] = entry{shard, pos, t}
		}
	}
	for i, d := range dirs {
		if d == nil {
			continue
		}
		for pos, u := range d.Spec.Users {
			consider(userKey(u.AppID, u.UserName), i, pos, u.SyncedAt)
		}
		for pos, o := range d.Spec.Orgs {
			consider(orgKey(o.OrgCode), i, pos, o.SyncedAt)
		}
		for _, r := range d.Spec.Removed {
			key := orgKey(r.OrgCode)
			if r.UserName != "" {
				key = userKey(r.AppID, r.UserName)
			}
			if at, ok := removed[key]; !ok || at.Before(r.RemovedAt.Time) {
				removed[key] = r.RemovedAt.Time
			}
		}
	}
	current := func(key string, shard, pos int) bool {
		w := latest[key]
		at, gone := removed[key]
		return w.shard == shard && w.pos == pos && (!gone || at.Before(w.at))
	}
	for i, d := range dirs {
		if d == nil {
			continue
		}
		users := make([]tenantryv1alpha1.DirectoryUser, 0, len(d.Spec.Users))
		for pos, u := range d.Spec.Users {
			if current(userKey(u.AppID, u.UserName), i, pos) {
				users = append(users, u)
			}
		}
		orgs := make([]tenantryv1alpha1.DirectoryOrg, 0, len(d.Spec.Orgs))
		for pos, o := range d.Spec.Orgs {
			if current(orgKey(o.OrgCode), i, pos) {
				orgs = append(orgs, o)
			}
		}
		d.Spec.Users, d.Spec.Orgs = users, orgs
	}
}

// userKey and orgKey key users and departments apart: a NUL, which no field may hold, separates
// appId from userName, and an orgCode is never empty.
func userKey(appID, userName string) string { return "u\x00" + appID + "\x00" + userName }
func orgKey(orgCode string) string          { return "o\x00" + orgCode }

// instanceOfDirectory maps a directory shard to its instance (spec.instanceName).
func instanceOfDirectory(_ context.Context, o client.Object) []reconcile.Request {
	d, ok := o.(*tenantryv1alpha1.TenantDirectory)
	if !ok || d.Spec.InstanceName == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: d.Spec.InstanceName}}}
}

// directoryVolumes are the pod volumes through which the app reads its 联营 directory and its
// applications' client credentials. Every source is optional, so tenants without a 联营
// enterprise start too, and the list is fixed, so the pod template never changes when a shard
// or an application appears.
func (d Desired) directoryVolumes() []*corev1ac.VolumeApplyConfiguration {
	sources := []*corev1ac.VolumeProjectionApplyConfiguration{
		corev1ac.VolumeProjection().WithConfigMap(corev1ac.ConfigMapProjection().WithName(DirectoryName).WithOptional(true)),
	}
	for _, sh := range directoryShards() {
		sources = append(sources, corev1ac.VolumeProjection().WithConfigMap(
			corev1ac.ConfigMapProjection().WithName(sh.configMap).WithOptional(true)))
	}
	return []*corev1ac.VolumeApplyConfiguration{
		corev1ac.Volume().WithName("directory").
			WithProjected(corev1ac.ProjectedVolumeSource().WithSources(sources...)),
		corev1ac.Volume().WithName("app-credentials").
			WithSecret(corev1ac.SecretVolumeSource().WithSecretName(AppCredentialsName).WithOptional(true).WithDefaultMode(0o440)),
	}
}

// directoryMounts mount directoryVolumes into the app container.
func (d Desired) directoryMounts() []*corev1ac.VolumeMountApplyConfiguration {
	return []*corev1ac.VolumeMountApplyConfiguration{
		corev1ac.VolumeMount().WithName("directory").WithMountPath(directoryMountPath).WithReadOnly(true),
		corev1ac.VolumeMount().WithName("app-credentials").WithMountPath(credentialsMountPath).WithReadOnly(true),
	}
}

// AppCredentialsSecret holds the decrypted OAuth client credentials of the tenant's applications,
// keyed <appId>.clientId and <appId>.clientSecret (the bridge admits only appIds made of
// letters, digits, '-', '_' and '.', which Secret keys allow).
func (d Desired) AppCredentialsSecret(secrets map[string]string) *corev1ac.SecretApplyConfiguration {
	labels := d.Labels()
	labels[tenantryv1alpha1.LabelSecretRole] = tenantryv1alpha1.SecretRoleAppCredentials
	data := map[string][]byte{}
	if t := d.Instance.Spec.Tenant; t != nil {
		for _, app := range t.Applications {
			data[app.AppID+".clientId"] = []byte(app.ClientID)
			data[app.AppID+".clientSecret"] = []byte(secrets[app.AppID])
		}
	}
	return corev1ac.Secret(AppCredentialsName, d.namespace()).
		WithLabels(labels).
		WithOwnerReferences(d.ownerRef()).
		WithType(corev1.SecretTypeOpaque).
		WithData(data)
}

// directoryIndex is index.json: the bound tenant and the shard files that exist.
type directoryIndex struct {
	TenantID   string `json:"tenantId"`
	TenantCode string `json:"tenantCode,omitempty"`
	Name       string `json:"name,omitempty"`
	DomainName string `json:"domainName,omitempty"`
	// Users and Orgs list the users-NN.json and orgs-NN.json files present, sorted.
	Users []string `json:"userFiles"`
	Orgs  []string `json:"orgFiles"`
	// UserCount and OrgCount total the shards listed.
	UserCount int `json:"userCount"`
	OrgCount  int `json:"orgCount"`
}

// DirectoryIndexConfigMap is the ConfigMap tenant-directory holding index.json: the bound
// tenant's id, code, name and login domain (tenantSync) and the shard files present.
func (d Desired) DirectoryIndexConfigMap(index directoryIndex) (*corev1ac.ConfigMapApplyConfiguration, error) {
	if t := d.Instance.Spec.Tenant; t != nil {
		index.TenantID, index.TenantCode, index.Name, index.DomainName = t.TenantID, t.TenantCode, t.Name, t.DomainName
	}
	sort.Strings(index.Users)
	sort.Strings(index.Orgs)
	b, err := json.Marshal(index)
	if err != nil {
		return nil, fmt.Errorf("encoding directory index: %w", err)
	}
	return corev1ac.ConfigMap(DirectoryName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithData(map[string]string{directoryIndexFile: string(b)}), nil
}

// DirectoryShardConfigMap projects one directory shard as users-NN.json (a JSON array of users
// sorted by appId, then userName) or orgs-NN.json (departments sorted by orgCode), without the
// bridge's ordering records, so that the same directory always yields the same bytes.
func (d Desired) DirectoryShardConfigMap(dir *tenantryv1alpha1.TenantDirectory) (*corev1ac.ConfigMapApplyConfiguration, error) {
	var (
		data []byte
		err  error
	)
	if dir.Spec.Part == tenantryv1alpha1.DirectoryOrgs {
		orgs := make([]tenantryv1alpha1.DirectoryOrg, len(dir.Spec.Orgs))
		for i, o := range dir.Spec.Orgs {
			o.SyncedAt = nil
			orgs[i] = o
		}
		sort.Slice(orgs, func(i, j int) bool { return orgs[i].OrgCode < orgs[j].OrgCode })
		data, err = json.Marshal(orgs)
	} else {
		users := make([]tenantryv1alpha1.DirectoryUser, len(dir.Spec.Users))
		for i, u := range dir.Spec.Users {
			u.SyncedAt = nil
			users[i] = u
		}
		sort.Slice(users, func(i, j int) bool {
			if users[i].AppID != users[j].AppID {
				return users[i].AppID < users[j].AppID
			}
			return users[i].UserName < users[j].UserName
		})
		data, err = json.Marshal(users)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding directory shard: %w", err)
	}
	index := int(dir.Spec.Shard)
	return corev1ac.ConfigMap(directoryShardConfigMapName(dir.Spec.Part, index), d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithData(map[string]string{directoryShardFile(dir.Spec.Part, index): string(data)}), nil
}

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

package controllers_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

// shard is a directory shard of instance for tenant, as the bridge writes it.
func shard(instance, tenant string, part tenantryv1alpha1.DirectoryPart, index int, users []tenantryv1alpha1.DirectoryUser, orgs []tenantryv1alpha1.DirectoryOrg) *tenantryv1alpha1.TenantDirectory {
	return &tenantryv1alpha1.TenantDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: tenantryv1alpha1.DirectoryShardName(instance, part, index),
			Labels: map[string]string{tenantryv1alpha1.LabelInstance: instance}},
		Spec: tenantryv1alpha1.TenantDirectorySpec{InstanceName: instance, Part: part, Shard: int32(index), TenantID: tenant, //nolint:gosec // small
			Users: users, Orgs: orgs, UserCount: int32(len(users)), OrgCount: int32(len(orgs))}, //nolint:gosec // bounded
	}
}

func configMap(g Gomega, instance, name string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{}
	g.ExpectWithOffset(1, k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: name}, cm)).To(Succeed())
	return cm
}

func configMapGone(g Gomega, instance, name string) {
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: name}, &corev1.ConfigMap{})
	g.ExpectWithOffset(1, apierrors.IsNotFound(err)).To(BeTrue(), "ConfigMap %s: %v", name, err)
}

func directoryIndex(g Gomega, instance string) controllers.DirectoryIndex {
	var idx controllers.DirectoryIndex
	g.ExpectWithOffset(1, json.Unmarshal([]byte(configMap(g, instance, controllers.DirectoryName).Data["index.json"]), &idx)).To(Succeed())
	return idx
}

func TestDirectoryShardsOfTheBoundTenantAreProjected(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ti := newInstance("dirs1", "SKU-DIRS")
	ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "t-1", TenantCode: "huawei", Name: "Example", DomainName: "https://x.example.com"}
	create(t, newPlan("dirs-plan", "SKU-DIRS"), ti)
	synced := metav1.NewMicroTime(metav1.Now().Time)
	create(t,
		shard("dirs1", "t-1", tenantryv1alpha1.DirectoryUsers, 3, []tenantryv1alpha1.DirectoryUser{
			{AppID: "app1", UserName: "zoe", Role: "admin", Enabled: true, Mobile: "+86 138 0000 0000", SyncedAt: &synced},
			{AppID: "app1", UserName: "adam", Role: "user", SyncedAt: &synced},
		}, nil),
		shard("dirs1", "t-1", tenantryv1alpha1.DirectoryOrgs, 5, nil, []tenantryv1alpha1.DirectoryOrg{{OrgCode: "rd", OrgName: "R&D", SyncedAt: &synced}}),
		shard("dirs1", "t-other", tenantryv1alpha1.DirectoryUsers, 4, []tenantryv1alpha1.DirectoryUser{{AppID: "app1", UserName: "eve"}}, nil),
	)
	g.Eventually(func(g Gomega) {
		users := configMap(g, "dirs1", "tenant-directory-users-03")
		g.Expect(users.Data).To(Equal(map[string]string{"users-03.json": `[{"appId":"app1","userName":"adam","role":"user"},` +
			`{"appId":"app1","userName":"zoe","role":"admin","enabled":true,"mobile":"+86 138 0000 0000"}]`}))
		g.Expect(configMap(g, "dirs1", "tenant-directory-orgs-05").Data).To(Equal(map[string]string{"orgs-05.json": `[{"orgCode":"rd","orgName":"R\u0026D"}]`}))
		g.Expect(directoryIndex(g, "dirs1")).To(Equal(controllers.DirectoryIndex{TenantID: "t-1", TenantCode: "huawei", Name: "Example",
			DomainName: "https://x.example.com", Users: []string{"users-03.json"}, Orgs: []string{"orgs-05.json"}, UserCount: 2, OrgCount: 1}))
	}).Should(Succeed())
	configMapGone(g, "dirs1", "tenant-directory-users-04") // another tenant's shard is never projected

	// The app mounts every shard slot through one projected volume, and the credentials.
	var dep *appsv1.Deployment // applied after the directory, in the same reconcile
	g.Eventually(func(g Gomega) { dep = deployment(g, "dirs1") }).Should(Succeed())
	var directory, credentials *corev1.Volume
	for i, v := range dep.Spec.Template.Spec.Volumes {
		switch v.Name {
		case "directory":
			directory = &dep.Spec.Template.Spec.Volumes[i]
		case "app-credentials":
			credentials = &dep.Spec.Template.Spec.Volumes[i]
		}
	}
	g.Expect(directory).NotTo(BeNil())
	g.Expect(directory.Projected.Sources).To(HaveLen(1 + tenantryv1alpha1.DirectoryUserShards + tenantryv1alpha1.DirectoryOrgShards))
	for _, s := range directory.Projected.Sources {
		g.Expect(s.ConfigMap).NotTo(BeNil())
		g.Expect(*s.ConfigMap.Optional).To(BeTrue())
	}
	g.Expect(directory.Projected.Sources).To(ContainElement(HaveField("ConfigMap.Name", "tenant-directory-orgs-15")))
	g.Expect(credentials).NotTo(BeNil())
	g.Expect(credentials.Secret.SecretName).To(Equal(controllers.AppCredentialsName))
	g.Expect(*credentials.Secret.Optional).To(BeTrue())
	g.Expect(dep.Spec.Template.Spec.Containers[0].VolumeMounts).To(ContainElements(
		HaveField("MountPath", "/var/run/tenantry/directory"), HaveField("MountPath", "/var/run/tenantry/credentials")))
	template := dep.Spec.Template.DeepCopy()

	// Rebinding: the other tenant's shard is projected, the first tenant's go.
	updateInstance(t, "dirs1", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "t-other"}
	})
	g.Eventually(func(g Gomega) {
		g.Expect(configMap(g, "dirs1", "tenant-directory-users-04").Data["users-04.json"]).To(Equal(`[{"appId":"app1","userName":"eve"}]`))
		configMapGone(g, "dirs1", "tenant-directory-users-03")
		configMapGone(g, "dirs1", "tenant-directory-orgs-05")
		g.Expect(directoryIndex(g, "dirs1")).To(Equal(controllers.DirectoryIndex{TenantID: "t-other", Users: []string{"users-04.json"}, Orgs: []string{}, UserCount: 1}))
	}).Should(Succeed())
	g.Expect(deployment(g, "dirs1").Spec.Template).To(Equal(*template), "shards coming and going never change the pod template")

	// A shard deleted (by the bridge, on a rebinding) leaves the app; with no tenant, nothing is projected.
	g.Expect(k8s.Delete(ctx, shard("dirs1", "", tenantryv1alpha1.DirectoryUsers, 4, nil, nil))).To(Succeed())
	g.Eventually(func(g Gomega) {
		configMapGone(g, "dirs1", "tenant-directory-users-04")
		g.Expect(directoryIndex(g, "dirs1").Users).To(BeEmpty())
	}).Should(Succeed())
	updateInstance(t, "dirs1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Tenant = nil })
	g.Eventually(func(g Gomega) { configMapGone(g, "dirs1", controllers.DirectoryName) }).Should(Succeed())
}

// TestLargeDirectoryIsProjected: 10,000 users and 5,000 departments spread over every shard are
// projected, and no shard object nor ConfigMap comes near the API server's limits (1.5 MiB per
// request, 1 MiB per ConfigMap).
func TestLargeDirectoryIsProjected(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ti := newInstance("dirs2", "SKU-DIRS2")
	ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "t-2"}
	create(t, newPlan("dirs2-plan", "SKU-DIRS2"), ti)
	synced := metav1.NewMicroTime(metav1.Now().Time)
	users := make([][]tenantryv1alpha1.DirectoryUser, tenantryv1alpha1.DirectoryUserShards)
	for n := range 10000 {
		i := n % tenantryv1alpha1.DirectoryUserShards
		users[i] = append(users[i], tenantryv1alpha1.DirectoryUser{AppID: "app-1", UserName: fmt.Sprintf("user-%05d", n), Name: fmt.Sprintf("用户 %05d", n),
			OrgCode: fmt.Sprintf("org-%04d", n%5000), Role: "user", Enabled: true, Mobile: "+86 138 0000 0000", Email: fmt.Sprintf("user-%05d@example.com", n),
			Position: "Engineer", EmployeeCode: fmt.Sprintf("E%05d", n), EmployeeType: "1", SyncedAt: &synced})
	}
	orgs := make([][]tenantryv1alpha1.DirectoryOrg, tenantryv1alpha1.DirectoryOrgShards)
	for n := range 5000 {
		i := n % tenantryv1alpha1.DirectoryOrgShards
		orgs[i] = append(orgs[i], tenantryv1alpha1.DirectoryOrg{OrgCode: fmt.Sprintf("org-%04d", n), OrgName: fmt.Sprintf("部门 %04d", n),
			ParentCode: fmt.Sprintf("org-%04d", n/10), SyncedAt: &synced})
	}
	for i := range users {
		create(t, shard("dirs2", "t-2", tenantryv1alpha1.DirectoryUsers, i, users[i], nil))
	}
	for i := range orgs {
		create(t, shard("dirs2", "t-2", tenantryv1alpha1.DirectoryOrgs, i, nil, orgs[i]))
	}
	var list tenantryv1alpha1.TenantDirectoryList
	g.Expect(k8s.List(ctx, &list, client.MatchingLabels{tenantryv1alpha1.LabelInstance: "dirs2"})).To(Succeed())
	g.Expect(list.Items).To(HaveLen(tenantryv1alpha1.DirectoryUserShards + tenantryv1alpha1.DirectoryOrgShards))
	for _, d := range list.Items {
		b, err := json.Marshal(d)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(len(b)).To(BeNumerically("<", 512*1024), "TenantDirectory %s takes %d bytes", d.Name, len(b))
	}
	g.Eventually(func(g Gomega) {
		idx := directoryIndex(g, "dirs2")
		g.Expect(idx.UserCount).To(Equal(10000))
		g.Expect(idx.OrgCount).To(Equal(5000))
		g.Expect(idx.Users).To(HaveLen(tenantryv1alpha1.DirectoryUserShards))
		g.Expect(idx.Orgs).To(HaveLen(tenantryv1alpha1.DirectoryOrgShards))
	}).Should(Succeed())
	projectedUsers, projectedOrgs := 0, 0
	for i := range tenantryv1alpha1.DirectoryUserShards {
		cm := configMap(g, "dirs2", controllers.DirectoryShardConfigMapName(tenantryv1alpha1.DirectoryUsers, i))
		data := cm.Data[controllers.DirectoryShardFile(tenantryv1alpha1.DirectoryUsers, i)]
		g.Expect(len(data)).To(BeNumerically("<", 512*1024), "ConfigMap %s holds %d bytes", cm.Name, len(data))
		var got []tenantryv1alpha1.DirectoryUser
		g.Expect(json.Unmarshal([]byte(data), &got)).To(Succeed())
		projectedUsers += len(got)
	}
	for i := range tenantryv1alpha1.DirectoryOrgShards {
		cm := configMap(g, "dirs2", controllers.DirectoryShardConfigMapName(tenantryv1alpha1.DirectoryOrgs, i))
		data := cm.Data[controllers.DirectoryShardFile(tenantryv1alpha1.DirectoryOrgs, i)]
		g.Expect(len(data)).To(BeNumerically("<", 512*1024), "ConfigMap %s holds %d bytes", cm.Name, len(data))
		var got []tenantryv1alpha1.DirectoryOrg
		g.Expect(json.Unmarshal([]byte(data), &got)).To(Succeed())
		projectedOrgs += len(got)
	}
	g.Expect(projectedUsers).To(Equal(10000))
	g.Expect(projectedOrgs).To(Equal(5000))
}

// TestDirectoryKeyInTwoShardsIsProjectedOnce: two bridge calls racing to place the same new key
// may leave it in two shards, and a removal in another shard than a late add. The projection
// keeps the copy synced last and nothing synced at or before a removal of its key.
func TestDirectoryKeyInTwoShardsIsProjectedOnce(t *testing.T) {
	g := NewWithT(t)
	ti := newInstance("dirs3", "SKU-DIRS3")
	ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "t-3"}
	create(t, newPlan("dirs3-plan", "SKU-DIRS3"), ti)
	at := func(s int) *metav1.MicroTime {
		m := metav1.NewMicroTime(metav1.Now().Time.Truncate(time.Second).Add(time.Duration(s) * time.Second))
		return &m
	}
	removed := shard("dirs3", "t-3", tenantryv1alpha1.DirectoryUsers, 1, []tenantryv1alpha1.DirectoryUser{
		{AppID: "app1", UserName: "ann", Name: "Ann new", SyncedAt: at(7)},
		{AppID: "app1", UserName: "ben", Name: "Ben", SyncedAt: at(2)},
	}, nil)
	removed.Spec.Removed = []tenantryv1alpha1.DirectoryRemoval{{AppID: "app1", UserName: "cid", RemovedAt: *at(5)}}
	orgs := shard("dirs3", "t-3", tenantryv1alpha1.DirectoryOrgs, 1, nil, []tenantryv1alpha1.DirectoryOrg{{OrgCode: "rd", OrgName: "R&D old", SyncedAt: at(1)}})
	create(t,
		shard("dirs3", "t-3", tenantryv1alpha1.DirectoryUsers, 0, []tenantryv1alpha1.DirectoryUser{
			{AppID: "app1", UserName: "ann", Name: "Ann old", SyncedAt: at(3)},
			{AppID: "app1", UserName: "ben", Name: "Ben twin", SyncedAt: at(2)},
			{AppID: "app1", UserName: "cid", Name: "Cid", SyncedAt: at(4)},
		}, nil),
		removed,
		shard("dirs3", "t-3", tenantryv1alpha1.DirectoryOrgs, 0, nil, []tenantryv1alpha1.DirectoryOrg{{OrgCode: "rd", OrgName: "R&D", SyncedAt: at(6)}}),
		orgs,
	)
	g.Eventually(func(g Gomega) {
		g.Expect(configMap(g, "dirs3", "tenant-directory-users-00").Data).To(Equal(map[string]string{
			"users-00.json": `[{"appId":"app1","userName":"ben","name":"Ben twin"}]`}), "the tie goes to the first shard; cid was removed after")
		g.Expect(configMap(g, "dirs3", "tenant-directory-users-01").Data).To(Equal(map[string]string{
			"users-01.json": `[{"appId":"app1","userName":"ann","name":"Ann new"}]`}))
		g.Expect(configMap(g, "dirs3", "tenant-directory-orgs-00").Data).To(Equal(map[string]string{"orgs-00.json": `[{"orgCode":"rd","orgName":"R\u0026D"}]`}))
		g.Expect(configMap(g, "dirs3", "tenant-directory-orgs-01").Data).To(Equal(map[string]string{"orgs-01.json": `[]`}))
		idx := directoryIndex(g, "dirs3")
		g.Expect(idx.UserCount).To(Equal(2))
		g.Expect(idx.OrgCount).To(Equal(1))
	}).Should(Succeed())
}

func encryptForMerchant(g Gomega, plain string) string {
	ciphertext, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &merchantKey.PublicKey, []byte(plain), nil)
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return base64.StdEncoding.EncodeToString(ciphertext)
}

func TestApplicationCredentialsLeaveWithTheirApplication(t *testing.T) {
	g := NewWithT(t)
	ti := newInstance("creds1", "SKU-CREDS")
	ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "t-1", Applications: []tenantryv1alpha1.TenantApplication{
		{AppID: "app-1", ClientID: "client-1", EncryptedClientSecret: encryptForMerchant(g, "secret-1")},
		{AppID: "app.2", ClientID: "client-2", EncryptedClientSecret: encryptForMerchant(g, "secret-2")},
	}}
	create(t, newPlan("creds-plan", "SKU-CREDS"), ti)
	g.Eventually(func(g Gomega) {
		s := secret(g, tenantryv1alpha1.NamespaceName("creds1"), controllers.AppCredentialsName)
		g.Expect(s.Data).To(Equal(map[string][]byte{"app-1.clientId": []byte("client-1"), "app-1.clientSecret": []byte("secret-1"),
			"app.2.clientId": []byte("client-2"), "app.2.clientSecret": []byte("secret-2")}))
	}).Should(Succeed())

	updateInstance(t, "creds1", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Spec.Tenant.Applications = ti.Spec.Tenant.Applications[1:]
	})
	g.Eventually(func(g Gomega) {
		g.Expect(secret(g, tenantryv1alpha1.NamespaceName("creds1"), controllers.AppCredentialsName).Data).To(Equal(map[string][]byte{
			"app.2.clientId": []byte("client-2"), "app.2.clientSecret": []byte("secret-2")}))
	}).Should(Succeed())

	// The last application removed (or the tenant): the Secret goes, and the files with it.
	updateInstance(t, "creds1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Tenant.Applications = nil })
	g.Eventually(func(g Gomega) {
		err := k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName("creds1"), Name: controllers.AppCredentialsName}, &corev1.Secret{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%v", err)
	}).Should(Succeed())
}

// TestDirectoryShardValidation proves each schema rule of TenantDirectory on a real API server.
func TestDirectoryShardValidation(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	user := []tenantryv1alpha1.DirectoryUser{{AppID: "a", UserName: "u"}}
	tooMany := make([]tenantryv1alpha1.DirectoryUser, tenantryv1alpha1.MaxDirectoryShardEntries+1)
	for i := range tooMany {
		tooMany[i] = tenantryv1alpha1.DirectoryUser{AppID: "a", UserName: fmt.Sprintf("u%d", i)}
	}
	org := []tenantryv1alpha1.DirectoryOrg{{OrgCode: "o"}}
	for name, d := range map[string]*tenantryv1alpha1.TenantDirectory{
		"users in an Orgs shard":    shard("val1", "t", tenantryv1alpha1.DirectoryOrgs, 1, user, nil),
		"orgs in a Users shard":     shard("val1", "t", tenantryv1alpha1.DirectoryUsers, 2, nil, org),
		"an Orgs shard past 15":     shard("val1", "t", tenantryv1alpha1.DirectoryOrgs, 16, nil, org),
		"a shard past 31":           shard("val1", "t", tenantryv1alpha1.DirectoryUsers, 32, user, nil),
		"an instance name unfit":    shard("Val_1", "t", tenantryv1alpha1.DirectoryUsers, 3, user, nil),
		"no tenant":                 shard("val1", "", tenantryv1alpha1.DirectoryUsers, 4, user, nil),
		"an unknown part":           shard("val1", "t", "Apps", 5, nil, nil),
		"more than 1,000 users":     shard("val1", "t", tenantryv1alpha1.DirectoryUsers, 6, tooMany, nil),
		"a user without userName":   shard("val1", "t", tenantryv1alpha1.DirectoryUsers, 7, []tenantryv1alpha1.DirectoryUser{{AppID: "a"}}, nil),
		"a department without code": shard("val1", "t", tenantryv1alpha1.DirectoryOrgs, 8, nil, []tenantryv1alpha1.DirectoryOrg{{OrgName: "x"}}),
	} {
		d.Name = fmt.Sprintf("val1-bad-%d", len(name))
		err := k8s.Create(ctx, d, client.DryRunAll)
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s: %v", name, err)
	}

	good := shard("val2", "t", tenantryv1alpha1.DirectoryUsers, 9, user, nil)
	create(t, good)
	for name, mutate := range map[string]func(*tenantryv1alpha1.TenantDirectory){
		"instanceName changed": func(d *tenantryv1alpha1.TenantDirectory) { d.Spec.InstanceName = "val3" },
		"part changed": func(d *tenantryv1alpha1.TenantDirectory) {
			d.Spec.Part, d.Spec.Users = tenantryv1alpha1.DirectoryOrgs, nil
		},
		"shard changed": func(d *tenantryv1alpha1.TenantDirectory) { d.Spec.Shard = 10 },
	} {
		d := &tenantryv1alpha1.TenantDirectory{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(good), d)).To(Succeed())
		mutate(d)
		err := k8s.Update(ctx, d, client.DryRunAll)
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s: %v", name, err)
	}
}

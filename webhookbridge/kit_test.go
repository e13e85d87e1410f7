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
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

const tenantID = "68cbc86abc2018ab880d92f36422fa0e"

// shards lists the directory shards of an instance.
func shards(g Gomega, id string) []tenantryv1alpha1.TenantDirectory {
	var list tenantryv1alpha1.TenantDirectoryList
	g.ExpectWithOffset(1, k8s.List(context.Background(), &list, client.MatchingLabels{tenantryv1alpha1.LabelInstance: id})).To(Succeed())
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items
}

// dirUsers is every user of an instance's directory, without the bridge's ordering times.
func dirUsers(g Gomega, id string) []tenantryv1alpha1.DirectoryUser {
	var out []tenantryv1alpha1.DirectoryUser
	for _, d := range shards(g, id) {
		for _, u := range d.Spec.Users {
			u.SyncedAt = nil
			out = append(out, u)
		}
	}
	return out
}

// dirOrgs is every department of an instance's directory, without the bridge's ordering times.
func dirOrgs(g Gomega, id string) []tenantryv1alpha1.DirectoryOrg {
	var out []tenantryv1alpha1.DirectoryOrg
	for _, d := range shards(g, id) {
		for _, o := range d.Spec.Orgs {
			o.SyncedAt = nil
			out = append(out, o)
		}
	}
	return out
}

func TestKitTenantSync(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, o := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	body := simulator.TenantSync{InstanceID: id, OrderID: o.OrderID, TenantID: tenantID, TenantCode: "huawei",
		Name: "Example Co", DomainName: "https://example.tenantaccount.com", Flag: simulator.FlagAdd}

	a, err := market(t, at(now)).TenantSync(ctx, body)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.Tenant).To(Equal(&tenantryv1alpha1.Tenant{TenantID: tenantID, TenantCode: "huawei",
		Name: "Example Co", DomainName: "https://example.tenantaccount.com"}))
	g.Expect(ti.Spec.Marketplace.TenantSetAt.Time).To(BeTemporally("==", now))
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonTenantSynced))

	// Repeated add: same state.
	a, err = market(t, at(now)).TenantSync(ctx, body)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Tenant).To(Equal(ti.Spec.Tenant))

	body.Name, body.Flag = "Example Co Ltd", simulator.FlagModify
	a, err = market(t, at(now.Add(time.Second))).TenantSync(ctx, body)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Tenant.Name).To(Equal("Example Co Ltd"))

	// Older than the last applied tenantSync: ignored.
	before := snapshot(g)
	body.Name = "Stale"
	a, err = market(t, at(now.Add(-time.Second))).TenantSync(ctx, body)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(snapshot(g)).To(Equal(before))

	// Delete, and delete again.
	body.Flag = simulator.FlagDelete
	for i := range 2 {
		a, err = market(t, at(now.Add(time.Duration(2+i)*time.Second))).TenantSync(ctx, body)
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(getInstance(g, id).Spec.Tenant).To(BeNil())
	}
	// An add sent before the delete, delivered after it, does not bring the tenant back.
	body.Flag = simulator.FlagAdd
	a, err = market(t, at(now.Add(1500*time.Millisecond))).TenantSync(ctx, body)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Tenant).To(BeNil())

	// The merchant testing its kit credentials: no instance, nothing to do.
	before = snapshot(g)
	a, err = market(t).TenantSync(ctx, simulator.TenantSync{TenantID: tenantID, Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	// An add for an unknown instance.
	a, err = market(t).TenantSync(ctx, simulator.TenantSync{InstanceID: "ti-00000000000000000000", TenantID: tenantID, Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	// A timeStamp from the future would make every later sync look stale: refused.
	a, err = market(t).KitCall(ctx, "tenantSync", []byte(fmt.Sprintf(`{"instanceId":%q,"tenantId":%q,"name":"Future","flag":1,"testFlag":0,"timeStamp":%q}`,
		id, tenantID, protocol.FormatKitTimeStamp(time.Now().Add(2*time.Hour)))))
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))
}

func TestKitApplicationSync(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	a, err := market(t, at(now)).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Name: "Example Co", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)

	app := simulator.ApplicationSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", ClientID: "client-1",
		ClientSecret: "plain-client-secret", Flag: simulator.FlagAdd}
	for i := range 2 { // a repeated add does not duplicate
		a, err = market(t, at(now.Add(time.Duration(1+i)*time.Second))).ApplicationSync(ctx, app)
		expectCode(g, a, err, protocol.CodeSuccess)
	}
	ti := getInstance(g, id)
	apps := ti.Spec.Tenant.Applications
	g.Expect(apps).To(HaveLen(1))
	g.Expect(apps[0].AppID).To(Equal("app-1"))
	g.Expect(apps[0].ClientID).To(Equal("client-1"))
	g.Expect(apps[0].EncryptedClientSecret).NotTo(ContainSubstring("plain-client-secret"), "never plaintext in a custom resource")
	secret, err := protocol.DecryptClientSecret(merchantKey, apps[0].EncryptedClientSecret)
	g.Expect(err).NotTo(HaveOccurred(), "the ciphertext is stored exactly as received")
	g.Expect(secret).To(Equal("plain-client-secret"))
	g.Expect(ti.Spec.Tenant.Name).To(Equal("Example Co"), "tenantSync's fields are kept")
	g.Expect(ti.Spec.Marketplace.TenantSetAt.Time).To(BeTemporally("==", now), "an application does not move the tenant's time")
	g.Expect(policy.ParseAppRecords(ti.Annotations[policy.AnnotationKitApplications])).To(HaveKey("app-1"))

	// A ciphertext the merchant key cannot open is refused, nothing stored.
	before := snapshot(g)
	bad := fmt.Sprintf(`{"instanceId":%q,"tenantId":%q,"appId":"app-2","clientId":"client-2","clientSecret":"bm90LWEtY2lwaGVydGV4dA==","flag":1,"testFlag":0,"timeStamp":%q}`,
		id, tenantID, protocol.FormatKitTimeStamp(now.Add(3*time.Second)))
	a, err = market(t).KitCall(ctx, "applicationSync", []byte(bad))
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))

	// Another tenant's application: refused.
	other := app
	other.TenantID = "another-tenant"
	a, err = market(t, at(now.Add(4*time.Second))).ApplicationSync(ctx, other)
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))

	// An appId that cannot be a Secret key: refused.
	slash := app
	slash.AppID = "app/1"
	a, err = market(t, at(now.Add(4*time.Second))).ApplicationSync(ctx, slash)
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))

	// Delete, and delete again.
	for i := range 2 {
		a, err = market(t, at(now.Add(time.Duration(5+i)*time.Second))).KitCall(ctx, "applicationSync", []byte(fmt.Sprintf(
			`{"instanceId":%q,"tenantId":%q,"appId":"app-1","flag":0,"testFlag":0,"timeStamp":%q}`,
			id, tenantID, protocol.FormatKitTimeStamp(now.Add(time.Duration(5+i)*time.Second)))))
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(getInstance(g, id).Spec.Tenant.Applications).To(BeEmpty())
	}
	// The add sent before the delete, delivered after it, does not bring the application back.
	a, err = market(t, at(now.Add(4500*time.Millisecond))).ApplicationSync(ctx, app)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Tenant.Applications).To(BeEmpty())
}

func TestKitDirectorySyncs(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	ti := getInstance(g, id)
	now := time.Now().Truncate(time.Millisecond)
	step := 0
	next := func() *simulator.Client { step++; return market(t, at(now.Add(time.Duration(step)*time.Second))) }

	alice := simulator.KitUser{UserName: "alice", Name: "Alice", OrgCode: "rd", Role: "admin", Enable: "true",
		Mobile: "+86 138-0000 0000", Email: "alice@example.com"}
	bob := simulator.KitUser{UserName: "bob", Name: "Bob", OrgCode: "rd", Role: "user", Enable: "false"}
	auth := simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Users: []simulator.KitUser{alice, bob}, Flag: simulator.FlagAdd}

	for range 2 { // repeated adds do not duplicate
		a, err := next().AuthSync(ctx, auth)
		expectCode(g, a, err, protocol.CodeSuccess)
	}
	for _, d := range shards(g, id) {
		g.Expect(d.Name).To(MatchRegexp(`^` + id + `-users-\d\d$`))
		g.Expect(d.Spec.InstanceName).To(Equal(id))
		g.Expect(d.Spec.TenantID).To(Equal(tenantID))
		g.Expect(d.Spec.UserCount).To(Equal(int32(len(d.Spec.Users))))
		g.Expect(d.OwnerReferences).To(HaveLen(1))
		g.Expect(d.OwnerReferences[0].APIVersion).To(Equal("tenantry.io/v1alpha1"))
		g.Expect(d.OwnerReferences[0].Kind).To(Equal("TenantInstance"))
		g.Expect(d.OwnerReferences[0].Name).To(Equal(id))
		g.Expect(d.OwnerReferences[0].UID).To(Equal(ti.UID))
		g.Expect(*d.OwnerReferences[0].BlockOwnerDeletion).To(BeFalse())
	}
	g.Expect(dirUsers(g, id)).To(ConsistOf(
		tenantryv1alpha1.DirectoryUser{AppID: "app-1", UserName: "alice", Name: "Alice", OrgCode: "rd", Role: "admin", Enabled: true,
			Mobile: "+86 138-0000 0000", Email: "alice@example.com"},
		tenantryv1alpha1.DirectoryUser{AppID: "app-1", UserName: "bob", Name: "Bob", OrgCode: "rd", Role: "user"},
	))
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonUsersSynced))

	// Modify, then remove bob twice, then cancel alice's authorisation.
	bob.Enable = "true"
	a, err := next().AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Users: []simulator.KitUser{bob}, Flag: simulator.FlagModify})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirUsers(g, id)).To(ContainElement(HaveField("Enabled", BeTrue())))
	for range 2 {
		a, err = next().AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Users: []simulator.KitUser{bob}, Flag: simulator.FlagDelete})
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(dirUsers(g, id)).To(ConsistOf(HaveField("UserName", "alice")))
	}
	a, err = next().AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Users: []simulator.KitUser{alice}, Flag: simulator.FlagCancel})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirUsers(g, id)).To(BeEmpty())

	// Departments: add twice, modify, delete twice.
	org := simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "rd", OrgName: "R&D", Flag: simulator.FlagAdd}
	for range 2 {
		a, err = next().SingleOrgSync(ctx, org)
		expectCode(g, a, err, protocol.CodeSuccess)
	}
	org2 := simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "ops", OrgName: "Ops", ParentCode: "rd", Flag: simulator.FlagAdd}
	a, err = next().SingleOrgSync(ctx, org2)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirOrgs(g, id)).To(ConsistOf(
		tenantryv1alpha1.DirectoryOrg{OrgCode: "rd", OrgName: "R&D"},
		tenantryv1alpha1.DirectoryOrg{OrgCode: "ops", OrgName: "Ops", ParentCode: "rd"},
	))
	org.OrgName, org.Flag = "Research", simulator.FlagModify
	a, err = next().SingleOrgSync(ctx, org)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirOrgs(g, id)).To(ContainElement(tenantryv1alpha1.DirectoryOrg{OrgCode: "rd", OrgName: "Research"}))
	org2.Flag = simulator.FlagDelete
	for range 2 {
		a, err = next().SingleOrgSync(ctx, org2)
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(dirOrgs(g, id)).To(ConsistOf(HaveField("OrgCode", "rd")))
	}

	// The full list, sent as a JSON string, replaces everything.
	a, err = next().AllOrgSync(ctx, simulator.AllOrgSync{InstanceID: id, TenantID: tenantID, OrgListAsString: true, Orgs: []simulator.Org{
		{OrgCode: "hq", OrgName: "总部"}, {OrgCode: "sales", OrgName: "Sales", ParentCode: "hq"},
	}})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirOrgs(g, id)).To(ConsistOf(
		tenantryv1alpha1.DirectoryOrg{OrgCode: "hq", OrgName: "总部"},
		tenantryv1alpha1.DirectoryOrg{OrgCode: "sales", OrgName: "Sales", ParentCode: "hq"},
	))

	// A department sent before the full list that did not have it is not added afterwards;
	// another tenant's sync is refused.
	before := snapshot(g)
	a, err = market(t, at(now)).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "late", OrgName: "Late", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = next().TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Name: "Example", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	before["ti/"+id] = getInstance(g, id).ResourceVersion
	a, err = next().AllOrgSync(ctx, simulator.AllOrgSync{InstanceID: id, TenantID: "another-tenant", Orgs: []simulator.Org{{OrgCode: "x", OrgName: "X"}}})
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))
}

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
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// kitBody is a kit body with the common members, timeStamp at, and the extra members.
func kitBody(id string, at time.Time, testFlag int, extra string) []byte {
	return []byte(fmt.Sprintf(`{"instanceId":%q,"tenantId":%q,"testFlag":%d,"timeStamp":%q,%s}`,
		id, tenantID, testFlag, protocol.FormatKitTimeStamp(at), extra))
}

// The rules of docs/protocol.md §6.11 and §6.5 for kit calls, through signed calls.

func TestKitDeletesNeverFail(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	released, _ := buy(t, skuSmall)
	a, err := market(t).Release(ctx, released)
	expectCode(g, a, err, protocol.CodeSuccess)
	live, _ := buy(t, skuSmall)

	deletes := map[string]string{
		"tenantSync":        `"flag":0`,
		"applicationSync":   `"appId":"app-1","flag":0`,
		"authSync delete":   `"appId":"app-1","flag":0,"userList":[{"userName":"nobody"}]`,
		"authSync cancel":   `"appId":"app-1","flag":3,"userList":[{"userName":"nobody"}]`,
		"singleOrgSync":     `"orgCode":"nothing","flag":0`,
		"authSync no users": `"appId":"app-1","flag":3,"userList":[]`,
	}
	for _, id := range []string{"ti-00000000000000000001", released, live} {
		for name, extra := range deletes {
			kit, _, _ := strings.Cut(name, " ")
			a, err := market(t).KitCall(ctx, kit, kitBody(id, time.Now(), 0, extra))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess), "%s on %s: %s", name, id, a.Raw)
		}
	}
	// A delete for a tenant that is not the bound one changes nothing.
	a, err = market(t).TenantSync(ctx, simulator.TenantSync{InstanceID: live, TenantID: "bound-tenant", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	before := snapshot(g)
	for name, extra := range deletes {
		kit, _, _ := strings.Cut(name, " ")
		a, err := market(t).KitCall(ctx, kit, kitBody(live, time.Now(), 0, extra))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess), "%s for another tenant: %s", name, a.Raw)
	}
	g.Expect(snapshot(g)).To(Equal(before))
	g.Expect(getInstance(g, live).Spec.Tenant.TenantID).To(Equal("bound-tenant"))
}

func TestKitDebugCalls(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	a, err := market(t).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: "bound-tenant", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	before := snapshot(g)

	calls := []struct{ kit, extra string }{
		{"tenantSync", `"flag":1,"name":"Debug"`},
		{"applicationSync", `"appId":"app-1","clientId":"c","clientSecret":"bm90LWEtY2lwaGVydGV4dA==","flag":1`},
		{"authSync", `"appId":"app-1","flag":1,"userList":[{"userName":"u","name":"U","orgCode":"o","role":"user","enable":"true"}]`},
		{"singleOrgSync", `"orgCode":"o","orgName":"O","flag":1`},
		{"allOrgSync", `"orgInfoList":[{"orgCode":"o","orgName":"O"}]`},
	}
	// On an unknown instance and on one bound to another tenant, a debug call is answered as on
	// success and writes nothing; what a real call would refuse is a pre-flight finding.
	for _, target := range []string{"ti-00000000000000000002", id} {
		for _, c := range calls {
			a, err := market(t).KitCall(ctx, c.kit, kitBody(target, time.Now(), 1, c.extra))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess), "debug %s on %s: %s", c.kit, target, a.Raw)
		}
	}
	g.Expect(snapshot(g)).To(Equal(before), "a debug call never writes")
	g.Expect(events.count(id, webhookbridge.ReasonPreflightFinding)).To(BeNumerically(">=", 4),
		"the refusals a real call would meet are reported on the instance")

	// The same calls for real are refused: proof that the findings were real.
	a, err = market(t).KitCall(ctx, "singleOrgSync", kitBody(id, time.Now(), 0, calls[3].extra))
	expectCode(g, a, err, protocol.CodeInvalidParam)
	a, err = market(t).KitCall(ctx, "singleOrgSync", kitBody("ti-00000000000000000002", time.Now(), 0, calls[3].extra))
	expectCode(g, a, err, protocol.CodeInstanceNotFound)

	// A debug call is still validated like a real one.
	a, err = market(t).KitCall(ctx, "singleOrgSync", kitBody(id, time.Now(), 1, `"orgCode":"o","flag":"1"`))
	expectCode(g, a, err, protocol.CodeInvalidParam)

	// A debug call that would succeed writes nothing either.
	other, _ := buy(t, skuSmall)
	before = snapshot(g)
	for _, c := range calls[2:] {
		a, err := market(t).KitCall(ctx, c.kit, kitBody(other, time.Now(), 1, c.extra))
		expectCode(g, a, err, protocol.CodeSuccess)
	}
	g.Expect(snapshot(g)).To(Equal(before))
}

func TestKitCrossCallMembersAreRefused(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	before := snapshot(g)
	for _, c := range []struct{ kit, extra string }{
		{"tenantSync", `"flag":1,"name":"N","orgCode":"o"`},
		{"tenantSync", `"flag":1,"name":"N","userList":[]`},
		{"singleOrgSync", `"orgCode":"o","orgName":"O","flag":1,"clientSecret":"x"`},
		{"applicationSync", `"appId":"a","clientId":"c","clientSecret":"x","flag":0,"orgInfoList":[]`},
	} {
		a, err := market(t).KitCall(ctx, c.kit, kitBody(id, time.Now(), 0, c.extra))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a.ResultCode).To(Equal(protocol.CodeInvalidParam), "%s with %s: %s", c.kit, c.extra, a.Raw)
	}
	g.Expect(snapshot(g)).To(Equal(before))

	// Unknown members are accepted (and logged).
	a, err := market(t).KitCall(ctx, "tenantSync", kitBody(id, time.Now(), 0, `"flag":1,"name":"N","region":"cn-north-4"`))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Tenant.Name).To(Equal("N"))
}

func TestKitBatchWithOddStoredFields(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	users := make([]string, protocol.MaxKitUsers)
	for i := range users {
		users[i] = fmt.Sprintf(`{"userName":"user-%03d","name":"User %d","orgCode":"rd","role":"user","enable":"true","employeeType":1,"mobile":"+86 138 0000 %04d"}`, i, i, i)
	}
	users[7] = `{"userName":"odd","name":{"zh":"x"},"orgCode":42,"role":"owner","enable":"yes","employeeType":3,"employeeCode":1001,` +
		`"mobile":"+86-138 0000 0000 ext. 12345678901234567890123456789012345678901234567890","email":"` + strings.Repeat("e", 300) + `","hobby":"go"}`
	a, err := market(t).KitCall(ctx, "authSync", kitBody(id, time.Now(), 0, `"appId":"app-1","flag":1,"currentSyncTime":20260101,"userList":[`+strings.Join(users, ",")+`]`))
	expectCode(g, a, err, protocol.CodeSuccess)
	all := dirUsers(g, id)
	g.Expect(all).To(HaveLen(protocol.MaxKitUsers))
	g.Expect(all).To(ContainElement(tenantryv1alpha1.DirectoryUser{AppID: "app-1", UserName: "user-003", Name: "User 3", OrgCode: "rd",
		Role: "user", Enabled: true, EmployeeType: "1", Mobile: "+86 138 0000 0003"}))
	var odd tenantryv1alpha1.DirectoryUser
	for _, u := range all {
		if u.UserName == "odd" {
			odd = u
		}
	}
	g.Expect(odd.OrgCode).To(Equal("42"))
	g.Expect(odd.Role).To(BeEquivalentTo("owner"))
	g.Expect(odd.EmployeeType).To(Equal("3"))
	g.Expect(odd.EmployeeCode).To(Equal("1001"))
	g.Expect(odd.Name).To(BeEmpty())
	g.Expect(odd.Mobile).To(HaveLen(protocol.MaxKitPhoneLength))
	g.Expect(odd.Email).To(HaveLen(protocol.MaxKitEmailLength))
}

func TestKitOrderingPerKey(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	sec := func(s int) time.Time { return now.Add(time.Duration(s) * time.Second) }

	// applicationSync before its tenantSync: the tenant's code, name and domain still arrive.
	a, err := market(t, at(sec(5))).ApplicationSync(ctx, simulator.ApplicationSync{InstanceID: id, TenantID: tenantID, AppID: "app-1",
		ClientID: "c1", ClientSecret: "s1", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t, at(sec(1))).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, TenantCode: "huawei",
		Name: "Example Co", DomainName: "https://example.tenantaccount.com", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	tenant := getInstance(g, id).Spec.Tenant
	g.Expect(tenant.TenantCode).To(Equal("huawei"))
	g.Expect(tenant.Name).To(Equal("Example Co"))
	g.Expect(tenant.DomainName).To(Equal("https://example.tenantaccount.com"))
	g.Expect(tenant.Applications).To(ConsistOf(HaveField("AppID", "app-1")))

	// Department B, then an earlier A: A applies.
	a, err = market(t, at(sec(10))).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "b", OrgName: "B", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t, at(sec(9))).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "a", OrgName: "A", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirOrgs(g, id)).To(ConsistOf(HaveField("OrgCode", "a"), HaveField("OrgCode", "b")))
	// Within one key, the older change is ignored.
	a, err = market(t, at(sec(8))).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "b", OrgName: "Old B", Flag: simulator.FlagModify})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirOrgs(g, id)).To(ContainElement(tenantryv1alpha1.DirectoryOrg{OrgCode: "b", OrgName: "B"}))

	// User batch 2, then batch 1: batch 1's other users apply; its stale copy of a batch 2 user does not.
	u := func(name, display string) simulator.KitUser {
		return simulator.KitUser{UserName: name, Name: display, OrgCode: "a", Role: "user", Enable: "true"}
	}
	a, err = market(t, at(sec(20))).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagAdd,
		Users: []simulator.KitUser{u("carol", "Carol 2"), u("dave", "Dave")}})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t, at(sec(19))).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagAdd,
		Users: []simulator.KitUser{u("alice", "Alice"), u("bob", "Bob"), u("carol", "Carol 1")}})
	expectCode(g, a, err, protocol.CodeSuccess)
	names := map[string]string{}
	for _, x := range dirUsers(g, id) {
		names[x.UserName] = x.Name
	}
	g.Expect(names).To(Equal(map[string]string{"alice": "Alice", "bob": "Bob", "carol": "Carol 2", "dave": "Dave"}))

	// A delete, then a late add sent before it: the user stays deleted; so does a department.
	a, err = market(t, at(sec(30))).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagDelete,
		Users: []simulator.KitUser{u("dave", "")}})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t, at(sec(25))).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagModify,
		Users: []simulator.KitUser{u("dave", "Dave again")}})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirUsers(g, id)).NotTo(ContainElement(HaveField("UserName", "dave")))
	a, err = market(t, at(sec(30))).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "a", Flag: simulator.FlagDelete})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t, at(sec(29))).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "a", OrgName: "A again", Flag: simulator.FlagModify})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(dirOrgs(g, id)).To(ConsistOf(HaveField("OrgCode", "b")))
	removed := 0
	for _, d := range shards(g, id) {
		removed += len(d.Spec.Removed)
	}
	g.Expect(removed).To(Equal(2), "each removal is remembered once")
}

func TestKitRebinding(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	sec := func(s int) *simulator.Client { return market(t, at(now.Add(time.Duration(s)*time.Second))) }
	a, err := sec(1).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: "tenant-a", Name: "A", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = sec(2).ApplicationSync(ctx, simulator.ApplicationSync{InstanceID: id, TenantID: "tenant-a", AppID: "app-1", ClientID: "c", ClientSecret: "s", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = sec(3).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: "tenant-a", AppID: "app-1", Flag: simulator.FlagAdd,
		Users: []simulator.KitUser{{UserName: "alice", Role: "user", Enable: "true"}}})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = sec(3).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: "tenant-a", OrgCode: "rd", OrgName: "R&D", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(shards(g, id)).To(HaveLen(2))

	// Another tenant is bound: A's applications and directory go.
	a, err = sec(4).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: "tenant-b", Name: "B", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.Tenant).To(Equal(&tenantryv1alpha1.Tenant{TenantID: "tenant-b", Name: "B"}))
	g.Expect(ti.Annotations).NotTo(HaveKey(policy.AnnotationKitApplications))
	g.Expect(shards(g, id)).To(BeEmpty())

	// A late sync of A, sent before B was bound, is ignored; a newer one is refused.
	a, err = sec(3).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: "tenant-a", OrgCode: "ops", OrgName: "Ops", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = sec(5).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: "tenant-a", OrgCode: "ops", OrgName: "Ops", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(shards(g, id)).To(BeEmpty())

	// B's directory, then B deleted: its directory goes too.
	a, err = sec(6).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: "tenant-b", OrgCode: "hq", OrgName: "HQ", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(shards(g, id)).To(HaveLen(1))
	a, err = sec(7).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: "tenant-b", Flag: simulator.FlagDelete})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Tenant).To(BeNil())
	g.Expect(shards(g, id)).To(BeEmpty())
}

// TestKitConcurrentBatches: batches of new users sent at once all go for the lowest shard with
// room, so their writes conflict; each call decides again from a fresh read of every shard, and
// every user is stored once.
func TestKitConcurrentBatches(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	a, err := market(t, at(now)).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	const calls, batch = 4, 200
	answers := make([]*simulator.Answer, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			users := make([]simulator.KitUser, batch)
			for i := range users {
				users[i] = simulator.KitUser{UserName: fmt.Sprintf("user-%d-%03d", call, i), Role: "user", Enable: "true"}
			}
			answers[call], errs[call] = market(t, at(now.Add(time.Duration(call+1)*time.Millisecond))).AuthSync(ctx,
				simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagAdd, Users: users})
		}()
	}
	wg.Wait()
	for call := range calls {
		expectCode(g, answers[call], errs[call], protocol.CodeSuccess)
	}
	seen := map[string]int{}
	for _, u := range dirUsers(g, id) {
		seen[u.UserName]++
	}
	g.Expect(seen).To(HaveLen(calls * batch))
	for name, n := range seen {
		g.Expect(n).To(Equal(1), "user %s stored %d times", name, n)
	}
	g.Expect(shards(g, id)).To(HaveLen(1), "800 small users fit in the first shard")
}

// createHook is a client whose Create is replaced.
type createHook struct {
	client.Client
	create func(context.Context, client.Object, ...client.CreateOption) error
}

func (h createHook) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return h.create(ctx, obj, opts...)
}

// TestKitDirectoryWriteConflict: another writer creates the shard a call is about to create;
// the call's write conflicts, and it decides again from a fresh read of every shard, keeping
// the other writer's user and placing its own beside it.
func TestKitDirectoryWriteConflict(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	first := tenantryv1alpha1.DirectoryShardName(id, tenantryv1alpha1.DirectoryUsers, 0)
	var intruded, conflicts int
	bridge := newBridge(t, func(o *webhookbridge.Options) {
		o.Client = createHook{Client: k8s, create: func(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
			if obj.GetName() == first && intruded == 0 {
				intruded++
				other := obj.DeepCopyObject().(*tenantryv1alpha1.TenantDirectory)
				other.Spec.Users = []tenantryv1alpha1.DirectoryUser{{AppID: "app-9", UserName: "intruder", SyncedAt: policy.MicroTime(now)}}
				other.Spec.UserCount = 1
				if err := k8s.Create(ctx, other); err != nil {
					return err
				}
			}
			err := k8s.Create(ctx, obj, opts...)
			if apierrors.IsAlreadyExists(err) {
				conflicts++
			}
			return err
		}}
	})
	market := func(t *testing.T, opts ...clientOption) *simulator.Client { return marketFor(t, bridge, opts...) }
	a, err := market(t, at(now)).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t, at(now.Add(time.Millisecond))).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1",
		Flag: simulator.FlagAdd, Users: []simulator.KitUser{{UserName: "alice"}, {UserName: "bob"}}})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(conflicts).To(Equal(1))
	names := []string{}
	for _, u := range getDirectory(g, first).Spec.Users {
		names = append(names, u.UserName)
	}
	g.Expect(names).To(Equal([]string{"intruder", "alice", "bob"}))
	g.Expect(shards(g, id)).To(HaveLen(1))
}

// TestKitDirectorySize proves an instance's directory takes 10,000 users in 20 calls of 500 and
// 5,000 departments within the bridge's default call budget, with every shard well under etcd's
// request limit, and that past the directory's room a call is refused with a message saying so.
// Shards are filled in order, so a batch of new users is written to one or two shards whatever
// the directory's size: the 20th call, into 9,500 users, writes at most two.
func TestKitDirectorySize(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	bridge := newBridge(t, func(o *webhookbridge.Options) { o.CallBudget = webhookbridge.DefaultCallBudget })
	market := func(t *testing.T, opts ...clientOption) *simulator.Client { return marketFor(t, bridge, opts...) }
	now := time.Now().Truncate(time.Millisecond)
	a, err := market(t, at(now)).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)

	// userShardVersions is the resourceVersion of each user shard that exists.
	userShardVersions := func() map[string]string {
		out := map[string]string{}
		for _, d := range shards(g, id) {
			if d.Spec.Part == tenantryv1alpha1.DirectoryUsers {
				out[d.Name] = d.ResourceVersion
			}
		}
		return out
	}
	var (
		before  map[string]string
		slowest time.Duration
	)
	for call := range 20 {
		users := make([]simulator.KitUser, 500)
		for i := range users {
			n := call*500 + i
			users[i] = simulator.KitUser{UserName: fmt.Sprintf("user-%05d", n), Name: fmt.Sprintf("用户 %05d", n), OrgCode: fmt.Sprintf("org-%04d", n%5000),
				Role: "user", Enable: "true", Mobile: "+86 138 0000 0000", Email: fmt.Sprintf("user-%05d@example.com", n), Position: "Engineer",
				EmployeeCode: fmt.Sprintf("E%05d", n), EmployeeType: "1"}
		}
		if call == 19 {
			before = userShardVersions()
		}
		start := time.Now()
		a, err := market(t, at(now.Add(time.Duration(call+1)*time.Millisecond))).AuthSync(ctx,
			simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagAdd, Users: users})
		expectCode(g, a, err, protocol.CodeSuccess)
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("The slowest of 20 batches of 500 users took %s", slowest)
	written := 0
	for name, rv := range userShardVersions() {
		if before[name] != rv {
			written++
		}
	}
	g.Expect(written).To(And(BeNumerically(">=", 1), BeNumerically("<=", 2)), "user shards written by a batch of 500 new users into 9,500")

	orgs := make([]simulator.Org, 5000)
	for i := range orgs {
		orgs[i] = simulator.Org{OrgCode: fmt.Sprintf("org-%04d", i), OrgName: fmt.Sprintf("部门 %04d", i), ParentCode: fmt.Sprintf("org-%04d", i/10)}
	}
	start := time.Now()
	a, err = market(t, at(now.Add(time.Second))).AllOrgSync(ctx, simulator.AllOrgSync{InstanceID: id, TenantID: tenantID, Orgs: orgs})
	expectCode(g, a, err, protocol.CodeSuccess)
	t.Logf("A list of 5,000 departments took %s", time.Since(start))

	var users, departments, userShards, orgShards int
	for _, d := range shards(g, id) {
		users += len(d.Spec.Users)
		departments += len(d.Spec.Orgs)
		if d.Spec.Part == tenantryv1alpha1.DirectoryUsers {
			userShards++
		} else {
			orgShards++
		}
		b, err := json.Marshal(d)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(len(b)).To(BeNumerically("<", 512*1024), "shard %s takes %d bytes", d.Name, len(b))
	}
	g.Expect(users).To(Equal(10000))
	g.Expect(departments).To(Equal(5000))
	// Users of about 330 bytes and departments of about 100 fill shards by count, 1,000 each.
	g.Expect(userShards).To(Equal(10))
	g.Expect(orgShards).To(Equal(5))

	// Past the directory's room: the other user shards are filled to 1,000 users but the last,
	// which keeps room for 300. A batch of 500 is refused whole; one of 300 still fits.
	for i := userShards; i < tenantryv1alpha1.DirectoryUserShards; i++ {
		n := tenantryv1alpha1.MaxDirectoryShardEntries
		if i == tenantryv1alpha1.DirectoryUserShards-1 {
			n -= 300
		}
		fill := make([]tenantryv1alpha1.DirectoryUser, n)
		for j := range fill {
			fill[j] = tenantryv1alpha1.DirectoryUser{AppID: "app-2", UserName: fmt.Sprintf("filler-%02d-%04d", i, j), SyncedAt: policy.MicroTime(now)}
		}
		g.Expect(k8s.Create(ctx, &tenantryv1alpha1.TenantDirectory{
			ObjectMeta: metav1.ObjectMeta{Name: tenantryv1alpha1.DirectoryShardName(id, tenantryv1alpha1.DirectoryUsers, i),
				Labels: map[string]string{tenantryv1alpha1.LabelInstance: id}},
			Spec: tenantryv1alpha1.TenantDirectorySpec{InstanceName: id, Part: tenantryv1alpha1.DirectoryUsers, Shard: int32(i), TenantID: tenantID, //nolint:gosec // < 32
				Users: fill, UserCount: int32(n)}, //nolint:gosec // <= 1,000
		})).To(Succeed())
	}
	crowd := func(n int) []simulator.KitUser {
		out := make([]simulator.KitUser, n)
		for i := range out {
			out[i] = simulator.KitUser{UserName: fmt.Sprintf("crowd-%04d", i), Role: "user", Enable: "true"}
		}
		return out
	}
	before = snapshot(g)
	a, err = market(t, at(now.Add(2*time.Second))).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-3",
		Flag: simulator.FlagAdd, Users: crowd(500)})
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(a.ResultMsg).To(ContainSubstring("directory is full"))
	g.Expect(snapshot(g)).To(Equal(before), "a refused call writes nothing")
	a, err = market(t, at(now.Add(2*time.Second))).AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-3",
		Flag: simulator.FlagAdd, Users: crowd(300)})
	expectCode(g, a, err, protocol.CodeSuccess)
	last := getDirectory(g, tenantryv1alpha1.DirectoryShardName(id, tenantryv1alpha1.DirectoryUsers, tenantryv1alpha1.DirectoryUserShards-1))
	g.Expect(last.Spec.Users).To(HaveLen(tenantryv1alpha1.MaxDirectoryShardEntries))
}

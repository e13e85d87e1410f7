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
	"testing"
	"time"

	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func TestV1Calls(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	step := 0
	next := func() time.Time { step++; return now.Add(time.Duration(step) * time.Second) }
	orderID := "CSV1" + nonce()[:12]
	expires := time.Now().UTC().Add(90 * 24 * time.Hour).Truncate(time.Second)
	buy := v1Params("activity", "newInstance", "orderId", orderID, "businessId", nonce(),
		"customerId", "cust-v1", "customerName", "V1 Customer", "productId", "00301-333333-0--0",
		"skuCode", skuSmall, "expireTime", expires.Format("20060102150405"), "periodType", "month",
		"periodNumber", "3", "mobilePhone", "not-stored", "testFlag", "0")

	a, err := market(t, at(next())).V1(ctx, buy)
	expectCode(g, a, err, protocol.CodeSuccess)
	id := a.InstanceID
	g.Expect(id).To(Equal(webhookbridge.InstanceName(orderID, orderID)))
	ti := getInstance(g, id)
	g.Expect(ti.Spec.SKU).To(Equal(skuSmall))
	g.Expect(ti.Spec.ProductID).To(Equal("00301-333333-0--0"))
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", expires))
	g.Expect(ti.Spec.Order.OrderLineID).To(Equal(orderID))
	g.Expect(ti.Spec.Order.PeriodNumber).To(Equal(int32(3)))
	g.Expect(ti.Spec.Customer.CustomerID).To(Equal("cust-v1"))

	// Query, with credentials encrypted under a key derived from the access key.
	makeReady(g, id, true)
	for _, encryptType := range []string{"1", "2"} {
		a, err = market(t, at(next())).V1(ctx, v1Params("activity", "queryInstance", "instanceId", id, "encryptType", encryptType))
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(a.Info).To(HaveLen(1))
		info := a.Info[0].AppInfo
		g.Expect(info.FrontEndURL).To(Equal("https://" + id + ".apps.example.com"))
		g.Expect(info.UserName).NotTo(Equal("admin"))
		user, err := protocol.DecryptCredential(accessKey, info.UserName, encryptType)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(user).To(Equal("admin"))
		password, err := protocol.DecryptCredential(accessKey, info.Password, encryptType)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(password).To(Equal("S3cret-Passw0rd"))
		g.Expect(string(a.Raw)).To(ContainSubstring(`"encryptType":"` + encryptType + `"`))
	}

	// A resend of newInstance once the instance is ready carries its appInfo, encrypted.
	buy.Set("businessId", nonce())
	a, err = market(t, at(next())).V1(ctx, buy)
	expectCode(g, a, err, protocol.CodeSuccess)
	var answer struct {
		InstanceID  string           `json:"instanceId"`
		EncryptType string           `json:"encryptType"`
		AppInfo     protocol.AppInfo `json:"appInfo"`
	}
	g.Expect(json.Unmarshal(a.Raw, &answer)).To(Succeed())
	g.Expect(answer.InstanceID).To(Equal(id))
	g.Expect(answer.AppInfo.FrontEndURL).To(Equal("https://" + id + ".apps.example.com"))
	user, err := protocol.DecryptCredential(accessKey, answer.AppInfo.UserName, answer.EncryptType)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(user).To(Equal("admin"))

	// Lifecycle calls map onto the V2 handlers.
	a, err = market(t, at(next())).V1(ctx, v1Params("activity", "instanceStatus", "instanceId", id, "instanceStatus", "FREEZE"))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))
	a, err = market(t, at(next())).V1(ctx, v1Params("activity", "instanceStatus", "instanceId", id, "instanceStatus", "NORMAL"))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))
	a, err = market(t, at(next())).V1(ctx, v1Params("activity", "expireInstance", "instanceId", id))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))

	later := expires.Add(365 * 24 * time.Hour)
	a, err = market(t, at(next())).V1(ctx, v1Params("activity", "refreshInstance", "instanceId", id, "orderId", "CSV1RENEW",
		"expireTime", later.Format("20060102150405")))
	expectCode(g, a, err, protocol.CodeSuccess)
	ti = getInstance(g, id)
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", later))
	g.Expect(ti.Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive), "a V1 renewal into the future lifts the freeze of expireInstance")

	a, err = market(t, at(next())).V1(ctx, v1Params("activity", "upgrade", "instanceId", id, "orderId", "CSV1UPGRADE", "skuCode", skuLarge))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.SKU).To(Equal(skuLarge))

	a, err = market(t, at(next())).V1(ctx, v1Params("activity", "releaseInstance", "instanceId", id))
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t, at(next())).V1(ctx, v1Params("activity", "queryInstance", "instanceId", id))
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
}

// TestV1CanBeTurnedOff: with DisableV1, a correctly signed V1 purchase is answered 404 unread and
// creates nothing, while V2 calls are served as before.
func TestV1CanBeTurnedOff(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	base := newBridge(t, func(o *webhookbridge.Options) { o.DisableV1 = true })
	orderID := "CSV1OFF" + nonce()[:12]
	buy := v1Params("activity", "newInstance", "orderId", orderID, "businessId", nonce(),
		"customerId", "cust-v1", "productId", "00301-333333-0--0", "skuCode", skuSmall,
		"expireTime", time.Now().UTC().Add(24*time.Hour).Format("20060102150405"), "testFlag", "0")

	a, err := marketFor(t, base).V1(ctx, buy)
	g.Expect(err).To(MatchError(simulator.ErrHTTPStatus))
	g.Expect(a.HTTPStatus).To(Equal(404), "answer: %s", a.Raw)
	err = k8s.Get(ctx, client.ObjectKey{Name: webhookbridge.InstanceName(orderID, orderID)}, &tenantryv1alpha1.TenantInstance{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a V1 purchase to a bridge with V1 off created an instance: %v", err)

	// The V2 interface of the same bridge still answers.
	a, err = marketFor(t, base, testFlag).Query(ctx, "no-such-instance")
	expectCode(g, a, err, protocol.CodeSuccess)
}

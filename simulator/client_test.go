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

package simulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClientBasicCalls(t *testing.T) {
	b, srv := newStubBridge(t, alwaysOK)
	c := newStubClient(t, b, srv, nil)
	ctx := context.Background()
	expire := time.Date(2027, 5, 6, 7, 8, 9, 0, time.UTC)

	tests := []struct {
		name string
		call func() (*Answer, error)
		want map[string]any
	}{
		{"buy", func() (*Answer, error) { return c.Buy(ctx, "CS1", "CS1-000001", true) },
			map[string]any{"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "testFlag": "1"}},
		{"query", func() (*Answer, error) { return c.Query(ctx, "i1", "i2") },
			map[string]any{"activity": "queryInstance", "instanceId": "i1,i2", "testFlag": "0"}},
		{"renew", func() (*Answer, error) { return c.Renew(ctx, "i1", "CS2", "CS2-000001", SceneRenewal, expire) },
			map[string]any{"activity": "refreshInstance", "instanceId": "i1", "orderId": "CS2", "orderLineId": "CS2-000001", "scene": "RENEWAL", "expireTime": "20270506070809", "testFlag": "0"}},
		{"freeze", func() (*Answer, error) { return c.Freeze(ctx, "i1") },
			map[string]any{"activity": "updateInstanceStatus", "instanceId": "i1", "status": "FREEZE", "testFlag": "0"}},
		{"unfreeze", func() (*Answer, error) { return c.Unfreeze(ctx, "i1") },
			map[string]any{"activity": "updateInstanceStatus", "instanceId": "i1", "status": "UNFREEZE", "testFlag": "0"}},
		{"upgrade", func() (*Answer, error) { return c.Upgrade(ctx, "i1", "CS3", "CS3-000001") },
			map[string]any{"activity": "upgradeInstance", "instanceId": "i1", "orderId": "CS3", "orderLineId": "CS3-000001", "testFlag": "0"}},
		{"change check", func() (*Answer, error) { return c.ChangeCheck(ctx, "i1", "prod", "sku.small", 5) },
			map[string]any{"activity": "changeInstanceCheck", "instanceId": "i1", "testFlag": "0", "productInfo": map[string]any{"productId": "prod", "skuCode": "sku.small", "linearValue": json.Number("5")}}},
		{"release", func() (*Answer, error) { return c.Release(ctx, "i1") },
			map[string]any{"activity": "releaseInstance", "instanceId": "i1", "testFlag": "0"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := tc.call()
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if !a.OK() || a.InstanceID != "inst-1" {
				t.Fatalf("answer = %+v, want 000000 for inst-1 (the stub rejects bad signatures with 000001)", a)
			}
			calls := b.recorded()
			if len(calls) != i+1 {
				t.Fatalf("stub recorded %d calls, want %d", len(calls), i+1)
			}
			got := calls[i]
			if !regexp.MustCompile(`^[0-9A-F]{64}$`).MatchString(got.Nonce) {
				t.Errorf("nonce %q is not 64 hex digits", got.Nonce)
			}
			if id, ok := got.Body["businessId"].(string); ok {
				if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
					t.Errorf("businessId %q is not a UUID", id)
				}
				delete(got.Body, "businessId")
			}
			if diff := cmp.Diff(tc.want, got.Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientBuyUsesFreshBusinessIDs(t *testing.T) {
	b, srv := newStubBridge(t, alwaysOK)
	c := newStubClient(t, b, srv, nil)
	for range 2 {
		if _, err := c.Buy(context.Background(), "CS1", "CS1-000001", false); err != nil {
			t.Fatal(err)
		}
	}
	calls := b.recorded()
	if calls[0].Body["businessId"] == calls[1].Body["businessId"] || calls[0].Nonce == calls[1].Nonce {
		t.Errorf("resends share a businessId or nonce: %+v", calls)
	}
}

func TestClientKitCalls(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		t.Fatalf("ParsePublicKeyPEM() error = %v", err)
	}
	b, srv := newStubBridge(t, alwaysOK)
	c := newStubClient(t, b, srv, func(o *Options) { o.MerchantPublicKey = pub; o.Test = true })
	ctx := context.Background()
	// testNow is 09:26:53 UTC; kit timestamps are UTC+8.
	common := map[string]any{"testFlag": json.Number("1"), "timeStamp": "20260314172653000"}
	with := func(m map[string]any) map[string]any {
		for k, v := range common {
			m[k] = v
		}
		return m
	}

	tests := []struct {
		name string
		call func() (*Answer, error)
		want map[string]any
	}{
		{"tenantSync", func() (*Answer, error) {
			return c.TenantSync(ctx, TenantSync{InstanceID: "i1", OrderID: "CS1", TenantID: "t1", TenantCode: "acme", Name: "ACME", DomainName: "https://acme.example.com", Flag: FlagAdd})
		}, with(map[string]any{"instanceId": "i1", "orderId": "CS1", "tenantId": "t1", "tenantCode": "acme", "name": "ACME", "domainName": "https://acme.example.com", "flag": json.Number("1")})},
		{"authSync", func() (*Answer, error) {
			return c.AuthSync(ctx, AuthSync{InstanceID: "i1", TenantID: "t1", AppID: "a1", Flag: FlagDelete, Users: []KitUser{{UserName: "zhang", Name: "张三", OrgCode: "o1", Role: "admin", Enable: "true", Email: "z@example.com"}}})
		}, with(map[string]any{"instanceId": "i1", "tenantId": "t1", "appId": "a1", "flag": json.Number("0"), "currentSyncTime": "20260314172653000",
			"userList": []any{map[string]any{"userName": "zhang", "name": "张三", "orgCode": "o1", "role": "admin", "enable": "true", "email": "z@example.com"}}})},
		{"singleOrgSync", func() (*Answer, error) {
			return c.SingleOrgSync(ctx, SingleOrgSync{InstanceID: "i1", TenantID: "t1", OrgCode: "o2", OrgName: "R&D <lab>", ParentCode: "o1", Flag: FlagModify})
		}, with(map[string]any{"instanceId": "i1", "tenantId": "t1", "orgCode": "o2", "orgName": "R&D <lab>", "parentCode": "o1", "flag": json.Number("2")})},
		{"allOrgSync", func() (*Answer, error) {
			return c.AllOrgSync(ctx, AllOrgSync{InstanceID: "i1", TenantID: "t1", Orgs: []Org{{OrgCode: "o1", OrgName: "HQ"}}})
		}, with(map[string]any{"instanceId": "i1", "tenantId": "t1", "orgInfoList": []any{map[string]any{"orgCode": "o1", "orgName": "HQ", "parentCode": ""}}})},
		{"allOrgSync", func() (*Answer, error) {
			return c.AllOrgSync(ctx, AllOrgSync{InstanceID: "i1", TenantID: "t1", Orgs: []Org{{OrgCode: "o1", OrgName: "HQ"}}, OrgListAsString: true})
		}, with(map[string]any{"instanceId": "i1", "tenantId": "t1", "orgInfoList": `[{"orgCode":"o1","orgName":"HQ","parentCode":""}]`})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(b.recorded())
			a, err := tc.call()
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if !a.OK() {
				t.Fatalf("answer = %+v, want 000000 (the stub rejects bad x-sign with 000001)", a)
			}
			got := b.recorded()[before]
			if got.Name != tc.name {
				t.Errorf("path name = %q, want %q", got.Name, tc.name)
			}
			if diff := cmp.Diff(tc.want, got.Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("applicationSync", func(t *testing.T) {
		before := len(b.recorded())
		a, err := c.ApplicationSync(ctx, ApplicationSync{InstanceID: "i1", TenantID: "t1", AppID: "a1", ClientID: "cid", ClientSecret: "s3cret", Flag: FlagAdd})
		if err != nil || !a.OK() {
			t.Fatalf("ApplicationSync() = %+v, %v", a, err)
		}
		got := b.recorded()[before].Body
		if plain := decryptForTest(t, key, got["clientSecret"].(string)); plain != "s3cret" {
			t.Errorf("decrypted clientSecret = %q, want %q", plain, "s3cret")
		}
		delete(got, "clientSecret")
		want := with(map[string]any{"instanceId": "i1", "tenantId": "t1", "appId": "a1", "clientId": "cid", "flag": json.Number("1")})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
	})

	t.Run("applicationSync without key", func(t *testing.T) {
		c := newStubClient(t, b, srv, nil)
		if _, err := c.ApplicationSync(ctx, ApplicationSync{ClientSecret: "x"}); err == nil {
			t.Error("ApplicationSync() without a public key succeeded")
		}
	})

	t.Run("kit key defaults to access key", func(t *testing.T) {
		c := newStubClient(t, b, srv, func(o *Options) { o.KitKey = "" })
		a, err := c.TenantSync(ctx, TenantSync{InstanceID: "i1"})
		if err != nil {
			t.Fatal(err)
		}
		if a.ResultCode != ResultAuthFailed {
			t.Errorf("resultCode = %q, want %q (signed with the access key, stub expects the kit key)", a.ResultCode, ResultAuthFailed)
		}
	})
}

func TestClientV1(t *testing.T) {
	b, srv := newStubBridge(t, alwaysOK)
	c := newStubClient(t, b, srv, nil)
	a, err := c.V1(context.Background(), url.Values{"activity": {"newInstance"}, "orderId": {"CS1"}, "customerName": {"A & B"}})
	if err != nil || !a.OK() {
		t.Fatalf("V1() = %+v, %v", a, err)
	}
	got := b.recorded()[0]
	want := map[string]any{"activity": "newInstance", "orderId": "CS1", "customerName": "A & B", "timeStamp": "20260314092653000"}
	if diff := cmp.Diff(want, got.Body); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
}

func TestClientChecksAnswers(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		stub    func(*stubBridge)
		opts    func(*Options)
		wantErr error
		anyErr  bool
	}{
		{name: "good"},
		{name: "wrong Body-Sign", stub: func(b *stubBridge) { b.badBodySign = true }, wantErr: ErrBodySign},
		{name: "missing Body-Sign", stub: func(b *stubBridge) { b.noBodySign = true }, wantErr: ErrBodySign},
		{name: "missing Body-Sign allowed", stub: func(b *stubBridge) { b.noBodySign = true }, opts: func(o *Options) { o.AllowMissingBodySign = true }},
		{name: "wrong Body-Sign despite allowing missing", stub: func(b *stubBridge) { b.badBodySign = true }, opts: func(o *Options) { o.AllowMissingBodySign = true }, wantErr: ErrBodySign},
		{name: "HTTP 500", stub: func(b *stubBridge) { b.forceHTTPError = http.StatusInternalServerError }, wantErr: ErrHTTPStatus},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, srv := newStubBridge(t, alwaysOK)
			if tc.stub != nil {
				tc.stub(b)
			}
			c := newStubClient(t, b, srv, tc.opts)
			a, err := c.Release(ctx, "i1")
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if a == nil || len(a.Raw) == 0 {
				t.Fatalf("answer = %+v, want the raw answer even on error", a)
			}
		})
	}
}

func TestClientRawIsNotSigned(t *testing.T) {
	b, srv := newStubBridge(t, alwaysOK)
	c := newStubClient(t, b, srv, nil)
	ctx := context.Background()
	body := []byte(`{"activity":"releaseInstance","instanceId":"i1"}`)

	a, err := c.Raw(ctx, body, url.Values{"signature": {"00"}, "timestamp": {"1773480413000"}, "nonce": {"n"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.ResultCode != ResultAuthFailed {
		t.Errorf("forged call: resultCode = %q, want %q", a.ResultCode, ResultAuthFailed)
	}
	// Call signs the same bytes, including the nested-free odd key order.
	a, err = c.Call(ctx, body)
	if err != nil || !a.OK() {
		t.Errorf("Call() = %+v, %v", a, err)
	}
	if _, err := c.Call(ctx, []byte(`not json`)); err == nil {
		t.Error("Call() signed a body that is not a JSON object")
	}
}

func TestNewClientValidates(t *testing.T) {
	for name, o := range map[string]Options{
		"relative URL": {BaseURL: "/saasproduce", AccessKey: "k"},
		"ftp URL":      {BaseURL: "ftp://x/y", AccessKey: "k"},
		"no key":       {BaseURL: "http://127.0.0.1:8080/saasproduce"},
	} {
		if _, err := NewClient(o); err == nil {
			t.Errorf("%s: NewClient() succeeded", name)
		}
	}
}

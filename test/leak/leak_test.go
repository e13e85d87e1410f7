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

// Package leak_test drives the webhook bridge and the operator together, in one API server, with
// known secret values in every call the marketplace makes, and checks that none of them reaches a
// log line or an Event. It lives outside both packages because it needs both: the bridge never
// imports the operator.
package leak_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/logcap"
	"github.com/tenantry/tenantry/internal/merchantkey"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// The secrets every call carries. They are distinctive enough that finding one anywhere is a leak.
const (
	accessKey    = "leak-access-key-7f3a9c1e5b"
	kitKey       = "leak-kit-key-2d8e4f6a0c"
	wrongKey     = "leak-wrong-key-9b1d3f5h7j"
	sellerAK     = "LEAKSELLERAK9Q7W"
	sellerSK     = "leak-seller-sk-5h2k8m1p"
	clientSecret = "leak-client-secret-4r7t9y"
	buyerPhone   = "13912345678"
	buyerEmail   = "buyer.leak@example.com"
	alicePhone   = "13787654321"
	aliceEmail   = "alice.leak@example.com"
	bobPhone     = "13566668888" // sent too long: cut to its bound and stored
	carolPhone   = "13455557777" // sent in a member of another kit call: refused
	v1Phone      = "13611112222"
	v1Email      = "v1.leak@example.com"

	skuSmall = "leak.small"
	skuLarge = "leak.large"
	tenantID = "leak-tenant-0001"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// secretSet is every secret value seen so far, including those only known at run time
// (signatures, nonces, the generated admin password).
type secretSet struct {
	mu     sync.Mutex
	values map[string]string // value → what it is
}

func (s *secretSet) add(what string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v != "" {
			s.values[v] = what
		}
	}
}

// forms are the spellings of v a leak could take: as is, in the base64 and URL encodings a log
// or Event could apply, hex, and JSON-escaped.
func forms(v string) []string {
	j, _ := json.Marshal(v)
	out := []string{
		v,
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
		url.QueryEscape(v), url.PathEscape(v), hex.EncodeToString([]byte(v)), strings.Trim(string(j), `"`),
	}
	return out
}

// capturing records the auth material of every request it carries.
type capturing struct {
	secrets *secretSet
	next    http.RoundTripper
}

func (c capturing) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	c.secrets.add("basic signature", q.Get("signature"))
	c.secrets.add("basic nonce", q.Get("nonce"))
	c.secrets.add("V1 authToken", q.Get("authToken"))
	c.secrets.add("kit x-sign", r.Header.Get("x-sign"))
	c.secrets.add("kit x-nonce", r.Header.Get("x-nonce"))
	return c.next.RoundTrip(r)
}

func TestSecretsNeverInLogsOrEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs an API server")
	}
	// NewWithT copies the default durations when it is called, so they are set first.
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Every log line of the process, in the binaries' JSON format and at the most verbose level
	// zap allows, capped the way both binaries cap their loggers (logcap): the bridge with its
	// audit lines, the operator, controller-runtime and client-go (klog). Without the cap
	// client-go would write whole request and response bodies from V(8) on.
	logs := &syncBuffer{}
	bridgeLogger := logcap.Cap(zap.New(zap.WriteTo(logs), zap.Level(zapcore.Level(-10))))
	logger := logcap.Cap(zap.New(zap.WriteTo(logs), zap.Level(zapcore.Level(-10))))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	defer klog.ClearLogger()

	secrets := &secretSet{values: map[string]string{}}
	for what, v := range map[string]string{
		"access key": accessKey, "kit key": kitKey, "wrong key": wrongKey, "seller AK": sellerAK, "seller SK": sellerSK,
		"client secret": clientSecret, "buyer phone": buyerPhone, "buyer e-mail": buyerEmail, "user phone": alicePhone,
		"user e-mail": aliceEmail, "cut user phone": bobPhone, "refused user phone": carolPhone, "V1 phone": v1Phone, "V1 e-mail": v1Email,
	} {
		secrets.add(what, v)
	}

	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env.Stop() }()
	scheme := testenv.Scheme()
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())

	merchantKey, err := rsa.GenerateKey(rand.Reader, merchantkey.MinRSABits)
	g.Expect(err).NotTo(HaveOccurred())
	// A line of the key's PEM body (every line is 64 characters of base64 of the DER).
	secrets.add("merchant private key", base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(merchantKey))[64:128])

	// The operator: its reconciler in a manager, as cmd/manager runs it.
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Cache: controllers.CacheOptions(),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect((&controllers.TenantInstanceReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("tenantry-operator"),
		SuspendedHost: "tenantry-webhookbridge.tenantry-system.svc", SuspendedPort: 8082, MerchantKey: merchantKey,
		// No Deployment controller runs here to report the app's pods gone: release at once.
		ReleaseDrainTimeout: time.Nanosecond,
	}).SetupWithManager(ctx, mgr)).To(Succeed())
	go func() { _ = mgr.Start(ctx) }()

	for _, p := range []*tenantryv1alpha1.TenantPlan{plan("leak-small", skuSmall), plan("leak-large", skuLarge)} {
		g.Expect(k8s.Create(ctx, p)).To(Succeed())
	}

	// The marketplace's Order Query, answering with the buyer's contact details, as the real one does.
	orders := simulator.NewOrderServer(simulator.OrderServerConfig{AK: sellerAK, SK: sellerSK, DefaultSKU: skuSmall})
	orderSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, sig, ok := strings.Cut(r.Header.Get("Authorization"), "Signature="); ok {
			secrets.add("Order Query signature", sig)
		}
		rec := httptest.NewRecorder()
		orders.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var answer map[string]any
		if json.Unmarshal(body, &answer) == nil {
			if info, ok := answer["orderInfo"].(map[string]any); ok {
				if buyer, ok := info["buyerInfo"].(map[string]any); ok {
					buyer["mobilePhone"], buyer["email"] = buyerPhone, buyerEmail
					body, _ = json.Marshal(answer)
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	defer orderSrv.Close()

	// The bridge, as cmd/webhookbridge builds it: Events through a broadcaster to the API server.
	clientset, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: clientset.EventsV1()})
	broadcaster.StartRecordingToSink(ctx.Done())
	defer broadcaster.Shutdown()
	bridge, err := webhookbridge.New(webhookbridge.Options{
		Client: k8s, AccessKey: accessKey, MerchantKey: merchantKey,
		Verifier: &protocol.Verifier{Keys: []string{accessKey}, KitKeys: []string{kitKey}, Nonces: protocol.NewNonceCache(0, 0, nil)},
		Orders:   &orderquery.Client{Endpoint: orderSrv.URL, AK: sellerAK, SK: sellerSK, Observe: webhookbridge.ObserveOrderQuery},
		Recorder: broadcaster.NewRecorder(scheme, "tenantry-webhookbridge"),
		Logger:   bridgeLogger.WithName("webhookbridge"),
	})
	g.Expect(err).NotTo(HaveOccurred())
	bridgeSrv := httptest.NewServer(bridge.Handler())
	defer bridgeSrv.Close()

	market := func(key string) *simulator.Client {
		c, err := simulator.NewClient(simulator.Options{
			BaseURL: bridgeSrv.URL + webhookbridge.DefaultPath, AccessKey: key, KitKey: kitKey,
			MerchantPublicKey: &merchantKey.PublicKey,
			HTTP:              &http.Client{Transport: capturing{secrets: secrets, next: http.DefaultTransport}},
		})
		g.Expect(err).NotTo(HaveOccurred())
		return c
	}
	c := market(accessKey)
	// A call signed with a wrong key is refused; its answer is signed with the bridge's key,
	// which that client does not hold.
	refused := func(a *simulator.Answer, _ error) {
		g.ExpectWithOffset(1, a).NotTo(BeNil())
		g.ExpectWithOffset(1, a.ResultCode).To(Equal(protocol.CodeAuthFailed))
	}
	expect := func(code string) func(*simulator.Answer, error) *simulator.Answer {
		return func(a *simulator.Answer, err error) *simulator.Answer {
			g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
			g.ExpectWithOffset(1, a.ResultCode).To(Equal(code), "answer: %s", a.Raw)
			return a
		}
	}

	// ---- every V2 call ----
	o := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, CustomerName: "Leak Test Co"})
	id := expect(protocol.CodeSuccess)(c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)).InstanceID
	password := adminPassword(g, k8s, id)
	secrets.add("admin password", password)
	// Once the operator has published the instance, the query answer carries the admin account.
	g.Eventually(func(g Gomega) {
		a, err := c.Query(ctx, id)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess))
		g.Expect(a.Info).To(HaveLen(1))
		g.Expect(a.Info[0].AppInfo.Password).To(Equal(password))
	}).Should(Succeed())
	renewal := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
	expect(protocol.CodeSuccess)(c.Renew(ctx, id, renewal.OrderID, renewal.OrderLine[0].OrderLineID, simulator.SceneRenewal, time.Now().Add(400*24*time.Hour)))
	expect(protocol.CodeSuccess)(c.Freeze(ctx, id))
	expect(protocol.CodeSuccess)(c.Unfreeze(ctx, id))
	upgrade := orders.CreateOrder(simulator.OrderSpec{SKU: skuLarge, OrderType: simulator.OrderTypeChange})
	expect(protocol.CodeSuccess)(c.Upgrade(ctx, id, upgrade.OrderID, upgrade.OrderLine[0].OrderLineID))
	expect(protocol.CodeSuccess)(c.ChangeCheck(ctx, id, "00301-111111-0--0", skuSmall, 0))
	refused(market(wrongKey).Freeze(ctx, id))

	// ---- every kit call, the client secret encrypted, users with phones and e-mails ----
	expect(protocol.CodeSuccess)(c.TenantSync(ctx, simulator.TenantSync{InstanceID: id, OrderID: o.OrderID, TenantID: tenantID, TenantCode: "leak", Name: "Leak Co",
		DomainName: "https://leak.tenantaccount.example.com", Flag: simulator.FlagAdd}))
	expect(protocol.CodeSuccess)(c.ApplicationSync(ctx, simulator.ApplicationSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", ClientID: "client-1",
		ClientSecret: clientSecret, Flag: simulator.FlagAdd}))
	ti := &tenantryv1alpha1.TenantInstance{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: id}, ti)).To(Succeed())
	secrets.add("client secret ciphertext", ti.Spec.Tenant.Applications[0].EncryptedClientSecret)
	expect(protocol.CodeSuccess)(c.AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagAdd, Users: []simulator.KitUser{
		{UserName: "alice", Name: "Alice", OrgCode: "rd", Role: "admin", Enable: "true", Mobile: alicePhone, Email: aliceEmail, EmployeeCode: "E1"},
	}}))
	// A phone number longer than its field is only stored, so it is cut to its bound and accepted
	// (docs/protocol.md §6.11); the cut is logged by field path, never with the number.
	longPhone := bobPhone + strings.Repeat("0", 60)
	expect(protocol.CodeSuccess)(c.AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "app-1", Flag: simulator.FlagAdd, Users: []simulator.KitUser{
		{UserName: "bob", Name: "Bob", OrgCode: "rd", Role: "user", Enable: "true", Mobile: longPhone, Email: "bob@example.com"},
	}}))
	g.Expect(directoryUser(g, k8s, id, "app-1", "bob").Mobile).To(Equal(longPhone[:protocol.MaxKitPhoneLength]), "the phone is stored cut to its bound")
	// Users sent to tenantSync belong to another kit call: refused, and logged without the number.
	expect(protocol.CodeInvalidParam)(c.KitCall(ctx, protocol.KitTenantSync, []byte(`{"instanceId":"`+id+`","tenantId":"`+tenantID+`","flag":2,"testFlag":0,"timeStamp":"`+
		protocol.FormatKitTimeStamp(time.Now())+`","userList":[{"userName":"carol","name":"Carol","mobile":"`+carolPhone+`"}]}`)))
	expect(protocol.CodeSuccess)(c.SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "rd", OrgName: "R&D", Flag: simulator.FlagAdd}))
	expect(protocol.CodeSuccess)(c.AllOrgSync(ctx, simulator.AllOrgSync{InstanceID: id, TenantID: tenantID, OrgListAsString: true,
		Orgs: []simulator.Org{{OrgCode: "rd", OrgName: "R&D"}, {OrgCode: "ops", OrgName: "Ops", ParentCode: "rd"}}}))
	// A client secret that does not decrypt is refused.
	expect(protocol.CodeInvalidParam)(c.KitCall(ctx, protocol.KitApplicationSync, []byte(`{"instanceId":"`+id+`","tenantId":"`+tenantID+`","appId":"app-2","clientId":"c2","clientSecret":"`+
		base64.StdEncoding.EncodeToString([]byte(clientSecret))+`","flag":1,"testFlag":0,"timeStamp":"`+protocol.FormatKitTimeStamp(time.Now())+`"}`)))

	// ---- every V1 call, with encrypted and clear contact details ----
	iv, err := protocol.RandomIV()
	g.Expect(err).NotTo(HaveOccurred())
	encPhone, err := protocol.EncryptCredential(accessKey, v1Phone, protocol.EncryptTypeAES256, iv)
	g.Expect(err).NotTo(HaveOccurred())
	secrets.add("V1 encrypted phone", encPhone)
	v1Order := "CSV1LEAK0001"
	v1 := expect(protocol.CodeSuccess)(c.V1(ctx, url.Values{"activity": {"newInstance"}, "orderId": {v1Order}, "businessId": {"b-1"}, "customerId": {"cust-v1"},
		"customerName": {"V1 Leak Co"}, "productId": {"00301-333333-0--0"}, "skuCode": {skuSmall}, "mobilePhone": {encPhone}, "email": {v1Email},
		"encryptType": {"1"}, "expireTime": {time.Now().Add(90 * 24 * time.Hour).UTC().Format("20060102150405")}, "testFlag": {"0"}}))
	v1ID := v1.InstanceID
	v1Password := adminPassword(g, k8s, v1ID)
	secrets.add("V1 admin password", v1Password)
	g.Eventually(func(g Gomega) {
		a, err := c.V1(ctx, url.Values{"activity": {"queryInstance"}, "instanceId": {v1ID}})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess))
		g.Expect(a.Info).To(HaveLen(1))
		secrets.add("V1 encrypted admin password", a.Info[0].AppInfo.Password)
		plain, err := protocol.DecryptCredential(accessKey, a.Info[0].AppInfo.Password, protocol.EncryptTypeAES256)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(plain).To(Equal(v1Password))
	}).Should(Succeed())
	expect(protocol.CodeSuccess)(c.V1(ctx, url.Values{"activity": {"instanceStatus"}, "instanceId": {v1ID}, "instanceStatus": {"FREEZE"}}))
	expect(protocol.CodeSuccess)(c.V1(ctx, url.Values{"activity": {"instanceStatus"}, "instanceId": {v1ID}, "instanceStatus": {"NORMAL"}}))
	expect(protocol.CodeSuccess)(c.V1(ctx, url.Values{"activity": {"refreshInstance"}, "instanceId": {v1ID}, "orderId": {"CSV1LEAKRENEW"},
		"expireTime": {time.Now().Add(400 * 24 * time.Hour).UTC().Format("20060102150405")}}))
	expect(protocol.CodeSuccess)(c.V1(ctx, url.Values{"activity": {"expireInstance"}, "instanceId": {v1ID}}))
	expect(protocol.CodeSuccess)(c.V1(ctx, url.Values{"activity": {"upgrade"}, "instanceId": {v1ID}, "orderId": {"CSV1LEAKUPG"}, "skuCode": {skuLarge}}))
	refused(market(wrongKey).V1(ctx, url.Values{"activity": {"releaseInstance"}, "instanceId": {v1ID}}))
	expect(protocol.CodeSuccess)(c.V1(ctx, url.Values{"activity": {"releaseInstance"}, "instanceId": {v1ID}}))
	expect(protocol.CodeSuccess)(c.Release(ctx, id))

	// The operator has seen everything (application credentials projected, both releases under
	// way) and both recorders' Events have reached the API server.
	g.Eventually(func(g Gomega) {
		s := &corev1.Secret{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-" + id, Name: controllers.AppCredentialsName}, s)).To(Succeed())
		g.Expect(string(s.Data["app-1.clientSecret"])).To(Equal(clientSecret))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) []string {
		return eventReasons(g, k8s)
	}).Should(ContainElements(
		webhookbridge.ReasonMarketplaceNewInstance, webhookbridge.ReasonApplicationSynced, webhookbridge.ReasonUsersSynced,
		webhookbridge.ReasonMarketplaceRelease, "Releasing",
	))

	// The capture works: the audit lines, the operator's own lines and the Events are all there.
	out := logs.String()
	g.Expect(out).To(ContainSubstring(`"msg":"Marketplace call"`))
	g.Expect(out).To(ContainSubstring(`"activity":"authSync"`))
	g.Expect(out).To(ContainSubstring(`userList[0].mobile: cut to 64 characters`), "the cut phone number was logged about")
	g.Expect(out).To(ContainSubstring(`"reason":"cross-call-member"`), "the refused users were logged about")
	g.Expect(out).To(ContainSubstring(`"controller":"tenantinstance"`))
	g.Expect(out).To(ContainSubstring(id))

	haystacks := map[string]string{"logs": strings.ToLower(out), "events": strings.ToLower(allEvents(g, k8s))}
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	g.Expect(len(secrets.values)).To(BeNumerically(">", 40), "signatures, nonces and tokens of every call were captured")
	for v, what := range secrets.values {
		for _, f := range forms(v) {
			for where, hay := range haystacks {
				if i := strings.Index(hay, strings.ToLower(f)); i >= 0 {
					t.Errorf("%s (%q, as %q) appears in the %s: …%s…", what, v, f, where, hay[max(0, i-300):min(len(hay), i+len(f)+100)])
				}
			}
		}
	}
}

func plan(name, sku string) *tenantryv1alpha1.TenantPlan {
	return &tenantryv1alpha1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: tenantryv1alpha1.TenantPlanSpec{
			SKUs:   []string{sku},
			App:    tenantryv1alpha1.AppSpec{Image: "registry.example.com/app:1.0", Port: 8080},
			Domain: tenantryv1alpha1.DomainSettings{BaseDomain: "apps.example.com"},
		},
	}
}

// adminPassword waits for the operator to create an instance's admin account and returns it.
func adminPassword(g Gomega, k8s client.Client, id string) string {
	s := &corev1.Secret{}
	g.EventuallyWithOffset(1, func() error {
		return k8s.Get(context.Background(), client.ObjectKey{Namespace: "tenant-" + id, Name: tenantryv1alpha1.AdminSecretName}, s)
	}).Should(Succeed())
	g.ExpectWithOffset(1, s.Data[corev1.BasicAuthPasswordKey]).NotTo(BeEmpty())
	return string(s.Data[corev1.BasicAuthPasswordKey])
}

// directoryUser is the user appId/userName of an instance's directory, from whichever shard
// holds it.
func directoryUser(g Gomega, k8s client.Client, id, appID, userName string) tenantryv1alpha1.DirectoryUser {
	var list tenantryv1alpha1.TenantDirectoryList
	g.ExpectWithOffset(1, k8s.List(context.Background(), &list, client.MatchingLabels{tenantryv1alpha1.LabelInstance: id})).To(Succeed())
	var found []tenantryv1alpha1.DirectoryUser
	for _, d := range list.Items {
		for _, u := range d.Spec.Users {
			if u.AppID == appID && u.UserName == userName {
				found = append(found, u)
			}
		}
	}
	g.ExpectWithOffset(1, found).To(HaveLen(1), "user %s/%s is in exactly one shard", appID, userName)
	return found[0]
}

// allEvents is every Event in the API server, in both APIs, as JSON.
func allEvents(g Gomega, k8s client.Client) string {
	var core corev1.EventList
	g.ExpectWithOffset(1, k8s.List(context.Background(), &core)).To(Succeed())
	var v1 eventsv1.EventList
	g.ExpectWithOffset(1, k8s.List(context.Background(), &v1)).To(Succeed())
	b, err := json.Marshal([]any{core, v1})
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return string(b)
}

func eventReasons(g Gomega, k8s client.Client) []string {
	var list eventsv1.EventList
	g.ExpectWithOffset(1, k8s.List(context.Background(), &list)).To(Succeed())
	out := make([]string, 0, len(list.Items))
	for _, e := range list.Items {
		out = append(out, e.Reason)
	}
	return out
}

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
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// rotationCall sends a harmless call of family signed with key to the bridge at base (a release
// of an unknown instance, a kit credentials test, a V1 debug release) and returns its result
// code, after checking whom the answer's Body-Sign is for (docs/protocol.md §6.12): a verified
// call is answered with the key that verified it, so a marketplace still signing with the
// previous key can check the answer; a refused call with currentKey, the bridge's current
// access key.
func rotationCall(g Gomega, base, family, key, currentKey string) string {
	var req *http.Request
	switch family {
	case "basic":
		body := jsonBody(map[string]any{"activity": "releaseInstance", "instanceId": unknownID})
		ts, n := nowMillis(), nonce()
		payload, _ := protocol.CanonicalPayload(body)
		q := url.Values{"signature": {protocol.SignBasic(key, n, ts, payload)}, "timestamp": {ts}, "nonce": {n}}
		req = post(base+"?"+q.Encode(), body, nil)
	case "kit":
		body := jsonBody(map[string]any{"tenantId": hostileTenant, "flag": 1, "testFlag": 1, "timeStamp": kitTS(time.Now())})
		req = post(base+protocol.KitPathPrefix+protocol.KitTenantSync, body, kitHeaders(key, body, nowMillis()))
	case "v1":
		q := v1Params("activity", "releaseInstance", "instanceId", unknownID, "testFlag", "1", "timeStamp", protocol.FormatV1TimeStamp(time.Now()))
		q.Set("authToken", protocol.V1AuthToken(key, q.Get("timeStamp"), q))
		req = mustGet(base + "?" + q.Encode())
	}
	a := sendRaw(g, req)
	g.ExpectWithOffset(1, a.status).To(Equal(http.StatusOK))
	signedWith, other := key, currentKey
	if a.code == protocol.CodeAuthFailed {
		signedWith, other = currentKey, key
	}
	g.ExpectWithOffset(1, a.header.Get("Body-Sign")).To(Equal(protocol.BodySign(signedWith, a.raw)),
		"%s answer %s signed with %q", family, a.code, signedWith)
	if other != signedWith {
		g.ExpectWithOffset(1, a.header.Get("Body-Sign")).NotTo(Equal(protocol.BodySign(other, a.raw)), "%s answer not signed with %q", family, other)
	}
	return a.code
}

// TestKeyRotationThroughKeyFiles rotates the access key and the kit key the way an operator does
// (docs/webhookbridge.md, "Rotating the access key"): through the key files, which the binary
// reads once at start-up with LoadKeys, so every step is a file change followed by a restart.
// Before the rotation only the old key verifies; during it (new key on line 1, old on line 2)
// both do, the old one counted by tenantry_bridge_key_rotation_previous_key_total; after it the
// old key is refused (000001). Each family keeps to its own keys: the kit key never signs a basic
// or V1 call, nor the access key a kit call, unless the kit key defaults to the access key.
func TestKeyRotationThroughKeyFiles(t *testing.T) {
	integration(t)
	const (
		oldAccess, newAccess = "rotation-access-key-2025", "rotation-access-key-2026"
		oldKit, newKit       = "rotation-kit-key-2025", "rotation-kit-key-2026"
		ok, refused          = protocol.CodeSuccess, protocol.CodeAuthFailed
	)
	for _, sc := range []struct {
		name        string
		separateKit bool
	}{
		{"separate kit key file", true},
		{"kit key defaults to the access key", false},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Setenv("TENANTRY_ACCESS_KEY", "")
			t.Setenv("TENANTRY_KIT_ACCESS_KEY", "")
			dir := t.TempDir()
			accessFile, kitFile := filepath.Join(dir, "access-key"), ""
			if sc.separateKit {
				kitFile = filepath.Join(dir, "kit-key")
			}
			kitOld, kitNew := oldKit, newKit
			if !sc.separateKit {
				kitOld, kitNew = oldAccess, newAccess
			}
			write := func(g Gomega, file string, lines string) {
				if file != "" {
					g.Expect(os.WriteFile(file, []byte(lines), 0o600)).To(Succeed())
				}
			}
			// restart builds a bridge as cmd/webhookbridge's run does: LoadKeys on both files
			// (or their environment variables), the answer key is line 1 of the access file.
			// It lives until the scenario ends, so the next step can still reach it.
			scenario := t
			restart := func(g Gomega) (string, string) {
				keys, err := webhookbridge.LoadKeys(accessFile, "TENANTRY_ACCESS_KEY")
				g.Expect(err).NotTo(HaveOccurred())
				kitKeys, err := webhookbridge.LoadKeys(kitFile, "TENANTRY_KIT_ACCESS_KEY")
				g.Expect(err).NotTo(HaveOccurred())
				base := newBridge(scenario, func(o *webhookbridge.Options) {
					o.AccessKey = keys[0]
					o.Verifier = &protocol.Verifier{Keys: keys, KitKeys: kitKeys, Nonces: protocol.NewNonceCache(2*protocol.DefaultWindow, 0, nil)}
				})
				return base, keys[0]
			}

			var running, runningKey string // the bridge of the previous step, still up
			for _, step := range []struct {
				name         string
				access, kit  string // key file contents
				calls        []rotationExpectation
				previousUsed map[string]float64 // previous-key metric increments by family
			}{
				{
					name: "before", access: oldAccess + "\n", kit: oldKit + "\n",
					calls: []rotationExpectation{
						{"basic", oldAccess, ok}, {"basic", newAccess, refused},
						{"kit", kitOld, ok}, {"kit", kitNew, refused},
						{"v1", oldAccess, ok}, {"v1", newAccess, refused},
					},
				},
				{
					name: "during", access: newAccess + "\n" + oldAccess + "\n", kit: newKit + "\n" + oldKit + "\n",
					calls: []rotationExpectation{
						{"basic", newAccess, ok}, {"basic", oldAccess, ok},
						{"kit", kitNew, ok}, {"kit", kitOld, ok},
						{"v1", newAccess, ok}, {"v1", oldAccess, ok},
					},
					previousUsed: map[string]float64{"basic": 1, "kit": 1, "v1": 1},
				},
				{
					name: "after", access: newAccess + "\n", kit: newKit + "\n",
					calls: []rotationExpectation{
						{"basic", newAccess, ok}, {"basic", oldAccess, refused},
						{"kit", kitNew, ok}, {"kit", kitOld, refused},
						{"v1", newAccess, ok}, {"v1", oldAccess, refused},
					},
				},
			} {
				t.Run(step.name, func(t *testing.T) {
					g := NewWithT(t)
					write(g, accessFile, step.access)
					write(g, kitFile, step.kit)
					if running != "" {
						// The running bridge does not watch its files: until it restarts it
						// keeps verifying with the keys it started with.
						g.Expect(rotationCall(g, running, "basic", oldAccess, runningKey)).To(Equal(ok), "before the restart")
					}
					base, answerKey := restart(g)
					running, runningKey = base, answerKey
					metricsBefore := map[string]float64{}
					for _, fam := range []string{"basic", "kit", "v1"} {
						metricsBefore[fam] = metricValue(g, "tenantry_bridge_key_rotation_previous_key_total", "family", fam)
					}
					for _, c := range step.calls {
						g.Expect(rotationCall(g, base, c.family, c.key, answerKey)).To(Equal(c.code), "%s call signed with %q", c.family, c.key)
					}
					if sc.separateKit {
						// Each family only verifies with its own keys.
						g.Expect(rotationCall(g, base, "basic", strings.TrimSpace(strings.Split(step.kit, "\n")[0]), answerKey)).To(Equal(refused), "kit key on a basic call")
						g.Expect(rotationCall(g, base, "v1", strings.TrimSpace(strings.Split(step.kit, "\n")[0]), answerKey)).To(Equal(refused), "kit key on a V1 call")
						g.Expect(rotationCall(g, base, "kit", strings.TrimSpace(strings.Split(step.access, "\n")[0]), answerKey)).To(Equal(refused), "access key on a kit call")
					}
					for _, fam := range []string{"basic", "kit", "v1"} {
						g.Expect(metricValue(g, "tenantry_bridge_key_rotation_previous_key_total", "family", fam)-metricsBefore[fam]).
							To(Equal(step.previousUsed[fam]), "previous-key calls of family %s", fam)
					}
				})
			}
		})
	}
}

type rotationExpectation struct {
	family, key, code string
}

// TestAnswersUseTheVerifyingKey follows docs/protocol.md §6.12 on a bridge in the middle of a
// rotation (new keys first, previous keys second): a call signed with the previous key gets a
// Body-Sign that checks out with the previous key and not with the current one, V1 credentials
// it receives decrypt with the previous key only, and a kit call verified with the previous kit
// key is answered with that kit key. A call that fails verification is answered with the current
// access key.
func TestAnswersUseTheVerifyingKey(t *testing.T) {
	integration(t)
	const (
		newAccess, oldAccess = "verifying-key-access-new", "verifying-key-access-old"
		newKit, oldKit       = "verifying-key-kit-new", "verifying-key-kit-old"
	)
	base := newBridge(t, func(o *webhookbridge.Options) {
		o.AccessKey = newAccess
		o.Verifier = &protocol.Verifier{Keys: []string{newAccess, oldAccess}, KitKeys: []string{newKit, oldKit},
			Nonces: protocol.NewNonceCache(2*protocol.DefaultWindow, 0, nil)}
	})
	ctx := context.Background()

	t.Run("basic and kit Body-Sign", func(t *testing.T) {
		g := NewWithT(t)
		for _, c := range []struct{ family, key string }{
			{"basic", oldAccess}, {"basic", newAccess}, {"v1", oldAccess}, {"v1", newAccess}, {"kit", oldKit}, {"kit", newKit},
		} {
			// rotationCall checks the Body-Sign against the verifying key and against the other.
			g.Expect(rotationCall(g, base, c.family, c.key, newAccess)).To(Equal(protocol.CodeSuccess), "%s call signed with %q", c.family, c.key)
		}
		// Refused calls (a key that is not configured) are answered with the current access key.
		for _, family := range []string{"basic", "v1", "kit"} {
			g.Expect(rotationCall(g, base, family, "not-a-configured-key", newAccess)).To(Equal(protocol.CodeAuthFailed), family)
		}
	})

	t.Run("V1 credentials", func(t *testing.T) {
		g := NewWithT(t)
		id, _ := buy(t, skuSmall)
		makeReady(g, id, true)
		for _, tc := range []struct{ key, other string }{{oldAccess, newAccess}, {newAccess, oldAccess}} {
			for _, encryptType := range []string{protocol.EncryptTypeAES256, protocol.EncryptTypeAES128} {
				// The simulator checks Body-Sign with the key it signed the call with.
				a, err := marketFor(t, base, withKey(tc.key)).V1(ctx, v1Params("activity", "queryInstance", "instanceId", id, "encryptType", encryptType))
				expectCode(g, a, err, protocol.CodeSuccess)
				g.Expect(a.Info).To(HaveLen(1))
				info := a.Info[0].AppInfo
				g.Expect(protocol.DecryptCredential(tc.key, info.UserName, encryptType)).To(Equal("admin"))
				g.Expect(protocol.DecryptCredential(tc.key, info.Password, encryptType)).To(Equal("S3cret-Passw0rd"))
				if plain, err := protocol.DecryptCredential(tc.other, info.Password, encryptType); err == nil {
					g.Expect(plain).NotTo(Equal("S3cret-Passw0rd"), "credentials answered to a call signed with %q open with %q", tc.key, tc.other)
				}
			}
		}
	})
}

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

package e2e

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// The local cluster's components — etcd above all, which answers anyone without authentication
// and holds every Secret — listen on the loopback interface only (hack/kwokctl.yaml), never on
// every interface of the developer's or CI's machine.
var _ = Describe("The local cluster", Label("install"), func() {
	It("has its control plane listen on loopback addresses only", func() {
		controlPlaneListensOnLoopbackOnly(Default)
	})
})

func controlPlaneListensOnLoopbackOnly(g Gomega) {
	var beyond []string
	for _, component := range framework.ControlPlaneComponents {
		addrs, err := cluster.ListenAddresses(component)
		g.Expect(err).NotTo(HaveOccurred())
		// A component found listening on nothing would make this test prove nothing.
		g.Expect(addrs).NotTo(BeEmpty(), "%s listens on no TCP address", component)
		for _, a := range addrs {
			if !framework.Loopback(a) {
				beyond = append(beyond, component+" on "+a.String())
			}
		}
	}
	g.Expect(beyond).To(BeEmpty(), "components listening on addresses reachable from beyond this machine")
}

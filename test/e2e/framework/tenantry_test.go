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

package framework

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenantry/tenantry/internal/testenv"
)

// The kubeconfig written for a ServiceAccount, and the configuration returned, authenticate as
// that ServiceAccount against a real API server; one that does not exist gets no kubeconfig.
func TestServiceAccountKubeconfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	env, admin, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "kube", "probe.kubeconfig")
	cfg, err := ServiceAccountKubeconfig(ctx, cs, admin, "default", "probe", time.Hour, path)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600 (it holds a token)", fi.Mode().Perm())
	}
	const want = "system:serviceaccount:default:probe"
	for name, c := range map[string]*rest.Config{"returned": cfg, "written": fromFile} {
		sacs, err := kubernetes.NewForConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		review, err := sacs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("%s configuration: %v", name, err)
		}
		if got := review.Status.UserInfo.Username; got != want {
			t.Errorf("%s configuration authenticates as %q, want %q", name, got, want)
		}
	}

	missing := filepath.Join(t.TempDir(), "missing.kubeconfig")
	if _, err := ServiceAccountKubeconfig(ctx, cs, admin, "default", "missing", time.Hour, missing); err == nil {
		t.Error("a ServiceAccount that does not exist: no error")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a ServiceAccount that does not exist: kubeconfig written (stat: %v)", err)
	}
}

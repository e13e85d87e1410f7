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

package webhookbridge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// handleQuery reports the instances the marketplace asks about. Unknown ids are left out; if
// none is known the answer is 000003. Instances without a URL yet are still being provisioned
// and are left out too, so every entry has its mandatory frontEndUrl; if no known instance has
// a URL the answer is 000004, and the marketplace asks again.
//
// A debug query (testFlag=1) is always answered 000000 (docs/protocol.md §6.5): an id that can
// name an instance but names none, or one not provisioned yet, gets an entry whose every
// value says it is a test (policy.DebugAppInfo), and a pre-flight finding when it does not
// exist. An id that cannot be an instance name is never echoed back.
func (s *Server) handleQuery(ctx context.Context, c *call, p *protocol.QueryInstance) (protocol.Response, error) {
	c.instanceID = strings.Join(p.InstanceIDs, ",")
	answer := success()
	known := 0
	for _, id := range p.InstanceIDs {
		ti, err := s.getInstance(ctx, id)
		switch {
		case errors.Is(err, errInstanceNotFound) && c.testFlag:
			s.preflight(ctx, nil, "instance_not_found", "no TenantInstance %q exists; a real query would leave it out", truncateRunes(id, protocol.MaxInstanceIDLength))
			if validInstanceName(id) {
				answer.Info = append(answer.Info, protocol.InstanceInfo{InstanceID: id, AppInfo: policy.DebugAppInfo(id)})
			}
			continue
		case errors.Is(err, errInstanceNotFound):
			continue
		case err != nil:
			return protocol.Response{}, err
		}
		known++
		if ti.Status.URL == "" {
			if c.testFlag {
				answer.Info = append(answer.Info, protocol.InstanceInfo{InstanceID: ti.Name, AppInfo: policy.DebugAppInfo(ti.Name)})
			}
			continue
		}
		info, err := s.appInfo(ctx, ti)
		if err != nil {
			return protocol.Response{}, err
		}
		answer.Info = append(answer.Info, protocol.InstanceInfo{InstanceID: ti.Name, AppInfo: info, UsageInfo: policy.UsageInfo(ti)})
	}
	switch {
	case c.testFlag:
		return answer, nil
	case known == 0:
		return protocol.Response{}, errInstanceNotFound
	case len(answer.Info) == 0:
		return protocol.NewResponse(protocol.CodeInProgress), nil
	}
	return answer, nil
}

// Memos shown to the customer next to the instance (the encoder escapes the Chinese as \uXXXX).
const (
	memoAdminAccount = "Sign in with this administrator account and change its password. 请使用此管理员账号登录并修改密码。"
	memoSuspended    = "This subscription is suspended; renewing it in KooGallery restores it. 订阅已暂停，在云商店续费即可恢复。"
)

// appInfo is what the customer needs to reach an instance: the operator's URLs and, once the
// operator has created it, the initial admin account from the tenant-admin Secret. The Secret is
// read only in the namespace the bridge derives from the instance name, never one the status
// names: whoever could write a status could otherwise point the bridge at another namespace's
// Secret of that name and have the marketplace's caller read it.
func (s *Server) appInfo(ctx context.Context, ti *tenantryv1alpha1.TenantInstance) (*protocol.AppInfo, error) {
	info := &protocol.AppInfo{FrontEndURL: ti.Status.URL, AdminURL: ti.Status.AdminURL}
	if ti.Status.Namespace != "" || ti.Status.AdminAccountSecretRef != nil {
		ns := tenantryv1alpha1.NamespaceName(ti.Name)
		secret := &corev1.Secret{}
		err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenantryv1alpha1.AdminSecretName}, secret)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("reading the admin account of %q: %w", ti.Name, err)
		default:
			info.UserName = string(secret.Data[corev1.BasicAuthUsernameKey])
			info.Password = string(secret.Data[corev1.BasicAuthPasswordKey])
		}
	}
	switch {
	case policy.LifecycleOf(&ti.Spec) == tenantryv1alpha1.LifecycleFrozen:
		info.Memo = memoSuspended
	case info.UserName != "" && info.Password != "":
		info.Memo = memoAdminAccount
	}
	return info, nil
}

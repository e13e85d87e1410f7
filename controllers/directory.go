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

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// reconcileAppCredentials decrypts the 联营 applications' client secrets into a Secret.
func (r *TenantInstanceReconciler) reconcileAppCredentials(ctx context.Context, s *scope) error {
	if t := s.instance.Spec.Tenant; t != nil && len(t.Applications) > 0 {
		if r.MerchantKey == nil {
			s.waitingFor = "the operator has no merchant private key to decrypt application client secrets"
			return nil
		}
		secrets := make(map[string]string, len(t.Applications))
		for _, app := range t.Applications {
			plain, err := DecryptClientSecret(r.MerchantKey, app.EncryptedClientSecret)
			if err != nil {
				s.stalledReason = tenantryv1alpha1.ReasonApplyFailed
				s.stalledMessage = fmt.Sprintf("client secret of application %q cannot be decrypted with the merchant key", app.AppID)
				return nil
			}
			secrets[app.AppID] = plain
		}
		if err := r.apply(ctx, s.desired.AppCredentialsSecret(secrets)); err != nil {
			return fmt.Errorf("applying application credentials: %w", err)
		}
	}
	return nil
}

// reconcileDirectory projects the instance's TenantDirectory, when it has one, into a ConfigMap.
func (r *TenantInstanceReconciler) reconcileDirectory(ctx context.Context, s *scope) error {
	dir := &tenantryv1alpha1.TenantDirectory{}
	if err := r.Get(ctx, client.ObjectKey{Name: s.instance.Name}, dir); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading tenant directory: %w", err)
	}
	cm, err := s.desired.DirectoryConfigMap(dir)
	if err != nil {
		return err
	}
	if err := r.apply(ctx, cm); err != nil {
		return fmt.Errorf("applying tenant directory config map: %w", err)
	}
	return nil
}

// directoryVolumes are the pod volumes through which the app reads its 联营 directory.
func (d Desired) directoryVolumes() []*corev1ac.VolumeApplyConfiguration {
	return []*corev1ac.VolumeApplyConfiguration{
		// Optional so that tenants without a 联营 directory start too.
		corev1ac.Volume().WithName("directory").
			WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(DirectoryName).WithOptional(true)),
	}
}

// directoryMounts mount directoryVolumes into the app container.
func (d Desired) directoryMounts() []*corev1ac.VolumeMountApplyConfiguration {
	return []*corev1ac.VolumeMountApplyConfiguration{
		corev1ac.VolumeMount().WithName("directory").WithMountPath(directoryMountPath).WithReadOnly(true),
	}
}

// AppCredentialsSecret holds the decrypted OAuth client credentials of the tenant's applications,
// keyed <appId>.clientId and <appId>.clientSecret.
func (d Desired) AppCredentialsSecret(secrets map[string]string) *corev1ac.SecretApplyConfiguration {
	labels := d.Labels()
	labels[tenantryv1alpha1.LabelSecretRole] = tenantryv1alpha1.SecretRoleAppCredentials
	data := map[string][]byte{}
	if t := d.Instance.Spec.Tenant; t != nil {
		for _, app := range t.Applications {
			data[app.AppID+".clientId"] = []byte(app.ClientID)
			data[app.AppID+".clientSecret"] = []byte(secrets[app.AppID])
		}
	}
	return corev1ac.Secret(AppCredentialsName, d.namespace()).
		WithLabels(labels).
		WithOwnerReferences(d.ownerRef()).
		WithType(corev1.SecretTypeOpaque).
		WithData(data)
}

// DirectoryConfigMap projects the tenant's 联营 users and departments as users.json and orgs.json,
// sorted so that the same directory always yields the same bytes.
func (d Desired) DirectoryConfigMap(dir *tenantryv1alpha1.TenantDirectory) (*corev1ac.ConfigMapApplyConfiguration, error) {
	users := append([]tenantryv1alpha1.DirectoryUser(nil), dir.Spec.Users...)
	sort.Slice(users, func(i, j int) bool {
		if users[i].AppID != users[j].AppID {
			return users[i].AppID < users[j].AppID
		}
		return users[i].UserName < users[j].UserName
	})
	orgs := append([]tenantryv1alpha1.DirectoryOrg(nil), dir.Spec.Orgs...)
	sort.Slice(orgs, func(i, j int) bool { return orgs[i].OrgCode < orgs[j].OrgCode })
	if users == nil {
		users = []tenantryv1alpha1.DirectoryUser{}
	}
	if orgs == nil {
		orgs = []tenantryv1alpha1.DirectoryOrg{}
	}
	u, err := json.Marshal(users)
	if err != nil {
		return nil, fmt.Errorf("encoding users: %w", err)
	}
	o, err := json.Marshal(orgs)
	if err != nil {
		return nil, fmt.Errorf("encoding orgs: %w", err)
	}
	return corev1ac.ConfigMap(DirectoryName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithData(map[string]string{"tenantId": dir.Spec.TenantID, "users.json": string(u), "orgs.json": string(o)}), nil
}

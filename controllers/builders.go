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
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/utils/ptr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Names of the objects in a tenant namespace. They are fixed so that a tenant's objects are found
// without listing, and so that a SKU change updates the same objects in place. The namespace's own
// name and the names the webhook bridge reads too (the admin account Secret, the quota) are in
// api/v1alpha1 (names.go).
const (
	AppName             = "app"
	SuspendedName       = "suspended"
	SharedTLSSecretName = "tenantry-shared-tls"
	DedicatedTLSName    = "tenant-tls"
	AppCredentialsName  = "tenant-app-credentials"
	DirectoryName       = "tenant-directory"
	TenantInfoName      = "tenant-info"
	LimitRangeName      = "tenant-limits"
	NetworkPolicyName   = "tenant-isolation"

	adminMountPath      = "/var/run/tenantry/admin"
	directoryMountPath  = "/var/run/tenantry/directory"
	tenantInfoMountPath = "/var/run/tenantry/tenant"
	servicePort         = 80
)

// Desired is what a TenantInstance and its plan make of the cluster: every builder below is a pure
// function of it, so the same spec always yields the same objects and a repeated apply is a no-op.
type Desired struct {
	Instance *tenantryv1alpha1.TenantInstance
	Plan     *tenantryv1alpha1.TenantPlan
	// Frozen is the effective lifecycle: the spec says Frozen, or the plan freezes expired tenants.
	Frozen bool
	// Suspended is where a frozen tenant's Ingress sends visitors: host and port of the bridge's
	// "subscription suspended" page. Empty keeps the Ingress on the (scaled-down) app.
	SuspendedHost string
	SuspendedPort int32
	// Listener is the ELB listener the tenant's Ingress is put on, when its plan names a
	// LoadBalancerPool (listeners.go).
	Listener *tenantryv1alpha1.Listener
}

func (d Desired) namespace() string { return tenantryv1alpha1.NamespaceName(d.Instance.Name) }

// Labels are put on every object of the tenant; the operator's cache selects on LabelManagedBy.
func (d Desired) Labels() map[string]string {
	return map[string]string{
		tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue,
		tenantryv1alpha1.LabelInstance:  d.Instance.Name,
		tenantryv1alpha1.LabelSKU:       d.Instance.Spec.SKU,
	}
}

// selector is the app's pod selector; it never includes the SKU because selectors are immutable.
func (d Desired) selector() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       AppName,
		tenantryv1alpha1.LabelInstance: d.Instance.Name,
	}
}

func (d Desired) ownerRef() *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(tenantryv1alpha1.GroupVersion.String()).
		WithKind("TenantInstance").
		WithName(d.Instance.Name).
		WithUID(d.Instance.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// Host is where the tenant is served, or "" when a Shared tenant's plan has no base domain.
func (d Desired) Host() string {
	if d.Instance.Spec.Domain.Type == tenantryv1alpha1.DomainDedicated {
		return d.Instance.Spec.Domain.Host
	}
	if d.Plan.Spec.Domain.BaseDomain == "" {
		return ""
	}
	return d.Instance.Name + "." + d.Plan.Spec.Domain.BaseDomain
}

// TLSSecretName is the Secret the Ingress serves TLS from, or "" for plain HTTP.
func (d Desired) TLSSecretName() string {
	if d.Instance.Spec.Domain.Type == tenantryv1alpha1.DomainDedicated {
		return DedicatedTLSName
	}
	if d.Plan.Spec.Domain.SharedTLSSecret != nil {
		return SharedTLSSecretName
	}
	return ""
}

// URL is the customer-facing address of the tenant.
func (d Desired) URL() string {
	host := d.Host()
	if host == "" {
		return ""
	}
	scheme := "http"
	if d.TLSSecretName() != "" {
		scheme = "https"
	}
	return scheme + "://" + host
}

// AdminURL is the tenant's administration address.
func (d Desired) AdminURL() string {
	u := d.URL()
	if u == "" {
		return ""
	}
	path := d.Plan.Spec.App.AdminPath
	if path == "" {
		path = "/admin"
	}
	return u + path
}

// Quantity is how much of the SKU the tenant bought: spec.quantity, or 1 when the instance
// predates the field and the API server has not defaulted it.
func (d Desired) Quantity() int32 {
	return max(d.Instance.Spec.Quantity, 1)
}

// Replicas is what the app Deployment runs now: the plan's replicas for the tenant's quantity,
// or zero while frozen.
func (d Desired) Replicas() int32 {
	if d.Frozen {
		return 0
	}
	return d.Plan.Spec.ReplicasFor(d.Quantity())
}

// Namespace builds the tenant namespace, enforcing the restricted Pod Security Standard. It is
// marked as the instance's by an annotation with its UID, not by an owner reference: nothing but
// the operator's release may delete it, and an owner reference would let the garbage collector
// delete it with the instance (a foreground deletion deletes every dependent at once, before the
// release has decided whether the tenant is kept).
func (d Desired) Namespace() *corev1ac.NamespaceApplyConfiguration {
	return corev1ac.Namespace(d.namespace()).
		WithLabels(d.Labels()).
		WithLabels(map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/audit":   "restricted",
			"pod-security.kubernetes.io/warn":    "restricted",
		}).
		WithAnnotations(map[string]string{tenantryv1alpha1.AnnotationInstanceUID: string(d.Instance.UID)})
}

// ResourceQuota caps what the tenant namespace may consume: the plan's quota for the tenant's
// quantity, computed by the same function the bridge judges a change of quantity with.
func (d Desired) ResourceQuota() *corev1ac.ResourceQuotaApplyConfiguration {
	hard := d.Plan.Spec.QuotaFor(d.Quantity())
	return corev1ac.ResourceQuota(tenantryv1alpha1.QuotaName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(hard))
}

// LimitRange gives containers defaults, so a quota on CPU and memory never rejects a pod for
// lacking requests.
func (d Desired) LimitRange() *corev1ac.LimitRangeApplyConfiguration {
	item := corev1ac.LimitRangeItem().WithType(corev1.LimitTypeContainer)
	if lr := d.Plan.Spec.LimitRange; lr != nil {
		if len(lr.Default) > 0 {
			item.WithDefault(lr.Default)
		}
		if len(lr.DefaultRequest) > 0 {
			item.WithDefaultRequest(lr.DefaultRequest)
		}
		if len(lr.Max) > 0 {
			item.WithMax(lr.Max)
		}
	}
	return corev1ac.LimitRange(LimitRangeName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithSpec(corev1ac.LimitRangeSpec().WithLimits(item))
}

// dnsNamespace and dnsPodLabelValues locate the cluster DNS a tenant's pods may always reach:
// pods in kube-system whose k8s-app label is kube-dns (kubeadm, EKS, GKE, AKS and most
// distributions, for CoreDNS too) or coredns (CCE's CoreDNS add-on). A cluster whose resolver is
// elsewhere lists it in the plan's spec.network.egress.
const dnsNamespace = "kube-system"

// dnsPodLabelValues are the values of the k8s-app label that mark the cluster DNS pods.
var dnsPodLabelValues = []string{"kube-dns", "coredns"}

// NetworkPolicy admits ingress only from the tenant namespace itself, the ingress controller's
// namespace and the plan's spec.network.ingressCIDRs (a load balancer outside the cluster). Unless the plan's spec.network.egressPolicy is Unrestricted, it lets the tenant's
// pods connect only to pods of their own namespace, the cluster DNS and what the plan's
// spec.network.egress lists: a compromised app cannot reach the API server, cloud metadata,
// other tenants or the internet unless its plan says so.
func (d Desired) NetworkPolicy() *networkingv1ac.NetworkPolicyApplyConfiguration {
	ingressNS := d.Plan.Spec.Domain.IngressControllerNamespace
	if ingressNS == "" {
		ingressNS = "ingress-nginx"
	}
	spec := networkingv1ac.NetworkPolicySpec().
		WithPodSelector(metav1ac.LabelSelector()).
		WithIngress(
			networkingv1ac.NetworkPolicyIngressRule().WithFrom(
				networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()),
			),
			networkingv1ac.NetworkPolicyIngressRule().WithFrom(
				networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(metav1ac.LabelSelector().
					WithMatchLabels(map[string]string{"kubernetes.io/metadata.name": ingressNS})),
			),
		)
	network := d.Plan.Spec.Network
	if len(network.IngressCIDRs) > 0 {
		from := networkingv1ac.NetworkPolicyIngressRule()
		for _, cidr := range network.IngressCIDRs {
			from.WithFrom(networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(cidr)))
		}
		spec.WithIngress(from)
	}
	if network.EgressPolicy == tenantryv1alpha1.EgressUnrestricted {
		spec.WithPolicyTypes(networkingv1.PolicyTypeIngress)
	} else {
		spec.WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress).
			WithEgress(
				networkingv1ac.NetworkPolicyEgressRule().WithTo(
					networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()),
				),
				networkingv1ac.NetworkPolicyEgressRule().
					WithTo(networkingv1ac.NetworkPolicyPeer().
						WithNamespaceSelector(metav1ac.LabelSelector().
							WithMatchLabels(map[string]string{"kubernetes.io/metadata.name": dnsNamespace})).
						WithPodSelector(metav1ac.LabelSelector().WithMatchExpressions(
							metav1ac.LabelSelectorRequirement().WithKey("k8s-app").
								WithOperator(metav1.LabelSelectorOpIn).WithValues(dnsPodLabelValues...)))).
					WithPorts(
						networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolUDP).WithPort(intstr.FromInt32(53)),
						networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(53)),
					),
			)
		for i := range network.Egress {
			spec.WithEgress(egressRule(&network.Egress[i]))
		}
	}
	return networkingv1ac.NetworkPolicy(NetworkPolicyName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithSpec(spec)
}

// egressRule is a plan's egress rule as a NetworkPolicy's, field for field.
func egressRule(r *tenantryv1alpha1.EgressRule) *networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration {
	out := networkingv1ac.NetworkPolicyEgressRule()
	for _, p := range r.Ports {
		port := networkingv1ac.NetworkPolicyPort()
		if p.Protocol != "" {
			port.WithProtocol(p.Protocol)
		}
		if p.Port != nil {
			port.WithPort(*p.Port)
		}
		if p.EndPort != nil {
			port.WithEndPort(*p.EndPort)
		}
		out.WithPorts(port)
	}
	for _, to := range r.To {
		peer := networkingv1ac.NetworkPolicyPeer()
		if b := to.IPBlock; b != nil {
			block := networkingv1ac.IPBlock().WithCIDR(b.CIDR)
			if len(b.Except) > 0 {
				block.WithExcept(b.Except...)
			}
			peer.WithIPBlock(block)
		}
		if to.NamespaceSelector != nil {
			peer.WithNamespaceSelector(labelSelector(to.NamespaceSelector))
		}
		if to.PodSelector != nil {
			peer.WithPodSelector(labelSelector(to.PodSelector))
		}
		out.WithTo(peer)
	}
	return out
}

func labelSelector(s *metav1.LabelSelector) *metav1ac.LabelSelectorApplyConfiguration {
	out := metav1ac.LabelSelector()
	if len(s.MatchLabels) > 0 {
		out.WithMatchLabels(s.MatchLabels)
	}
	for _, e := range s.MatchExpressions {
		req := metav1ac.LabelSelectorRequirement().WithKey(e.Key).WithOperator(e.Operator)
		if len(e.Values) > 0 {
			req.WithValues(e.Values...)
		}
		out.WithMatchExpressions(req)
	}
	return out
}

// Deployment runs the app under the restricted security context, scaled to zero while frozen.
func (d Desired) Deployment() *appsv1ac.DeploymentApplyConfiguration {
	app := d.Plan.Spec.App
	port := app.Port
	if port == 0 {
		port = 8080
	}
	env := []*corev1ac.EnvVarApplyConfiguration{
		corev1ac.EnvVar().WithName("TENANTRY_INSTANCE").WithValue(d.Instance.Name),
		corev1ac.EnvVar().WithName("TENANTRY_SKU").WithValue(d.Instance.Spec.SKU),
		// A change of quantity restarts the pods, as a change of SKU does: the quota and
		// replicas change with it. The quantity is in the tenant-info files too.
		corev1ac.EnvVar().WithName("TENANTRY_QUANTITY").WithValue(strconv.Itoa(int(d.Quantity()))),
		corev1ac.EnvVar().WithName("TENANTRY_URL").WithValue(d.URL()),
		corev1ac.EnvVar().WithName("TENANTRY_ADMIN_ACCOUNT_DIR").WithValue(adminMountPath),
		corev1ac.EnvVar().WithName("TENANTRY_DIRECTORY_DIR").WithValue(directoryMountPath),
		corev1ac.EnvVar().WithName("TENANTRY_CREDENTIALS_DIR").WithValue(credentialsMountPath),
		corev1ac.EnvVar().WithName("TENANTRY_TENANT_DIR").WithValue(tenantInfoMountPath),
	}
	for i := range app.Env {
		env = append(env, envVar(&app.Env[i]))
	}
	container := corev1ac.Container().
		WithName(AppName).
		WithImage(app.Image).
		WithPorts(corev1ac.ContainerPort().WithName("http").WithContainerPort(port).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(env...).
		WithResources(resources(app.Resources)).
		WithVolumeMounts(corev1ac.VolumeMount().WithName("admin-account").WithMountPath(adminMountPath).WithReadOnly(true)).
		WithVolumeMounts(d.directoryMounts()...).
		WithVolumeMounts(corev1ac.VolumeMount().WithName("tenant-info").WithMountPath(tenantInfoMountPath).WithReadOnly(true)).
		WithSecurityContext(corev1ac.SecurityContext().
			WithAllowPrivilegeEscalation(false).
			WithReadOnlyRootFilesystem(true).
			WithRunAsNonRoot(true).
			WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault)))
	if len(app.Command) > 0 {
		container.WithCommand(app.Command...)
	}
	if len(app.Args) > 0 {
		container.WithArgs(app.Args...)
	}
	if app.ReadinessPath != "" {
		container.WithReadinessProbe(corev1ac.Probe().WithHTTPGet(
			corev1ac.HTTPGetAction().WithPath(app.ReadinessPath).WithPort(intstr.FromString("http"))))
	}
	podLabels := d.selector()
	podLabels[tenantryv1alpha1.LabelManagedBy] = tenantryv1alpha1.ManagedByValue
	return appsv1ac.Deployment(AppName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(d.Replicas()).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(d.selector())).
			WithStrategy(appsv1ac.DeploymentStrategy().WithType(appsv1.RollingUpdateDeploymentStrategyType)).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(podLabels).
				WithSpec(corev1ac.PodSpec().
					WithAutomountServiceAccountToken(false).
					WithEnableServiceLinks(false).
					WithSecurityContext(corev1ac.PodSecurityContext().
						WithRunAsNonRoot(true).
						WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
					WithContainers(container).
					WithVolumes(corev1ac.Volume().WithName("admin-account").
						WithSecret(corev1ac.SecretVolumeSource().WithSecretName(tenantryv1alpha1.AdminSecretName).WithDefaultMode(0o440))).
					WithVolumes(d.directoryVolumes()...).
					// Not optional: the operator applies it before the Deployment, and an app
					// started without it would not know its own instance.
					WithVolumes(corev1ac.Volume().WithName("tenant-info").
						WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(TenantInfoName))).
					WithImagePullSecrets(d.imagePullSecrets()...)))).
		WithStatus(nil)
}

// imagePullSecrets names the plan's pull secrets; none adds nothing to the pod template, so
// plans without them keep today's template.
func (d Desired) imagePullSecrets() []*corev1ac.LocalObjectReferenceApplyConfiguration {
	var refs []*corev1ac.LocalObjectReferenceApplyConfiguration
	for _, ref := range d.Plan.Spec.App.ImagePullSecrets {
		refs = append(refs, corev1ac.LocalObjectReference().WithName(ref.Name))
	}
	return refs
}

// TenantInfoConfigMap tells the app what was bought and by whom, one file per key under
// TENANTRY_TENANT_DIR: instanceId, sku, productId, quantity and url always; tenantId,
// tenantCode, name and domainName once a 联营 enterprise is bound (spec.tenant). The kubelet
// updates the mounted files of a running pod when they change, so a tenantSync that renames the
// enterprise reaches the app without a restart.
func (d Desired) TenantInfoConfigMap() *corev1ac.ConfigMapApplyConfiguration {
	spec := d.Instance.Spec
	data := map[string]string{
		"instanceId": d.Instance.Name,
		"sku":        spec.SKU,
		"productId":  spec.ProductID,
		"quantity":   strconv.Itoa(int(d.Quantity())),
		"url":        d.URL(),
	}
	if t := spec.Tenant; t != nil {
		data["tenantId"] = t.TenantID
		data["tenantCode"] = t.TenantCode
		data["name"] = t.Name
		data["domainName"] = t.DomainName
	}
	return corev1ac.ConfigMap(TenantInfoName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithData(data)
}

// Service fronts the app pods.
func (d Desired) Service() *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(AppName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(d.selector()).
			WithPorts(corev1ac.ServicePort().WithName("http").WithPort(servicePort).
				WithTargetPort(intstr.FromString("http")).WithProtocol(corev1.ProtocolTCP)))
}

// SuspendedService points at the bridge's "subscription suspended" page; nil when not configured.
func (d Desired) SuspendedService() *corev1ac.ServiceApplyConfiguration {
	if d.SuspendedHost == "" {
		return nil
	}
	return corev1ac.Service(SuspendedName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeExternalName).
			WithExternalName(d.SuspendedHost).
			WithPorts(corev1ac.ServicePort().WithName("http").WithPort(d.SuspendedPort).WithProtocol(corev1.ProtocolTCP)))
}

// Ingress exposes the tenant at its host; while frozen it sends visitors to the suspended page.
// It returns nil when there is no host to serve (a Shared tenant whose plan has no base domain).
func (d Desired) Ingress() *networkingv1ac.IngressApplyConfiguration {
	host := d.Host()
	if host == "" {
		return nil
	}
	backend, port := AppName, int32(servicePort)
	if d.Frozen && d.SuspendedHost != "" {
		backend, port = SuspendedName, d.SuspendedPort
	}
	annotations := map[string]string{}
	for k, v := range d.Plan.Spec.Domain.Annotations {
		annotations[k] = v
	}
	if d.Instance.Spec.Domain.Type == tenantryv1alpha1.DomainDedicated && d.Plan.Spec.Domain.ClusterIssuer != "" {
		annotations["cert-manager.io/cluster-issuer"] = d.Plan.Spec.Domain.ClusterIssuer
	}
	if l := d.Listener; l != nil {
		annotations[AnnotationELBID] = l.ELBID
		annotations[AnnotationELBPort] = strconv.Itoa(int(l.Port))
		class := l.Class
		if class == "" {
			class = tenantryv1alpha1.ELBDedicated
		}
		annotations[AnnotationELBClass] = string(class)
	}
	if d.Frozen && d.SuspendedHost != "" {
		// The suspended page is served over plain HTTP inside the cluster whatever the app speaks.
		annotations["nginx.ingress.kubernetes.io/upstream-vhost"] = host
	}
	spec := networkingv1ac.IngressSpec().
		WithRules(networkingv1ac.IngressRule().WithHost(host).WithHTTP(
			networkingv1ac.HTTPIngressRuleValue().WithPaths(
				networkingv1ac.HTTPIngressPath().WithPath("/").WithPathType(networkingv1.PathTypePrefix).
					WithBackend(networkingv1ac.IngressBackend().WithService(
						networkingv1ac.IngressServiceBackend().WithName(backend).
							WithPort(networkingv1ac.ServiceBackendPort().WithNumber(port)))))))
	if cls := d.Plan.Spec.Domain.IngressClassName; cls != "" {
		spec.WithIngressClassName(cls)
	}
	if tls := d.TLSSecretName(); tls != "" {
		spec.WithTLS(networkingv1ac.IngressTLS().WithHosts(host).WithSecretName(tls))
	}
	ing := networkingv1ac.Ingress(AppName, d.namespace()).
		WithLabels(d.Labels()).
		WithOwnerReferences(d.ownerRef()).
		WithSpec(spec)
	if len(annotations) > 0 {
		ing.WithAnnotations(annotations)
	}
	return ing
}

// AdminSecret holds the tenant's initial admin account. It is created once with the given
// password and never applied again, so the password is never regenerated.
func (d Desired) AdminSecret(password string) *corev1.Secret {
	s := &corev1.Secret{}
	s.Name, s.Namespace = tenantryv1alpha1.AdminSecretName, d.namespace()
	s.Labels = d.Labels()
	s.Labels[tenantryv1alpha1.LabelSecretRole] = tenantryv1alpha1.SecretRoleAdmin
	s.Type = corev1.SecretTypeBasicAuth
	s.StringData = map[string]string{corev1.BasicAuthUsernameKey: "admin", corev1.BasicAuthPasswordKey: password}
	return s
}

// SharedTLSSecret is the tenant's copy of the plan's shared wildcard certificate.
func (d Desired) SharedTLSSecret(source *corev1.Secret) *corev1ac.SecretApplyConfiguration {
	labels := d.Labels()
	labels[tenantryv1alpha1.LabelSecretRole] = tenantryv1alpha1.SecretRoleTLS
	return corev1ac.Secret(SharedTLSSecretName, d.namespace()).
		WithLabels(labels).
		WithOwnerReferences(d.ownerRef()).
		WithType(corev1.SecretTypeTLS).
		WithData(map[string][]byte{
			corev1.TLSCertKey:       source.Data[corev1.TLSCertKey],
			corev1.TLSPrivateKeyKey: source.Data[corev1.TLSPrivateKeyKey],
		})
}

func envVar(e *corev1.EnvVar) *corev1ac.EnvVarApplyConfiguration {
	out := corev1ac.EnvVar().WithName(e.Name)
	if e.ValueFrom == nil {
		return out.WithValue(e.Value)
	}
	src := corev1ac.EnvVarSource()
	switch vf := e.ValueFrom; {
	case vf.SecretKeyRef != nil:
		src.WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(vf.SecretKeyRef.Name).WithKey(vf.SecretKeyRef.Key).
			WithOptional(ptr.Deref(vf.SecretKeyRef.Optional, false)))
	case vf.ConfigMapKeyRef != nil:
		src.WithConfigMapKeyRef(corev1ac.ConfigMapKeySelector().WithName(vf.ConfigMapKeyRef.Name).WithKey(vf.ConfigMapKeyRef.Key).
			WithOptional(ptr.Deref(vf.ConfigMapKeyRef.Optional, false)))
	case vf.FieldRef != nil:
		src.WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath(vf.FieldRef.FieldPath))
	case vf.ResourceFieldRef != nil:
		src.WithResourceFieldRef(corev1ac.ResourceFieldSelector().WithResource(vf.ResourceFieldRef.Resource).
			WithContainerName(AppName))
	}
	return out.WithValueFrom(src)
}

func resources(r corev1.ResourceRequirements) *corev1ac.ResourceRequirementsApplyConfiguration {
	out := corev1ac.ResourceRequirements()
	if len(r.Limits) > 0 {
		out.WithLimits(r.Limits)
	}
	if len(r.Requests) > 0 {
		out.WithRequests(r.Requests)
	}
	return out
}

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

// Package plugin is `kubectl tenantry`: the fleet at a glance, one tenant's story, and a check
// of an installation, for SREs at a terminal and for scripts (-o json).
package plugin

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// ExitError carries the exit code a command ends with after it printed its report.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return "exit status " + strconv.Itoa(e.Code) }

// DefaultNamespace is where doctor looks for the installation unless -n says otherwise.
const DefaultNamespace = "tenantry-system"

// options are the flags every command shares.
type options struct {
	loading   *clientcmd.ClientConfigLoadingRules
	overrides *clientcmd.ConfigOverrides
	output    string
	out       io.Writer
	color     bool
	now       func() time.Time
}

// NewCommand is `kubectl tenantry`.
func NewCommand(out io.Writer) *cobra.Command {
	o := &options{
		loading:   clientcmd.NewDefaultClientConfigLoadingRules(),
		overrides: &clientcmd.ConfigOverrides{},
		out:       out, now: time.Now, color: isTerminal(out),
	}
	root := &cobra.Command{
		Use:           "kubectl-tenantry",
		Short:         "Inspect Tenantry tenants and check an installation",
		Long:          "kubectl tenantry shows the fleet of Tenantry tenants (status), one tenant's story (describe) and checks an installation (doctor).",
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl tenantry"},
	}
	// The connection flags kubectl has: --kubeconfig, --context, --cluster, --user, --server, --token…
	root.PersistentFlags().StringVar(&o.loading.ExplicitPath, clientcmd.RecommendedConfigPathFlag, "", "Path to the kubeconfig file.")
	clientcmd.BindOverrideFlags(o.overrides, root.PersistentFlags(), clientcmd.RecommendedConfigOverrideFlags(""))
	root.PersistentFlags().StringVarP(&o.output, "output", "o", "table", "Output format: table or json.")
	root.AddCommand(statusCommand(o), describeCommand(o), doctorCommand(o))
	return root
}

func (o *options) client() (client.Client, error) {
	if o.output != "table" && o.output != "json" {
		return nil, fmt.Errorf("--output must be table or json, not %q", o.output)
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(o.loading, o.overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, tenantryv1alpha1.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the API server: %w", err)
	}
	return c, nil
}

func (o *options) json(v any) error {
	enc := json.NewEncoder(o.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func statusCommand(o *options) *cobra.Command {
	var within string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "The fleet at a glance: tenants by state, SKU and lifecycle, expiring, stalled and releasing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			horizon, err := ParseDays(within)
			if err != nil {
				return fmt.Errorf("--expiring-within: %w", err)
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var tis tenantryv1alpha1.TenantInstanceList
			if err := c.List(ctx, &tis); err != nil {
				return fmt.Errorf("listing TenantInstances: %w", err)
			}
			var plans tenantryv1alpha1.TenantPlanList
			if err := c.List(ctx, &plans); err != nil {
				return fmt.Errorf("listing TenantPlans: %w", err)
			}
			var pools tenantryv1alpha1.LoadBalancerPoolList
			if err := c.List(ctx, &pools); err != nil && !meta.IsNoMatchError(err) {
				return fmt.Errorf("listing LoadBalancerPools: %w", err)
			}
			st := Summarize(tis.Items, plans.Items, pools.Items, o.now(), horizon)
			if o.output == "json" {
				return o.json(st)
			}
			return PrintStatus(o.out, st, o.color)
		},
	}
	cmd.Flags().StringVar(&within, "expiring-within", "7d", "List tenants whose paid period ends within this long (e.g. 7d, 36h).")
	return cmd
}

func describeCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "describe INSTANCE_ID",
		Short: "One tenant's story: the marketplace calls that changed it, conditions, children, URLs, pending changes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			story, err := gatherStory(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if o.output == "json" {
				return o.json(story)
			}
			return PrintStory(o.out, story, o.now(), o.color)
		},
	}
}

func gatherStory(ctx context.Context, c client.Client, id string) (InstanceStory, error) {
	ti := &tenantryv1alpha1.TenantInstance{}
	if err := c.Get(ctx, client.ObjectKey{Name: id}, ti); err != nil {
		if apierrors.IsNotFound(err) {
			return InstanceStory{}, fmt.Errorf("TenantInstance %q not found", id)
		}
		return InstanceStory{}, fmt.Errorf("reading TenantInstance %s: %w", id, err)
	}
	var events corev1.EventList
	if err := c.List(ctx, &events, client.MatchingFields{"involvedObject.kind": "TenantInstance", "involvedObject.name": id}); err != nil {
		return InstanceStory{}, fmt.Errorf("listing the instance's Events: %w", err)
	}
	ch, err := gatherChildren(ctx, c, ti.Status.Namespace)
	if err != nil {
		return InstanceStory{}, err
	}
	var hosts tenantryv1alpha1.TenantHostList
	if err := c.List(ctx, &hosts); err != nil && !meta.IsNoMatchError(err) {
		return InstanceStory{}, fmt.Errorf("listing TenantHosts: %w", err)
	}
	var dirs tenantryv1alpha1.TenantDirectoryList
	if err := c.List(ctx, &dirs, client.MatchingLabels{tenantryv1alpha1.LabelInstance: id}); err != nil && !meta.IsNoMatchError(err) {
		return InstanceStory{}, fmt.Errorf("listing TenantDirectories: %w", err)
	}
	return Tell(ti, events.Items, ch, hosts.Items, dirs.Items), nil
}

// gatherChildren reads what the tenant namespace holds. Of Secrets only metadata is read: their
// data never leaves the API server for this command.
func gatherChildren(ctx context.Context, c client.Client, ns string) (ChildObjects, error) {
	var ch ChildObjects
	if ns == "" {
		return ch, nil
	}
	var (
		deps    appsv1.DeploymentList
		svcs    corev1.ServiceList
		ings    networkingv1.IngressList
		cms     corev1.ConfigMapList
		nps     networkingv1.NetworkPolicyList
		quotas  corev1.ResourceQuotaList
		secrets metav1.PartialObjectMetadataList
	)
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	for _, l := range []client.ObjectList{&deps, &svcs, &ings, &cms, &nps, &quotas, &secrets} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return ch, fmt.Errorf("listing %T in %s: %w", l, ns, err)
		}
	}
	ch.Deployments, ch.Services, ch.Ingresses = deps.Items, svcs.Items, ings.Items
	ch.ConfigMaps, ch.NetworkPolicies, ch.ResourceQuotas = cms.Items, nps.Items, quotas.Items
	for _, m := range secrets.Items {
		ch.Secrets = append(ch.Secrets, corev1.Secret{ObjectMeta: m.ObjectMeta})
	}
	return ch, nil
}

func doctorCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check an installation: CRDs, operator and bridge, plans, ingress classes, TLS sources, issuers, network isolation",
		Long: "doctor checks an installation and exits 1 when a check finds an error (warnings exit 0).\n" +
			"The installation's namespace is given with -n (default " + DefaultNamespace + ").\n" +
			"It reads what the caller may read; a check it cannot make is reported as a warning, never guessed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			namespace := o.overrides.Context.Namespace
			if namespace == "" {
				namespace = DefaultNamespace
			}
			in := gatherInstallation(cmd.Context(), c, namespace, o.now())
			d := Diagnose(in)
			if o.output == "json" {
				err = o.json(d)
			} else {
				err = PrintDiagnosis(o.out, d, o.color)
			}
			if err != nil {
				return err
			}
			if d.Result == ResultError {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	return cmd
}

func gatherInstallation(ctx context.Context, c client.Client, namespace string, now time.Time) Installation {
	in := Installation{Now: now, Namespace: namespace, SharedTLS: map[string]SecretFinding{}, ClusterIssuers: map[string]bool{}}
	var crds apiextensionsv1.CustomResourceDefinitionList
	in.CRDsErr = c.List(ctx, &crds)
	in.CRDs = crds.Items

	var deps appsv1.DeploymentList
	in.DeploymentErr = c.List(ctx, &deps, client.InNamespace(namespace), client.MatchingLabels{"app.kubernetes.io/part-of": "tenantry"})
	if in.DeploymentErr == nil && len(deps.Items) == 0 {
		// Installations whose labels predate part-of: every Deployment of the namespace.
		in.DeploymentErr = c.List(ctx, &deps, client.InNamespace(namespace))
	}
	in.Deployments = deps.Items

	lease := &coordinationv1.Lease{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: LeaderLeaseName}, lease); err == nil {
		in.Lease = lease
	} else if !apierrors.IsNotFound(err) {
		in.LeaseErr = err
	}

	var plans tenantryv1alpha1.TenantPlanList
	if err := c.List(ctx, &plans); err == nil {
		in.Plans = plans.Items
	}
	var tis tenantryv1alpha1.TenantInstanceList
	if err := c.List(ctx, &tis); err == nil {
		in.Instances = tis.Items
	}

	var classes networkingv1.IngressClassList
	in.IngressErr = c.List(ctx, &classes)
	for _, ic := range classes.Items {
		in.IngressClasses = append(in.IngressClasses, IngressClass{Name: ic.Name, Default: ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true"})
	}

	for _, p := range in.Plans {
		ref := p.Spec.Domain.SharedTLSSecret
		if ref == nil {
			continue
		}
		key := ref.Namespace + "/" + ref.Name
		if _, done := in.SharedTLS[key]; done {
			continue
		}
		s := &corev1.Secret{}
		err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, s)
		switch {
		case apierrors.IsNotFound(err):
			in.SharedTLS[key] = SecretFinding{}
		case err != nil:
			in.SharedTLS[key] = SecretFinding{Err: err}
		default:
			in.SharedTLS[key] = SecretFinding{
				Found:    true,
				Labelled: s.Labels[tenantryv1alpha1.LabelSecretRole] == tenantryv1alpha1.SecretRoleSharedTLS,
				NotAfter: certificateNotAfter(s.Data[corev1.TLSCertKey]),
			}
		}
	}

	issuers := &unstructured.UnstructuredList{}
	issuers.SetGroupVersionKind(schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "ClusterIssuerList"})
	switch err := c.List(ctx, issuers); {
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		in.CertManagerInstalled = false
	case err != nil:
		in.CertManagerErr = err
	default:
		in.CertManagerInstalled = true
		for _, iss := range issuers.Items {
			in.ClusterIssuers[iss.GetName()] = unstructuredReady(&iss)
		}
	}

	var pools tenantryv1alpha1.LoadBalancerPoolList
	in.PoolsErr = c.List(ctx, &pools)
	in.Pools = pools.Items

	// Pull secrets by metadata only, one list per name the plans use.
	in.PullSecrets = map[string]map[string]bool{}
	for _, p := range in.Plans {
		for _, ref := range p.Spec.App.ImagePullSecrets {
			if _, done := in.PullSecrets[ref.Name]; done {
				continue
			}
			var list metav1.PartialObjectMetadataList
			list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
			if err := c.List(ctx, &list, client.MatchingFields{"metadata.name": ref.Name}); err != nil {
				in.PullSecretsErr = err
				break
			}
			found := map[string]bool{}
			for _, m := range list.Items {
				found[m.Namespace] = true
			}
			in.PullSecrets[ref.Name] = found
		}
	}

	var ds appsv1.DaemonSetList
	in.DaemonSetErr = c.List(ctx, &ds, client.InNamespace("kube-system"))
	for _, d := range ds.Items {
		in.KubeSystemDaemonSets = append(in.KubeSystemDaemonSets, d.Name)
	}
	return in
}

// certificateNotAfter is the expiry of the first certificate of a PEM bundle, zero when there is none.
func certificateNotAfter(data []byte) time.Time {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return time.Time{}
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}
	}
	return cert.NotAfter
}

func unstructuredReady(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Ready" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// ParseDays parses a duration that may also be given in days ("7d").
func ParseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 7d or 36h", s)
	}
	return d, nil
}

// isTerminal tells whether out is a terminal, where colour is wanted.
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == ""
}

// Main runs the command and returns the process exit code.
func Main(args []string, out, errOut io.Writer) int {
	cmd := NewCommand(out)
	cmd.SetArgs(args)
	cmd.SetErr(errOut)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		var exit *ExitError
		if errors.As(err, &exit) {
			return exit.Code
		}
		fmt.Fprintln(errOut, "error:", err)
		return 1
	}
	return 0
}

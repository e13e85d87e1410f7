{{/*
tenantry.name is the chart name, or nameOverride.
*/}}
{{- define "tenantry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
tenantry.fullname prefixes every object: fullnameOverride, else the release name when it already
contains the chart name (release "tenantry" gives "tenantry"), else <release>-<chart>. Truncated so
that the longest suffix ("-webhookbridge-metrics") still fits a 63-character DNS label.
*/}}
{{- define "tenantry.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 41 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 41 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 41 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
tenantry.chart is chart name and version, for the helm.sh/chart label.
*/}}
{{- define "tenantry.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
tenantry.labels are put on every object.
*/}}
{{- define "tenantry.labels" -}}
helm.sh/chart: {{ include "tenantry.chart" . }}
{{ include "tenantry.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tenantry
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
tenantry.selectorLabels identify the release; the component selectors below add the component.
*/}}
{{- define "tenantry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tenantry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Operator (cmd/manager) names and labels. */}}
{{- define "tenantry.manager.fullname" -}}
{{- printf "%s-manager" (include "tenantry.fullname" .) }}
{{- end }}

{{- define "tenantry.manager.selectorLabels" -}}
{{ include "tenantry.selectorLabels" . }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "tenantry.manager.labels" -}}
{{ include "tenantry.labels" . }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "tenantry.manager.serviceAccountName" -}}
{{- if .Values.manager.serviceAccount.create }}
{{- default (include "tenantry.manager.fullname" .) .Values.manager.serviceAccount.name }}
{{- else }}
{{- required "manager.serviceAccount.name is required when manager.serviceAccount.create is false" .Values.manager.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Webhook bridge (cmd/webhookbridge) names and labels. */}}
{{- define "tenantry.bridge.fullname" -}}
{{- printf "%s-webhookbridge" (include "tenantry.fullname" .) }}
{{- end }}

{{- define "tenantry.bridge.selectorLabels" -}}
{{ include "tenantry.selectorLabels" . }}
app.kubernetes.io/component: webhookbridge
{{- end }}

{{- define "tenantry.bridge.labels" -}}
{{ include "tenantry.labels" . }}
app.kubernetes.io/component: webhookbridge
{{- end }}

{{- define "tenantry.bridge.serviceAccountName" -}}
{{- if .Values.bridge.serviceAccount.create }}
{{- default (include "tenantry.bridge.fullname" .) .Values.bridge.serviceAccount.name }}
{{- else }}
{{- required "bridge.serviceAccount.name is required when bridge.serviceAccount.create is false" .Values.bridge.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
tenantry.bridge.pagesHost is the suspended-page Service's DNS name, for the operator's
--suspended-page-host.
*/}}
{{- define "tenantry.bridge.pagesHost" -}}
{{- printf "%s-pages.%s.svc.%s" (include "tenantry.bridge.fullname" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/*
tenantry.image is the one image both binaries run from: repository@digest, else repository:tag
(tag defaults to the chart's appVersion).
*/}}
{{- define "tenantry.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Keys. tenantry.keys.secretName is the Secret mounted at /etc/tenantry/keys; it validates that the
keys are given one way or the other, so every template that uses it fails with the same message.
*/}}
{{- define "tenantry.keys.secretName" -}}
{{- $k := .Values.bridge.keys }}
{{- if $k.existingSecret }}
{{- $k.existingSecret }}
{{- else }}
{{- if not (and $k.accessKey $k.marketplaceAK $k.marketplaceSK) }}
{{- fail "\n\nbridge.keys: the webhook bridge needs its keys. Set bridge.keys.existingSecret to a Secret holding access-key, marketplace-ak and marketplace-sk, or set bridge.keys.accessKey, bridge.keys.marketplaceAK and bridge.keys.marketplaceSK so that the chart creates one." }}
{{- end }}
{{- printf "%s-keys" (include "tenantry.bridge.fullname" .) }}
{{- end }}
{{- end }}

{{/* tenantry.keys.hasKit is "true" when the keys Secret holds kit-access-key. */}}
{{- define "tenantry.keys.hasKit" -}}
{{- $k := .Values.bridge.keys }}
{{- if $k.existingSecret }}{{ if $k.existingSecretHasKitAccessKey }}true{{ end }}{{ else if $k.kitAccessKey }}true{{ end }}
{{- end }}

{{/* tenantry.keys.hasMerchant is "true" when the keys Secret holds merchant-private-key.pem. */}}
{{- define "tenantry.keys.hasMerchant" -}}
{{- $k := .Values.bridge.keys }}
{{- if $k.existingSecret }}{{ if $k.existingSecretHasMerchantPrivateKey }}true{{ end }}{{ else if $k.merchantPrivateKey }}true{{ end }}
{{- end }}

{{/*
tenantry.keys.checksum changes whenever the chart-created keys change, so Pods restart and read the
new keys (both binaries read them at start). Empty with an existing Secret.
*/}}
{{- define "tenantry.keys.checksum" -}}
{{- $k := .Values.bridge.keys }}
{{- if not $k.existingSecret }}
{{- list $k.accessKey $k.previousAccessKey $k.kitAccessKey $k.previousKitAccessKey $k.marketplaceAK $k.marketplaceSK $k.merchantPrivateKey | toJson | sha256sum }}
{{- end }}
{{- end }}

{{/* tenantry.keys.mountPath is where the keys Secret is mounted in both containers. */}}
{{- define "tenantry.keys.mountPath" -}}
/etc/tenantry/keys
{{- end }}

{{/*
tenantry.rules reads the rules sync-chart.sh copied from config/rbac into files/ and fails if the
file is missing or empty, so a chart without generated RBAC never renders.
*/}}
{{- define "tenantry.rules" -}}
{{- $file := .file }}
{{- $rules := get (.root.Files.Get $file | fromYaml) "rules" }}
{{- if not $rules }}
{{- fail (printf "%s has no rules; run `make manifests` (hack/sync-chart.sh)" $file) }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/*
tenantry.networkPolicy.commonEgress are the egress rules both components need: DNS and the API
server.
*/}}
{{- define "tenantry.networkPolicy.commonEgress" -}}
{{- $np := .Values.networkPolicy -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  {{- with $np.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
- ports:
    {{- range $np.apiServer.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $np.apiServer.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
tenantry.networkPolicy.metricsFrom is the peer allowed to scrape /metrics: Pods of
metricsNamespaceSelector, or else of monitoringNamespace, or else of every namespace.
*/}}
{{- define "tenantry.networkPolicy.metricsFrom" -}}
{{- $np := .Values.networkPolicy -}}
{{- $ns := $np.metricsNamespaceSelector -}}
{{- if and (not $ns) $np.monitoringNamespace -}}
{{- $ns = dict "matchLabels" (dict "kubernetes.io/metadata.name" $np.monitoringNamespace) -}}
{{- end -}}
- namespaceSelector: {{- if $ns }}{{ toYaml $ns | nindent 4 }}{{ else }} {}{{ end }}
  podSelector: {{- if $np.metricsPodSelector }}{{ toYaml $np.metricsPodSelector | nindent 4 }}{{ else }} {}{{ end }}
{{- end }}

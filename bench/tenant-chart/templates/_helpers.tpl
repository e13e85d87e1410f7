{{- define "tenant.namespace" -}}
tenant-{{ required "instance is required" .Values.instance }}
{{- end -}}

{{- define "tenant.labels" -}}
app.kubernetes.io/managed-by: tenantry
tenantry.io/instance: {{ .Values.instance | quote }}
tenantry.io/sku: {{ .Values.sku | quote }}
{{- end -}}

{{- define "tenant.selector" -}}
app.kubernetes.io/name: app
tenantry.io/instance: {{ .Values.instance | quote }}
{{- end -}}

{{- define "tenant.host" -}}
{{ .Values.instance }}.{{ .Values.baseDomain }}
{{- end -}}

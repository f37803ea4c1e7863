{{/* Chart name, release full name and labels (the usual Helm conventions). */}}
{{- define "k0rdent-mcp.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "k0rdent-mcp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "k0rdent-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "k0rdent-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "k0rdent-mcp.labels" -}}
{{ include "k0rdent-mcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: k0rdent
app.kubernetes.io/managed-by: {{ .Values.managedBy | default .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "k0rdent-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "k0rdent-mcp.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "k0rdent-mcp.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The namespace filter: the value, else exactly the managed namespaces. */}}
{{- define "k0rdent-mcp.namespaceFilter" -}}
{{- if .Values.namespaceFilter -}}
{{- .Values.namespaceFilter -}}
{{- else -}}
{{- $quoted := list -}}
{{- range .Values.managedNamespaces -}}
{{- $quoted = append $quoted (regexQuoteMeta .) -}}
{{- end -}}
{{- if eq (len $quoted) 1 -}}
{{- printf "^%s$" (first $quoted) -}}
{{- else -}}
{{- printf "^(%s)$" (join "|" $quoted) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Host header values /mcp accepts: the Service's names, port-forward's, then the extra ones. */}}
{{- define "k0rdent-mcp.allowedHosts" -}}
{{- $svc := include "k0rdent-mcp.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $hosts := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) "localhost" "127.0.0.1" -}}
{{- join "," (concat $hosts .Values.config.allowedHosts) -}}
{{- end -}}

{{/* Where the pod mounts what it reads and writes. */}}
{{- define "k0rdent-mcp.cacheDir" -}}/var/cache/k0rdent-mcp{{- end -}}
{{- define "k0rdent-mcp.tlsDir" -}}/etc/k0rdent-mcp/tls{{- end -}}
{{- define "k0rdent-mcp.registryCaDir" -}}/etc/k0rdent-mcp/registry-ca{{- end -}}

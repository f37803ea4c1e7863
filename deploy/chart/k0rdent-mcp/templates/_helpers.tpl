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
{{- define "k0rdent-mcp.pluginSetDir" -}}/etc/k0rdent-mcp/plugin-set{{- end -}}
{{- define "k0rdent-mcp.pluginKeysDir" -}}/etc/k0rdent-mcp/plugin-keys{{- end -}}

{{/* The kubernetes.io/tls Secret the pod serves HTTPS from. */}}
{{- define "k0rdent-mcp.tlsSecretName" -}}
{{- .Values.tls.secretName | default (printf "%s-tls" (include "k0rdent-mcp.fullname" .)) -}}
{{- end -}}

{{/* "true" in DEV_ALLOW_ANY mode, the only mode in which the server acts as its ServiceAccount. */}}
{{- define "k0rdent-mcp.actsAsServiceAccount" -}}
{{- eq .Values.auth.mode "DEV_ALLOW_ANY" -}}
{{- end -}}

{{/* Where kube-rs's in-cluster configuration reads the CA and namespace (and, in DEV mode, the token). */}}
{{- define "k0rdent-mcp.serviceAccountDir" -}}/var/run/secrets/kubernetes.io/serviceaccount{{- end -}}

{{/* Refuses combinations of values that would be unsafe or that the server would refuse at start. */}}
{{- define "k0rdent-mcp.validate" -}}
{{- $mode := .Values.auth.mode -}}
{{- if not (has $mode (list "OIDC_REQUIRED" "DEV_ALLOW_ANY")) -}}
{{- fail (printf "auth.mode must be OIDC_REQUIRED or DEV_ALLOW_ANY, not %q" (trunc 200 (toString $mode))) -}}
{{- end -}}
{{- if and (eq $mode "DEV_ALLOW_ANY") (not .Values.auth.insecureAllowAnyOnNetwork) -}}
{{- fail "auth.mode=DEV_ALLOW_ANY lets anyone who reaches the pod act as its ServiceAccount (read every Secret and create Jobs in the managed namespaces); for a throw-away lab set auth.insecureAllowAnyOnNetwork=true to confirm, otherwise keep auth.mode=OIDC_REQUIRED" -}}
{{- end -}}
{{- if and (ne $mode "DEV_ALLOW_ANY") .Values.auth.insecureAllowAnyOnNetwork -}}
{{- fail "auth.insecureAllowAnyOnNetwork=true only applies to auth.mode=DEV_ALLOW_ANY; remove it" -}}
{{- end -}}
{{- if and .Values.tls.enabled .Values.tls.terminatedUpstream -}}
{{- fail "tls.terminatedUpstream=true says something in front of the server terminates TLS, but tls.enabled=true makes the server terminate it itself; set only one of them" -}}
{{- end -}}
{{- if and (eq $mode "OIDC_REQUIRED") (not .Values.tls.enabled) (not .Values.tls.terminatedUpstream) -}}
{{- fail "auth.mode=OIDC_REQUIRED with tls.enabled=false would send callers' bearer tokens in plaintext across the pod network; keep tls.enabled=true (with a kubernetes.io/tls Secret, tls.secretName), or set tls.terminatedUpstream=true if a service mesh or proxy terminates TLS for this pod" -}}
{{- end -}}
{{- if hasKey .Values.serviceAccount "automountToken" -}}
{{- fail "serviceAccount.automountToken is gone: the pod mounts the ServiceAccount token exactly in auth.mode=DEV_ALLOW_ANY; remove the value" -}}
{{- end -}}
{{- if not .Values.managedNamespaces -}}
{{- fail "managedNamespaces must name at least one namespace" -}}
{{- end -}}
{{- range $key := list "K0RDENT_MCP_AUTH_MODE" "K0RDENT_MCP_INSECURE_ALLOW_ANY_ON_NETWORK" "K0RDENT_MCP_TLS_TERMINATED_UPSTREAM" "K0RDENT_MCP_TLS_CERT" "K0RDENT_MCP_TLS_KEY" -}}
{{- if hasKey $.Values.config.extraEnv $key -}}
{{- fail (printf "config.extraEnv must not set %s: set it through auth.mode, auth.insecureAllowAnyOnNetwork and tls.*, so the chart's RBAC, token mount and TLS checks follow it" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

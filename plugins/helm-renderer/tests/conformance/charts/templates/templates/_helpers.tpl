{{- define "templates.name" -}}
{{ .Chart.Name }}-{{ .Release.Name }}
{{- end -}}
{{- define "templates.labels" }}
app: {{ include "templates.name" . }}
chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
{{- define "templates.ctx" -}}
{{ .a }}+{{ .b }}
{{- end -}}
{{- define "templates.recurse" -}}
{{ if gt (int .) 0 }}{{ . }} {{ include "templates.recurse" (sub . 1) }}{{ end }}
{{- end -}}
{{- define "templates.nil" -}}[{{ . }}]{{- end -}}

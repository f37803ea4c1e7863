{{- define "errors.fails" -}}
{{ fail "failed inside define" }}
{{- end }}
{{- define "errors.loop" -}}
{{ include "errors.loop" . }}
{{- end }}

{{/* Labels every object of the chart carries; "component" is appended by the caller. */}}
{{- define "recap.labels" -}}
app.kubernetes.io/name: recap
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Selector labels of one component: (list $ "controller"). */}}
{{- define "recap.selector" -}}
app.kubernetes.io/name: recap
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* An image reference from {repository, tag}: (list $ .Values.controller.image). */}}
{{- define "recap.image" -}}
{{- $img := index . 1 -}}
{{- printf "%s:%s" $img.repository (default (index . 0).Chart.AppVersion $img.tag) -}}
{{- end }}

{{- define "recap.logLevel" -}}
{{- if not (has .Values.logLevel (list "error" "warn" "info" "debug")) -}}
{{- fail (printf "logLevel %q: must be one of error, warn, info, debug" .Values.logLevel) -}}
{{- end -}}
{{- .Values.logLevel -}}
{{- end }}

{{- define "recap.logFormat" -}}
{{- if not (has .Values.logFormat (list "text" "json")) -}}
{{- fail (printf "logFormat %q: must be text or json" .Values.logFormat) -}}
{{- end -}}
{{- .Values.logFormat -}}
{{- end }}

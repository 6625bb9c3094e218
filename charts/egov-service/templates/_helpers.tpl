{{/*
Chart name, truncated to 63 characters (DNS label limit).
*/}}
{{- define "egov-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name (egovops sets it to the service slug) unless overridden.
*/}}
{{- define "egov-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "egov-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of the release.
*/}}
{{- define "egov-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "egov-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels (Helm best practice: app.kubernetes.io/*), plus the e-government zone and level,
which NetworkPolicies and policies select on.
*/}}
{{- define "egov-service.labels" -}}
helm.sh/chart: {{ include "egov-service.chart" . }}
{{ include "egov-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: platform-service
app.kubernetes.io/part-of: egov-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
egov.ah/service: {{ .Values.service.slug }}
egov.ah/zone: {{ .Values.service.zone }}
egov.ah/level: {{ .Values.service.level | quote }}
egov.ah/role: {{ .Values.service.role }}
{{- with .Values.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Image reference: repository@digest when a digest is given, else repository:tag.
*/}}
{{/* The image by digest (what runs), with the tag kept for people: repository[:tag]@sha256:... */}}
{{- define "egov-service.image" -}}
{{- $digest := required "image.digest is required (pin the image by digest)" .Values.image.digest }}
{{- if .Values.image.tag }}
{{- printf "%s:%s@%s" .Values.image.repository .Values.image.tag $digest }}
{{- else }}
{{- printf "%s@%s" .Values.image.repository $digest }}
{{- end }}
{{- end }}

{{- define "egov-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "egov-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The chart's name. */}}
{{- define "kant.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, prefix of every object's name. */}}
{{- define "kant.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "kant.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kant.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select every kant pod of the release, of either role. */}}
{{- define "kant.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kant.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kant.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kant.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kant.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
kant.sqlite is "true" when config keeps the store in SQLite (no store, or
store.sqlite), which one pod holds on its own volume; "" when the store is
shared (store.postgres, store.bigquery). It fails on a config that is not a
YAML mapping, and on a number of pods or a database path SQLite cannot serve.
*/}}
{{- define "kant.sqlite" -}}
{{- $cfg := fromYaml .Values.config }}
{{- if hasKey $cfg "Error" }}
{{- fail (printf "config is not a YAML mapping (kant.yaml): %s" (get $cfg "Error")) }}
{{- end }}
{{- $store := default dict $cfg.store }}
{{- if not (or (hasKey $store "postgres") (hasKey $store "bigquery")) }}
{{- if or (ne (int .Values.replicas) 1) (gt (int .Values.followers.replicas) 0) }}
{{- fail "config keeps the store in SQLite, which one pod holds on its own volume: set replicas: 1 and followers.replicas: 0, or use store.postgres for replicas (docs/postgres.md)" }}
{{- end }}
{{- $sqlite := default dict $store.sqlite }}
{{- $path := toString (default "kant.db" $sqlite.path) }}
{{- if and (hasPrefix "/" $path) (not (hasPrefix "/var/lib/kant/" $path)) }}
{{- fail (printf "config: store.sqlite.path %s is outside /var/lib/kant, the only writable directory besides /tmp (the root filesystem is read-only)" $path) }}
{{- end }}
{{- true }}
{{- end }}
{{- end }}

{{/* The name of the PersistentVolumeClaim that holds the SQLite file. */}}
{{- define "kant.claimName" -}}
{{- default (printf "%s-data" (include "kant.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

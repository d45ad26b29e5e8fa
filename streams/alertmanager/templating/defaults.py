"""The default notification templates, under the names Alertmanager defines.

Receiver fields left unset render with these, and a user's templates may call them
(``{{ template "slack.default.title" . }}``) or redefine them. The text templates produce
exactly the text Alertmanager's defaults produce. ``email.default.html`` is pulseline's own
plain layout (a heading, one table per alert, a link back), not Alertmanager's markup.
"""

from __future__ import annotations

SUBJECT_AND_LINKS = r"""
{{- define "__alertmanager" }}Alertmanager{{ end }}
{{- define "__alertmanagerURL" -}}
  {{ .ExternalURL }}/#/alerts?receiver={{ urlquery .Receiver }}
{{- end }}

{{- /* [FIRING:2] group values (the other common label values) */}}
{{- define "__subject" -}}
  [{{ toUpper .Status }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}]
  {{- " " }}{{ join " " .GroupLabels.SortedPairs.Values }}{{ " " }}
  {{- if gt (len .CommonLabels) (len .GroupLabels) -}}
    ({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ join " " .Values }}{{ end }})
  {{- end -}}
{{- end }}
{{- define "__description" }}{{ end }}

{{- /* each alert: its labels, its annotations, its source, one per line */}}
{{- define "__text_alert_list" -}}
  {{- range . -}}
    Labels:{{ "\n" }}
    {{- range .Labels.SortedPairs }}{{ printf " - %s = %s\n" .Name .Value }}{{ end -}}
    Annotations:{{ "\n" }}
    {{- range .Annotations.SortedPairs }}{{ printf " - %s = %s\n" .Name .Value }}{{ end -}}
    Source: {{ .GeneratorURL }}{{ "\n" }}
  {{- end -}}
{{- end }}
"""

SLACK = r"""
{{- define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{- define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{- define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{- define "slack.default.fallback" -}}
  {{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}
{{- end }}
{{- define "slack.default.callbackid" }}{{ end }}
{{- define "slack.default.pretext" }}{{ end }}
{{- define "slack.default.iconemoji" }}{{ end }}
{{- define "slack.default.iconurl" }}{{ end }}
{{- define "slack.default.text" }}{{ end }}
{{- define "slack.default.footer" }}{{ end }}
"""

EMAIL = r"""
{{- define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{- define "email.default.html" -}}
<!DOCTYPE html>
<html>
<head><meta charset="UTF-8"><title>{{ template "__subject" . }}</title></head>
<body style="font-family: sans-serif; font-size: 14px;">
<h2>{{ len .Alerts }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for
{{- range .GroupLabels.SortedPairs }} {{ .Name }}={{ .Value }}{{ end }}</h2>
<p><a href="{{ template "__alertmanagerURL" . }}">View in {{ template "__alertmanager" . }}</a></p>
{{- with .Alerts.Firing }}
<h3>[{{ len . }}] Firing</h3>{{ template "__email_alert_tables" . }}
{{- end }}
{{- with .Alerts.Resolved }}
<h3>[{{ len . }}] Resolved</h3>{{ template "__email_alert_tables" . }}
{{- end }}
<p style="color: #888;">Sent by {{ template "__alertmanager" . }} from
<a href="{{ .ExternalURL }}">{{ .ExternalURL }}</a></p>
</body>
</html>
{{- end }}
{{- define "__email_alert_tables" }}
{{- range . }}
<table style="border-collapse: collapse; margin-bottom: 12px;">
<tr><th colspan="2" style="text-align: left;">Labels</th></tr>
{{- range .Labels.SortedPairs }}
<tr><td>{{ .Name }}</td><td>{{ .Value }}</td></tr>
{{- end }}
{{- if .Annotations }}
<tr><th colspan="2" style="text-align: left;">Annotations</th></tr>
{{- range .Annotations.SortedPairs }}
<tr><td>{{ .Name }}</td><td>{{ .Value }}</td></tr>
{{- end }}
{{- end }}
<tr><td colspan="2"><a href="{{ .GeneratorURL }}">Source</a></td></tr>
</table>
{{- end }}
{{- end }}
"""

DEFAULT_TEMPLATES = SUBJECT_AND_LINKS + SLACK + EMAIL
"""Every default definition, as one template text."""

SLACK_DEFAULTS: dict[str, str] = {
    "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
    "username": '{{ template "slack.default.username" . }}',
    "title": '{{ template "slack.default.title" . }}',
    "title_link": '{{ template "slack.default.titlelink" . }}',
    "icon_emoji": '{{ template "slack.default.iconemoji" . }}',
    "icon_url": '{{ template "slack.default.iconurl" . }}',
    "pretext": '{{ template "slack.default.pretext" . }}',
    "text": '{{ template "slack.default.text" . }}',
    "fallback": '{{ template "slack.default.fallback" . }}',
    "callback_id": '{{ template "slack.default.callbackid" . }}',
    "footer": '{{ template "slack.default.footer" . }}',
}
"""What Alertmanager 0.25 puts in each Slack field a receiver leaves unset."""

EMAIL_DEFAULTS: dict[str, str] = {
    "subject": '{{ template "email.default.subject" . }}',
    "html": '{{ template "email.default.html" . }}',
    "text": "",
}
"""What Alertmanager 0.25 uses for an email's Subject header, HTML and text bodies."""

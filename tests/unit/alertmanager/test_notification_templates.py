"""Alertmanager's template data, functions and defaults, on hand-worked notifications."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.alertmanager.model import Alert
from streams.alertmanager.templating.functions import reReplaceAll, title, toUpper
from streams.alertmanager.templating.templates import (
    EMAIL_DEFAULTS,
    SLACK_DEFAULTS,
    Templates,
    template_data,
)
from streams.errors import ConfigError
from streams.gotemplate import TemplateError

DISK = {"alertname": "DiskFull", "job": "node", "sev": "page"}


def _alerts() -> list[Alert]:
    return [
        Alert.create({**DISK, "instance": "n1"}, {"summary": "full"}, starts_at=100.0),
        Alert.create({**DISK, "instance": "n2"}, {"summary": "full"}, starts_at=100.5),
        Alert.create({**DISK, "instance": "n3"}, {"summary": "x"}, starts_at=50.0, ends_at=90.25),
    ]


def test_default_subject_names_group_and_other_common_labels() -> None:
    templates = Templates.load()
    data = template_data("ops", "firing", _alerts(), {"alertname": "DiskFull"}, "http://am", 200)
    # 2 of 3 firing; group value DiskFull; common labels beyond the group: job, sev
    assert templates.render(SLACK_DEFAULTS["title"], data) == "[FIRING:2] DiskFull (node page)"
    assert templates.render(EMAIL_DEFAULTS["subject"], data) == "[FIRING:2] DiskFull (node page)"
    assert templates.render(SLACK_DEFAULTS["color"], data) == "danger"
    assert templates.render(SLACK_DEFAULTS["username"], data) == "Alertmanager"
    assert templates.render(SLACK_DEFAULTS["text"], data) == ""


def test_resolved_subject_has_no_count_and_keeps_a_trailing_space() -> None:
    templates = Templates.load()
    alert = Alert.create({"alertname": "Down"}, starts_at=0.0, ends_at=5.0)
    data = template_data("ops", "resolved", [alert], {"alertname": "Down"}, "http://am", 10)
    assert templates.render(SLACK_DEFAULTS["title"], data) == "[RESOLVED] Down "
    assert templates.render(SLACK_DEFAULTS["color"], data) == "good"


def test_title_link_quotes_the_receiver_as_a_regexp_then_for_a_url() -> None:
    templates = Templates.load()
    data = template_data("team.ops", "firing", _alerts()[:1], {}, "http://am:9093", 200)
    assert data.Receiver == "team\\.ops"
    assert templates.render(SLACK_DEFAULTS["title_link"], data) == (
        "http://am:9093/#/alerts?receiver=team%5C.ops"
    )


def test_alert_fields_and_methods() -> None:
    templates = Templates.load()
    data = template_data("ops", "firing", _alerts(), {"alertname": "DiskFull"}, "", 200)
    text = (
        "{{ range .Alerts }}{{ .Status }} {{ .Labels.instance }} {{ .StartsAt }} | {{ .EndsAt }}\n"
        "{{ end }}{{ .Alerts.Firing | len }}/{{ .Alerts.Resolved | len }} "
        "{{ .CommonLabels.SortedPairs.Names }} {{ (.CommonLabels.Remove .GroupLabels.Names).Values }}"
        " [{{ .CommonLabels.instance }}] {{ .CommonAnnotations }}"
    )
    assert templates.render(text, data) == (
        "firing n1 1970-01-01 00:01:40 +0000 UTC | 0001-01-01 00:00:00 +0000 UTC\n"
        "firing n2 1970-01-01 00:01:40.5 +0000 UTC | 0001-01-01 00:00:00 +0000 UTC\n"
        "resolved n3 1970-01-01 00:00:50 +0000 UTC | 1970-01-01 00:01:30.25 +0000 UTC\n"
        "2/1 [alertname job sev] [node page] [] map[]"
    )


def test_text_alert_list() -> None:
    templates = Templates.load()
    alert = Alert.create({"b": "2", "alertname": "A"}, {"s": "x"}, generator_url="http://g")
    data = template_data("ops", "firing", [alert], {}, "", 1)
    assert templates.render('{{ template "__text_alert_list" .Alerts }}', data) == (
        "Labels:\n - alertname = A\n - b = 2\nAnnotations:\n - s = x\nSource: http://g\n"
    )


def test_check_refuses_what_cannot_render_and_says_where() -> None:
    templates = Templates.load()
    templates.check('{{ template "slack.default.title" . }}', "receiver ops")
    with pytest.raises(TemplateError, match=r"^template: receiver ops title:1:4: function "):
        templates.check("{{ humanize 1 }}", "receiver ops title")
    with pytest.raises(TemplateError, match=r'template "slack\.custom" not defined'):
        templates.check('{{ template "slack.custom" . }}', "receiver ops title")
    with pytest.raises(TemplateError, match="wrong type for value; expected string; got int"):
        templates.render("{{ toUpper (len .Alerts) }}", template_data("o", "firing", [], {}, "", 0))


def test_files_from_globs_add_and_override_definitions(tmp_path: Path) -> None:
    (tmp_path / "a.tmpl").write_text('{{ define "slack.default.title" }}mine{{ end }}')
    (tmp_path / "b.tmpl").write_text('{{ define "extra" }}{{ .Status | title }}{{ end }}')
    templates = Templates.load([tmp_path / "*.tmpl", tmp_path / "none-*.tmpl"])
    data = template_data("ops", "firing", _alerts()[:1], {}, "", 200)
    assert templates.render(SLACK_DEFAULTS["title"], data) == "mine"
    assert templates.render('{{ template "extra" . }}', data) == "Firing"
    (tmp_path / "bad.tmpl").write_text("{{ if }}")
    with pytest.raises(TemplateError, match=r"bad\.tmpl:1:.*missing value for if"):
        Templates.load([tmp_path / "*.tmpl"])


def test_unreadable_template_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "x.tmpl").mkdir()
    with pytest.raises(ConfigError, match=r"x\.tmpl"):
        Templates.load([tmp_path / "x.tmpl"])


def test_html_rendering_escapes_alert_text() -> None:
    templates = Templates.load()
    alert = Alert.create({"alertname": "A"}, {"s": "<b>&"})
    data = template_data("ops", "firing", [alert], {}, "", 1)
    text = "{{ .CommonAnnotations.s }} {{ safeHtml .CommonAnnotations.s }}"
    assert templates.render_html(text, data) == "&lt;b&gt;&amp; <b>&"
    assert "&lt;b&gt;&amp;" in templates.render_html(EMAIL_DEFAULTS["html"], data)


def test_functions() -> None:
    # Go's cases.Title: words join across . and ' between letters, not after a digit
    assert title("disk_full on node-1.example.com it's OK") == (
        "Disk_full On Node-1.Example.com It's Ok"
    )
    assert reReplaceAll(r"(\w+)-(\d+)", "$2:$1 ${1}x $$ $9", "node-1 db-22") == (
        "1:node nodex $  22:db dbx $ "
    )
    assert toUpper("straße") == "STRAßE"  # no single-rune upper case of ß: Go keeps it

"""Notification templates as Alertmanager 0.25 renders them.

Slack and email fields, and the templates a configuration names, are Go templates. The
parts, from the data up:

- :mod:`.data`: what a template sees, Alertmanager's ``template.Data`` (``.Alerts``,
  ``.CommonLabels``, ``.ExternalURL``...), built by
  :func:`~streams.alertmanager.templating.data.template_data`;
- :mod:`.functions`: the functions Alertmanager gives templates (``toUpper``, ``join``,
  ``safeHtml``...), with its behaviour;
- :mod:`.defaults`: the default templates (``slack.default.title``,
  ``email.default.html``...) under Alertmanager's names;
- :mod:`.templates`: :class:`~streams.alertmanager.templating.templates.Templates`, the
  defaults plus a configuration's template files, rendering a text against the data.

Notifiers do not import this package: they are given a renderer
(:mod:`streams.alertmanager.notify.templating`), so tests pass a fake.
"""

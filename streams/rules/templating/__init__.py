"""Label and annotation templates of alerting rules, as Prometheus renders them.

Rules are written for Prometheus: ``{{ $labels.host }}``, ``{{ $value | humanize }}``.

- :mod:`.gotemplate` translates those Go ``text/template`` forms into jinja2;
- :mod:`.humanize` holds Prometheus' template functions (``humanize``,
  ``humanizeDuration``, ``printf``...), with Prometheus' output;
- :mod:`.templates` compiles a template once, when its rule file loads
  (:class:`~streams.rules.templating.templates.RuleTemplate`), and renders it in a sandbox
  for each alert.
"""

"""Alert and recording rules: Prometheus rule files, loaded, validated and evaluated.

Their expressions are parsed and evaluated by :mod:`streams.promql`. The package is layered:
each part imports only the parts before it in this list.

- :mod:`.errors` and :mod:`.yamlpos`: the errors of rule files (with file, line and
  column) and the YAML nodes that carry those positions.
- :mod:`.templating`: label and annotation templates, Prometheus' Go forms rendered in
  jinja2 with Prometheus' functions.
- :mod:`.model` and :mod:`.loader`: a rule file as loaded (groups, alerting and recording
  rules with parsed expressions and compiled templates), validated as Prometheus does.
- :mod:`.evaluation`: rule groups evaluated in the stream (routing samples to groups,
  recording rules, the alert state machine, the runtime of a worker).
- :mod:`.testing`: promtool's rule unit tests run on that engine.

The names most callers need are re-exported here.

Example:
    >>> from streams.rules import load_rule_files
    >>> [group.name for f in load_rule_files(["rules/pulseline.yml"]) for group in f.groups]
    ['pulseline-pipeline', 'host']
"""

from streams.rules.errors import RuleError, RuleProblem, TemplateError
from streams.rules.loader import check_files, load_rule_file, load_rule_files
from streams.rules.model import AlertingRule, RecordingRule, Rule, RuleFile, RuleGroup
from streams.rules.templating.templates import RuleTemplate, compile_template

__all__ = [
    "AlertingRule",
    "RecordingRule",
    "Rule",
    "RuleError",
    "RuleFile",
    "RuleGroup",
    "RuleProblem",
    "RuleTemplate",
    "TemplateError",
    "check_files",
    "compile_template",
    "load_rule_file",
    "load_rule_files",
]

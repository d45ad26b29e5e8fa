"""Alert and recording rules: Prometheus rule files, loaded, validated and parsed.

Their expressions are parsed and evaluated by :mod:`streams.promql`.

Example:
    >>> from streams.rules import load_rule_files
    >>> [group.name for f in load_rule_files(["rules/pulseline.yml"]) for group in f.groups]
    ['pulseline-pipeline', 'host']
"""

from streams.rules.errors import RuleError, RuleProblem, TemplateError
from streams.rules.loader import check_files, load_rule_file, load_rule_files
from streams.rules.model import AlertingRule, RecordingRule, Rule, RuleFile, RuleGroup
from streams.rules.templates import RuleTemplate, compile_template

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

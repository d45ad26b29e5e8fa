"""Go's ``text/template`` language, interpreted: Alertmanager and Prometheus templates.

Templates written for Go tools (``{{ range .Alerts }}``, ``{{ .CommonLabels.job }}``,
``{{ template "slack.default.title" . }}``) render here as Go renders them: the same
parsing and trimming, truthiness, field and method access, ``printf`` verbs, comparison
rules and error messages (with a column added). Errors in a text are found when it is
parsed, as Go finds them, including calls of unknown functions.

Example:
    >>> from streams.gotemplate import TemplateSet
    >>> TemplateSet().render(
    ...     "{{ range $i, $h := .hosts }}{{ if $i }}, {{ end }}{{ $h | printf `%-4s|` }}{{ end }}",
    ...     {"hosts": ["a", "bb"]},
    ... )
    'a   |, bb  |'
"""

from streams.gotemplate.errors import TemplateError
from streams.gotemplate.execute import SafeHTML
from streams.gotemplate.funcs import BUILTINS, GoFunc
from streams.gotemplate.gofmt import sprint, sprintf, sprintln
from streams.gotemplate.gotime import GoTime
from streams.gotemplate.params import go_params
from streams.gotemplate.template import TemplateSet

__all__ = [
    "BUILTINS",
    "GoFunc",
    "GoTime",
    "SafeHTML",
    "TemplateError",
    "TemplateSet",
    "go_params",
    "sprint",
    "sprintf",
    "sprintln",
]

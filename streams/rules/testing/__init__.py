"""Rule unit tests, promtool's way: ``pulseline rules test FILE...``.

:mod:`.testfile` reads the test files of ``promtool test rules`` (input series, alert and
expression tests) with a position for every problem; :mod:`.unittest` runs them on
pulseline's own rule engine (:mod:`streams.rules.evaluation`), with promtool's output and
exit code, so rules can be tested before they are deployed.
"""

"""The worker's web pages: ``/alerts``, ``/rules``, ``/silences`` and ``/graph``.

Pure logic only: view models built from the rule runtime and the alert manager's API answers
(:mod:`streams.web.alerts`, :mod:`streams.web.rules`, :mod:`streams.web.silences`), range
queries evaluated with pulseline's own PromQL over samples read from a store
(:mod:`streams.web.graph`, :mod:`streams.web.store`), the tier a range reads
(:mod:`streams.web.tiers`), the chart as inline SVG (:mod:`streams.web.svg`) and the jinja2
templates (:mod:`streams.web.render`). :mod:`agents.web` serves them on the worker's port.
"""

"""``pulseline status``: what a running cluster is doing, from Kafka and the processes' pages.

:mod:`~streams.status.probe` looks (Kafka's admin API, the members topic, every worker's and
collector's ``/metrics``, a worker's alert API) and records what it found in an
:class:`~streams.status.observation.Observation`; :mod:`~streams.status.report` turns two
observations into rows (lag per partition and its owner, rates per tier and collector, active
series, firing alerts, dead letters and late samples); :mod:`~streams.status.view` draws them.
"""

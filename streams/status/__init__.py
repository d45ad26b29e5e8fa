"""``pulseline status``: what a running cluster is doing, from Kafka and the processes' pages.

:mod:`~streams.status.probe` looks (Kafka's admin API through :mod:`~streams.status.kafka`,
the members topic, every worker's and collector's ``/metrics``, a worker's alert API) and
records what it found in an :class:`~streams.status.observation.Observation`;
:mod:`~streams.status.groups` says which worker groups it looks at (every group of the
pipeline the broker knows: workers with both roles, store workers, alert workers);
:mod:`~streams.status.report` turns two observations into rows (lag per group and partition
and its owner, rates per tier and collector, active series, firing alerts, dead letters and
late samples); :mod:`~streams.status.view` draws them.
"""

"""The alert manager: Alertmanager's routing, grouping, inhibition, silences and notifications.

Pure logic lives here; :mod:`agents.alertmanager` wires it to Kafka and HTTP. The package
is layered: each part imports only the parts above it in this list, never one below.

- :mod:`.model` and :mod:`.wire`: an alert (labels, annotations, a start and an end) and
  the same alert in the API's JSON, with the API's times and its :class:`~.wire.ApiError`.
  Every other part speaks them.
- :mod:`.templating`: notification templates as Alertmanager renders them (its default
  templates, its functions, its ``template.Data``).
- :mod:`.config`: ``alertmanager.yml`` read whole, with a position for every problem, into
  a routing tree, receivers and their integrations, inhibit rules and time intervals.
- :mod:`.notify`: one notifier per integration (webhook, Slack, email, another
  Alertmanager), delivering a decided notification.
- :mod:`.engine`: what a worker decides: alerts routed into aggregation groups, the groups
  of a partition flushed on their timers through inhibition, time intervals, silences and
  the notification log; flap damping; why an alert was or was not notified; the runtime that
  holds a worker's configuration, dispatchers and notifiers; a simulated-clock test kit.
- :mod:`.api`: Alertmanager's API v2 over the whole cluster (alerts, groups, silences,
  status), its client, and the ``pulseline alertmanager``, ``alerts`` and ``silence``
  commands.
"""

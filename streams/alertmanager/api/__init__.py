"""Alertmanager's API v2 over the whole cluster, its client and its commands.

Each aggregation group is owned by one worker, yet every worker answers for all of them:

- :mod:`.groupindex` keeps the cluster's groups, read from the dispatch table's changelog,
  and an index of their alerts;
- :mod:`.silenceview` keeps the cluster's silences, read from ``alerts.silences``, and
  changes them; :mod:`.silencejson` is a silence in the API's JSON;
- :mod:`.query` is the query of ``GET /api/v2/alerts`` and ``/alerts/groups``;
- :mod:`.status` is ``GET /api/v2/status``, the configuration with its secrets masked;
- :mod:`.view` puts them together: :class:`~streams.alertmanager.api.view.ClusterView`
  answers the API (served by :mod:`agents.alertmanager_api`).

:mod:`.client` is a client of the API (pulseline's or Alertmanager's), and :mod:`.commands`
the ``pulseline alertmanager``, ``pulseline alerts`` and ``pulseline silence`` commands
built on it, as amtool gives them for Alertmanager.
"""

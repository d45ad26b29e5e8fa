"""``alertmanager.yml``: Alertmanager 0.25's configuration file, read whole, with positions.

:func:`~streams.alertmanager.config.loader.load_config` (in :mod:`.loader`) reads the file
as a tree of YAML nodes and gives an
:class:`~streams.alertmanager.config.loader.AlertmanagerConfig`, or raises an
:class:`~streams.alertmanager.config.nodes.AlertmanagerConfigError` listing every problem
with its file, line and column. The readers it uses, one per part of the file:

- :mod:`.nodes`: :class:`~streams.alertmanager.config.nodes.NodeReader`, YAML nodes read
  the way Alertmanager decodes them, recording problems instead of stopping at the first;
- :mod:`.routeconfig`: the ``route`` tree, into :mod:`.route`'s resolved routes (the
  routing tree: which routes, receivers and groups an alert goes to);
- :mod:`.receiverconfig`: ``global`` and ``receivers``, into :mod:`.receivers`' models, one
  per integration kind (:mod:`.integrations`), each with an ``http_config``
  (:mod:`.httpconfig`) whose destinations :mod:`.destinations` checks (at load, and again
  at send time for the notifiers);
- :mod:`.sections`: ``inhibit_rules``, ``time_intervals`` (:mod:`.timeintervals`) and
  ``templates``.

:mod:`.matchers` are label matchers as Alertmanager writes, parses, prints and applies
them, used by routes, inhibit rules, silences and API filters alike.
"""

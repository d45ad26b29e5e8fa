"""What the alert manager decides: which group an alert joins, and who is told what, when.

An alert comes in (:mod:`.intake`: from rule events or the API) and is routed to one
aggregation group per matching route, each owned by one ``alerts.groups`` partition. The
owner of a partition runs a :class:`~streams.alertmanager.engine.dispatch.Dispatcher`
(:mod:`.dispatch`) over its groups (:mod:`.group`); each group keeps its alerts
(:mod:`.store`) with the route's options (:mod:`.routeopts`), and on its timer flushes
them:

- through muting (:mod:`.muting`): inhibition (:mod:`.inhibit`), the route's time
  intervals, silences (:mod:`.silences`);
- through flap damping (:mod:`.flapping`);
- against the notification log (:mod:`.nflog`), which says whether each integration must be
  told again;
- into decided notifications (:mod:`.notification`), one per integration, with an
  idempotency key.

A flush may wait for the alerts received before it (:mod:`.catchup`), and records this
worker wrote itself may join their groups before they are read back (:mod:`.arrivals`).
:mod:`.explain` answers why an alert was, or was not, notified. :mod:`.runtime` holds one
worker's configuration in force, its dispatchers and its notifiers, free of Faust;
:mod:`.simulate` drives a dispatcher on a simulated clock, for tests.
"""

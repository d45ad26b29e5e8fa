"""Rules evaluated in the stream, as Prometheus' rule manager evaluates them.

From the samples up:

- :mod:`.routing`: which rule groups need which samples; the ``rules.samples`` records that
  carry them, keyed by rule group, so one partition sees every series a group selects;
- :mod:`.recording`: a recording rule's result renamed and relabelled into new samples;
- :mod:`.alerts`: an alerting rule's state machine (inactive, pending, firing), Prometheus'
  ``rules/alerting.go``;
- :mod:`.group`: a rule group evaluated at one instant, its rules in order, a recorded
  series visible to the rules after it;
- :mod:`.runtime`: the groups of the partitions a worker owns, evaluated on arrival and on
  a timer, free of Faust (:mod:`agents.rules` wires it).
"""

"""Dead letters: listing them with their reasons and sending them back after a fix.

:mod:`~streams.dlq.letters` is what a dead letter says (pure); :mod:`~streams.dlq.topic`
reads a dead-letter topic and produces records back; :mod:`~streams.dlq.commands` is
``pulseline dlq show`` and ``pulseline dlq replay``.
"""

"""The alert manager: Alertmanager's routing, grouping, inhibition, silences and notifications.

Pure logic lives here (configuration, routing, aggregation groups, the notification log,
silences, inhibition, receivers); :mod:`agents.alertmanager` wires it to Kafka and HTTP.
"""

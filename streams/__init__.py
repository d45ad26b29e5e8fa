"""pulseline: a metrics monitoring and alerting pipeline on Kafka and Faust.

The ``streams`` package is the library core: settings, records, codecs, sinks and the
collector. It never imports Faust agents; ``agents`` wires these pieces to topics.
"""

__version__ = "0.1.0"

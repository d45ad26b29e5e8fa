#!/bin/sh
# Installs the system packages the local stack and the integration tests run:
# VictoriaMetrics (the InfluxDB-compatible TSDB), and for the interoperability tests Prometheus
# (prometheus, promtool) and the node exporter. With the argument "kafka", also a Java runtime
# and Maven, which resolve and run Apache Kafka (the tests' broker; `make run` needs neither).
# Needs root and apt; says what to do otherwise.
set -eu

missing=""
command -v victoria-metrics >/dev/null 2>&1 || missing="$missing victoria-metrics"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v prometheus-node-exporter >/dev/null 2>&1 || missing="$missing prometheus-node-exporter"
if [ "${1:-}" = kafka ]; then
    command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
    command -v mvn >/dev/null 2>&1 || missing="$missing maven"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "pulseline needs these packages:$missing" >&2
    echo "install them as root, for example: sudo apt-get install -y$missing" >&2
    echo "(elsewhere: VictoriaMetrics >= 1.79, Prometheus >= 2.42 and node_exporter on PATH;" >&2
    echo " for Apache Kafka, java >= 17 and mvn >= 3.6)" >&2
    exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# Installs, with apt, the system packages a make target needs, and only those:
#   run   (make run)   VictoriaMetrics (the TSDB), a Java runtime and Maven (the local broker is
#                      Apache Kafka, run on Java from the jars Maven resolves)
#   test  (make test)  the same, and what the tests compare pulseline with or drive:
#                      Prometheus (prometheus, promtool), the node exporter, Alertmanager (with
#                      amtool), Chromium (headless screenshots of the stack's pages) and
#                      docker-compose (validates docker-compose.yml without a Docker engine)
# On a Debian that runs systemd, the Prometheus packages start their daemons (9090, 9100, 9093):
# the reason `make run` does not install them.
# Needs root and apt; says what to install otherwise.
set -eu

purpose="${1:-run}"
case "$purpose" in
    run|test) ;;
    *) echo "usage: $0 [run|test]" >&2; exit 2 ;;
esac

missing=""
need() {  # need COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need victoria-metrics victoria-metrics
need java default-jre-headless
need mvn maven
if [ "$purpose" = test ]; then
    need promtool prometheus
    need prometheus-node-exporter prometheus-node-exporter
    need prometheus-alertmanager prometheus-alertmanager
    need chromium chromium
    need docker-compose docker-compose
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "pulseline ($purpose) needs these packages:$missing" >&2
    echo "install them as root, for example: sudo apt-get install -y$missing" >&2
    echo "(elsewhere: VictoriaMetrics >= 1.79, java >= 17 and mvn >= 3.6 on PATH; for the" >&2
    echo " tests also Prometheus >= 2.42, node_exporter, Alertmanager 0.25 and Chromium)" >&2
    exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

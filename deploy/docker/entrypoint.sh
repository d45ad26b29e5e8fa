#!/bin/sh
# Entry point of the pulseline image: `pulseline ARGS...`, with two conveniences for containers.
#
# - Secrets from files: for every PULSELINE_<NAME>_FILE=PATH in the environment, PULSELINE_<NAME>
#   is set to the file's content (docker-compose.yml hands the InfluxDB token over this way:
#   InfluxDB 2 generates token values, so they live in a volume, not in .env).
# - Scrape targets: with PULSELINE_SCRAPE_TARGETS_DIR set (workers in docker-compose.yml), the
#   container announces its web port as a Prometheus file_sd target in that directory, one
#   file per container, so that collectors scrape every replica of `--scale worker=N`. The
#   file goes away when the process ends; a container that is killed leaves it behind and
#   shows as `up` 0 until it is started again (it rewrites the same file).
set -eu

for name in $(env | sed -n 's/^\(PULSELINE_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
    eval "path=\${${name}_FILE}"
    if [ ! -r "$path" ]; then
        echo "pulseline: ${name}_FILE names $path, which cannot be read" >&2
        exit 1
    fi
    value="$(cat "$path")"
    export "$name=$value"
    unset "${name}_FILE"
done

targets="${PULSELINE_SCRAPE_TARGETS_DIR:-}"
unset PULSELINE_SCRAPE_TARGETS_DIR
if [ -z "$targets" ]; then
    exec pulseline "$@"
fi

port="${PULSELINE_WORKER__WEB_PORT:-6066}"
address="$(python -c 'import socket; print(socket.gethostbyname(socket.gethostname()))')"
file="$targets/$(python -c 'import socket; print(socket.gethostname())').json"
printf '[{"targets": ["%s:%s"], "labels": {"component": "worker"}}]\n' "$address" "$port" \
    >"$file.tmp"
mv "$file.tmp" "$file"

pulseline "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
status=0
wait "$child" || status=$?
if kill -0 "$child" 2>/dev/null; then  # woken by the signal: wait for the worker to stop
    status=0
    wait "$child" || status=$?
fi
rm -f "$file"
exit "$status"

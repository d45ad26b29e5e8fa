#!/bin/sh
# InfluxDB 2 initialisation for pulseline: the tiers' buckets and two scoped API tokens.
#
# The influxdb:2.7 image runs this once, after its setup created the organization, the operator
# token and the raw tier's bucket (DOCKER_INFLUXDB_INIT_BUCKET and _RETENTION in
# docker-compose.yml), with the server on INFLUX_HOST and DOCKER_INFLUXDB_INIT_ORG_ID,
# DOCKER_INFLUXDB_INIT_BUCKET_ID in the environment. It can also be run by hand against any
# InfluxDB 2 with those variables set (and DOCKER_INFLUXDB_INIT_ADMIN_TOKEN, an operator or
# all-access token); running it again sets the retentions and makes new tokens.
#
# It creates (or sets the retention of) the downsampled tiers' buckets, then two tokens:
#   - the writer, for `pulseline worker`: write on the three buckets, nothing else;
#   - the reader, for Grafana's data source and the worker's /graph page: read on the three
#     buckets, nothing else.
# InfluxDB generates token values (its API has no way to choose one), so each is written to a
# file, PULSELINE_WRITER_TOKEN_FILE and GRAFANA_READER_TOKEN_FILE, which docker-compose.yml keeps
# in volumes: the writer's only the worker mounts, the reader's only Grafana and the worker.
#
# Uses only sh, sed, grep and curl (what the influxdb image has).
set -eu

# The tiers after raw, as pulseline's default settings name them (README "Downsampling"):
# bucket and retention in seconds. A test checks them against the settings.
TIERS="
metrics_1m 2592000
metrics_1h 31536000
"

host="${INFLUX_HOST:?INFLUX_HOST: the InfluxDB URL}"
token="${DOCKER_INFLUXDB_INIT_ADMIN_TOKEN:?DOCKER_INFLUXDB_INIT_ADMIN_TOKEN: an operator token}"
org_id="${DOCKER_INFLUXDB_INIT_ORG_ID:?DOCKER_INFLUXDB_INIT_ORG_ID: the organization id}"
raw_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:?DOCKER_INFLUXDB_INIT_BUCKET_ID: the raw bucket id}"
writer_file="${PULSELINE_WRITER_TOKEN_FILE:-/var/lib/pulseline-tokens/writer/token}"
reader_file="${GRAFANA_READER_TOKEN_FILE:-/var/lib/pulseline-tokens/reader/token}"

api() {  # api METHOD PATH [BODY]: the JSON answer; stops the script on an HTTP error
    if ! answer="$(curl --silent --show-error --fail-with-body -X "$1" \
            -H "Authorization: Token $token" -H "Content-Type: application/json" \
            ${3:+--data "$3"} "$host$2")"; then
        echo "pulseline init: $1 $2 failed: $answer" >&2
        exit 1
    fi
    printf '%s' "$answer"
}

first() {  # first KEY: the first string value of KEY in the JSON on stdin
    grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'
}

bucket() {  # bucket NAME SECONDS: create the bucket, or set its retention; prints its id
    rules="[{\"type\": \"expire\", \"everySeconds\": $2}]"
    # InfluxDB answers this lookup 404 when there is no such bucket (the body then has no id).
    id="$(curl --silent --show-error -H "Authorization: Token $token" \
        "$host/api/v2/buckets?orgID=$org_id&name=$1" | first id)"
    if [ -z "$id" ]; then
        api POST /api/v2/buckets \
            "{\"orgID\": \"$org_id\", \"name\": \"$1\", \"retentionRules\": $rules}" | first id
    else
        api PATCH "/api/v2/buckets/$id" "{\"retentionRules\": $rules}" >/dev/null
        echo "$id"
    fi
}

authorization() {  # authorization ACTION DESCRIPTION FILE BUCKET_ID...: a token in FILE
    action="$1" description="$2" file="$3"
    shift 3
    permissions=""
    for id in "$@"; do
        permissions="$permissions${permissions:+, }{\"action\": \"$action\", \"resource\": {\"type\": \"buckets\", \"id\": \"$id\", \"orgID\": \"$org_id\"}}"
    done
    value="$(api POST /api/v2/authorizations "{\"orgID\": \"$org_id\", \
\"description\": \"$description\", \"permissions\": [$permissions]}" | first token)"
    mkdir -p "$(dirname "$file")"
    rm -f "$file.tmp"
    (umask 0222 && printf '%s' "$value" >"$file.tmp")
    mv -f "$file.tmp" "$file"
    echo "pulseline init: $description token written to $file"
}

ids="$raw_id"
for line in $(echo "$TIERS" | tr ' ' ':'); do
    name="${line%%:*}" seconds="${line#*:}"
    id="$(bucket "$name" "$seconds")"
    echo "pulseline init: bucket $name ($id), retention ${seconds}s"
    ids="$ids $id"
done

# shellcheck disable=SC2086  # ids is a list of words
authorization write "pulseline writer" "$writer_file" $ids
# shellcheck disable=SC2086
authorization read "grafana reader" "$reader_file" $ids

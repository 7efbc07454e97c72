#!/bin/sh
# Polls the configured endpoint and logs the status field of its JSON answer.
set -eu
config="${WORKER_CONFIG:-/opt/worker/config.json}"
url=$(jq -r .url "$config")
interval=$(jq -r .interval "$config")
while true; do
    status=$(curl -fsS "$url" | jq -r .status || echo unreachable)
    echo "$(date -u +%FT%TZ) $status"
    sleep "$interval"
done

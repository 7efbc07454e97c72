#!/bin/sh
set -e
mkdir -p "${DATA_DIR:-/app/data}"
echo "starting: $*" >&2
exec "$@"

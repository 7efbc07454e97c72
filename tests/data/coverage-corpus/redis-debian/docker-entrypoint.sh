#!/bin/sh
set -e
if [ "$(id -u)" = "0" ]; then exec gosu kvstore "$0" "$@"; fi
exec "$@"

#!/bin/bash
set -euo pipefail
helm upgrade --install "$@"

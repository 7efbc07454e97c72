#!/bin/sh
set -eu
{
  echo "report for $(hostname)"
  date -u +%Y-%m-%dT%H:%M:%SZ
} > out/summary.txt
cat out/summary.txt

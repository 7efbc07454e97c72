#!/bin/sh
# Generates the `hello` tool: a self-contained shell script.
set -e
greeting="${1:-Hello}"
cat <<SCRIPT
#!/bin/sh
echo "$greeting from \$(hostname), version \$(cat /etc/hello-version 2>/dev/null || echo unknown)"
SCRIPT

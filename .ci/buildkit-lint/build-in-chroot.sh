#!/bin/sh
# Run by .ci/install-buildkit-lint inside its throw-away Debian chroot, from the directory it
# copied this file to: unpack the Go source packages named as arguments (sources only, no
# maintainer scripts to run) and build main.go offline in GOPATH mode, into
# /tmp/dockfix-buildkit-lint. The Debian version of BuildKit's source is linked in for
# --version.
set -eu
here=$(pwd)
mkdir -p /tmp/debs
chown _apt /tmp/debs # apt downloads as _apt
cd /tmp/debs
apt-get download -qq "$@"
for deb in ./*.deb; do dpkg-deb -x "$deb" /; done
source=$(dpkg-deb --show --showformat='${Package} ${Version}' golang-github-docker-docker-dev_*.deb)
cd "$here"
env -i PATH=/usr/bin:/bin HOME=/tmp GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off \
    GOTOOLCHAIN=local CGO_ENABLED=0 \
    go build -trimpath -ldflags "-X 'main.buildkitSource=Debian $source'" \
    -o /tmp/dockfix-buildkit-lint main.go || {
    echo "build-in-chroot: go build failed; for a package it cannot find, add the Debian" \
        "package that ships it to go_source_packages in .ci/install-buildkit-lint" >&2
    exit 1
}

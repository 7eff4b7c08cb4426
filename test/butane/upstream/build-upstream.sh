#!/bin/bash
# Builds upstream Butane v0.19.0 (the newest tag whose go.mod Debian 12's Go 1.19 accepts) from
# its source with the vendored modules, offline: the oracle record.mjs runs. Needs Debian's
# golang-go. Usage: build-upstream.sh SOURCE_DIR_OR_TARBALL OUTPUT_BINARY
# (source: https://github.com/coreos/butane/archive/refs/tags/v0.19.0.tar.gz)
set -euo pipefail
src=$1 out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -d "$src" ]; then cp -a "$src/." "$work/"; else tar -xzf "$src" -C "$work" --strip-components=1; fi
cd "$work"
# the version string upstream's release build stamps in
GOFLAGS=-mod=vendor GOPROXY=off GOCACHE="$work/.cache" \
  go build -ldflags "-X github.com/coreos/butane/internal/version.Raw=v0.19.0" -o "$out" ./internal
"$out" --version

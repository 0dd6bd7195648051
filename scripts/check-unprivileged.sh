#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the test suite as an unprivileged user (root only): cairn must work
# without privileges. The tree is copied to a directory that user owns.
set -euo pipefail
user=cairn-ci
top=$(cd "$(dirname "$0")/.." && pwd)
id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
dir=/tmp/cairn-unprivileged
rm -rf "$dir"
mkdir -p "$dir"
tar -C "$top" --exclude=./build --exclude=./build-asan --exclude='./build-*' --exclude=./.git -cf - . |
  tar -C "$dir" -xf -
chown -R "$user:" "$dir"
echo "check-unprivileged: running the suite as $user (uid $(id -u $user))"
runuser -u "$user" -- env -u CI make -C "$dir" --no-print-directory check-local

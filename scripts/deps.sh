#!/usr/bin/env bash
# Makes sure the Debian packages cairn builds and tests with are present.
# As root, installs what is missing; otherwise prints the exact command.
set -euo pipefail
pkgs=(cmake make gcc pkg-config libzstd-dev libxxhash-dev libcmocka-dev libsodium-dev
      clang python3 util-linux procps cppcheck valgrind)
[ "${1:-}" = "--test" ] && pkgs+=(bc gzip coreutils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps: missing Debian packages. Run as root:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

#!/usr/bin/env bash
# Installs everything clus needs to build, test and run on Debian 12.
# Used by README's commands, .ci/run and the Dockerfile: one list, one place.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libnng-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev
  libcmocka-dev libsqlite3-dev libjansson-dev libfyaml-dev
  libblkid-dev libmount-dev libxml2-dev uthash-dev
  resource-agents e2fsprogs util-linux mount procps iproute2 kmod valgrind jq openssl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/bin/sh
# Installs the Debian packages weightkit builds and tests with, when any is missing.
set -eu
PACKAGES="gcc make pkg-config lua5.4 liblua5.4-dev lua-busted luarocks libhdf5-dev libzip-dev libsnappy-dev python3-h5py python3-numpy"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then
  echo "weightkit: missing Debian packages:$missing (run as root, or install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# Installs the Debian 12 packages the build, the tests and the demo need,
# when any is missing.  Idempotent; silent when everything is present.
set -e

packages="
build-essential clang llvm libclang-rt-14-dev meson ninja-build pkg-config python3
libglib2.0-dev libjson-glib-dev liburing-dev libseccomp-dev libcap-ng-dev
libslirp-dev libpixman-1-dev
qemu-system-x86 qemu-utils qemu-block-extra
linux-image-amd64 busybox-static fio cpio xz-utils kmod
mtools syslinux syslinux-common dosfstools e2fsprogs pciutils
gnuplot-nox strace
"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing Debian packages:$missing" >&2
    echo "install-deps: run 'sudo scripts/install-deps.sh' (or apt-get install them) and retry" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

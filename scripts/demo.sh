#!/bin/sh
# `make run`: boots a Linux guest that uses a disk served by qemu-remote
# (see scripts/demo.py and docs/demo.md).
#   demo.sh BUILD_DIR [--setup qemu-remote|x-remote|in-process] [--verbose] [--qmp]
set -e
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [--setup KIND] [--verbose]" >&2
    exit 2
fi
exec python3 "$(dirname "$0")/demo.py" "$@"

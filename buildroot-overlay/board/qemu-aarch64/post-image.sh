#!/bin/sh
# Post-image for qemu-aarch64 (rendered from board/qemu-aarch64.yaml):
# the boot partition's extlinux.conf, then genimage makes disk.img.
set -eu
BOARD_DIR="$(dirname "$0")"
GENIMAGE_TMP="${BUILD_DIR}/genimage.tmp"

cp "$BOARD_DIR/extlinux.conf" "$BINARIES_DIR/extlinux.conf"
rm -rf "$GENIMAGE_TMP"
genimage \
	--rootpath "$TARGET_DIR" \
	--tmppath "$GENIMAGE_TMP" \
	--inputpath "$BINARIES_DIR" \
	--outputpath "$BINARIES_DIR" \
	--config "$BOARD_DIR/genimage.cfg"

#!/bin/sh
# Post-build for raspberrypi4-64 (rendered from board/raspberrypi4-64.yaml).
# $1: the target folder. Dropbear generates its host keys at first boot (-R);
# no password and no key is baked in: root's SSH login needs a provisioned key.
set -eu
TARGET_DIR="$1"

# Serve the demo site through a link, so marmoset-remote deploy can switch it atomically.
if [ ! -L "$TARGET_DIR/srv/www" ]; then
	rm -rf "$TARGET_DIR/srv/www"
	ln -s www.releases/factory "$TARGET_DIR/srv/www"
fi
mkdir -p "$TARGET_DIR/etc/dropbear"

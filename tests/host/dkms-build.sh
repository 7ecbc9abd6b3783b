#!/bin/bash
# dkms builds the module from what `make dkms-install` puts in /usr/src,
# for the given kernel, in private trees (nothing registered on this host).
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
kver=$1
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO/dkms.conf")
top=$BUILD/dkms-$kver
rm -rf "$top"
mkdir -p "$top/usr/src" "$top/tree"
make -C "$REPO" --no-print-directory dkms-source DESTDIR="$top" > /dev/null
dkms build -m dm-fence -v "$version" -k "$kver" \
	--sourcetree "$top/usr/src" --dkmstree "$top/tree"
ls "$top/tree/dm-fence/$version/$kver/x86_64/module/"dm-fence.ko*

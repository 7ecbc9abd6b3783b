#!/bin/bash
# make deb: dm-fence-dkms and dm-fence-tools, built from the files git
# tracks (a clean tree, whatever the checkout holds besides) with
# packaging/debian as debian/, then checked by lintian.  The packages end up
# in <build>/deb/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build}/deb
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$repo/dkms.conf")
tree=$out/dm-fence-$version
rm -rf "$out"
mkdir -p "$tree"
git -C "$repo" ls-files -z | grep -z -v '^packaging/' | (cd "$repo" && xargs -0 cp --parents -t "$tree")
cp -a "$repo/packaging/debian" "$tree/debian"
cp "$repo/dkms.conf" "$tree/debian/dm-fence-dkms.dkms"
(cd "$tree" && dpkg-buildpackage -us -uc -b)
# errors and warnings fail; pedantic and informational tags do not
lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$out"/*.changes
ls "$out"/*.deb

#!/bin/bash
# make deb: dm-fence-dkms and dm-fence-tools, built from the files git
# tracks (a clean tree, whatever the checkout holds besides) or, in a tree
# without git (a release tarball), from the tree less what .gitignore names
# as built, with packaging/debian as debian/, then checked by lintian.  The
# packages end up in <build>/deb/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build}/deb
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$repo/dkms.conf")
tree=$out/dm-fence-$version
rm -rf "$out"
mkdir -p "$tree"
# (.git here, not git's word: a copy inside another checkout is inside that)
if [ -e "$repo/.git" ]; then
	git -C "$repo" ls-files -z | grep -z -v '^packaging/' | (cd "$repo" && xargs -0 cp --parents -t "$tree")
else
	# what a build leaves in the tree (.gitignore): not sources
	tar -C "$repo" -cf - --exclude-vcs --exclude=./build --exclude=./packaging \
		--exclude='*.o' --exclude='*.ko' --exclude=./userspace/fencectl \
		--exclude=__pycache__ . | tar -C "$tree" -xf -
fi
cp -a "$repo/packaging/debian" "$tree/debian"
cp "$repo/dkms.conf" "$tree/debian/dm-fence-dkms.dkms"
(cd "$tree" && dpkg-buildpackage -us -uc -b)
# errors and warnings fail; pedantic and informational tags do not
lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$out"/*.changes
ls "$out"/*.deb

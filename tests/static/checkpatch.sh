#!/bin/bash
# checkpatch.pl --strict over the module, the uapi header and the test-only
# targets (tests/modules/), with the
# checkpatch of linux-source-6.1 (unpacked once into build/tools).
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
tools=$BUILD/tools
if [ ! -f "$tools/scripts/checkpatch.pl" ]; then
	mkdir -p "$tools"
	tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n 1)
	tar -xf "$tarball" -C "$tools" --strip-components=1 \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi
cd "$REPO"
perl "$tools/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--max-line-length=100 -f driver/*.c driver/*.h uapi/linux/*.h tests/modules/*.c

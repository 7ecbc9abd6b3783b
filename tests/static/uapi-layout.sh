#!/bin/bash
# The uapi structs have the same sizes and offsets for -m64 and -m32 (and
# the header compiles on its own, as userspace includes it).
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
for m in -m64 -m32; do
	gcc $m -std=c11 -Wall -Wextra -Werror -I"$REPO/uapi" \
		-o "$BUILD/uapi-layout$m" "$REPO/tests/static/uapi-layout.c"
	"$BUILD/uapi-layout$m"
	echo "layout ok with $m"
done

#!/bin/bash
# The uapi structs have the same sizes and offsets for -m64 and -m32 (and
# the header compiles on its own, as userspace includes it).
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
# Compiled, not run: the checks are _Static_asserts, and a host whose
# kernel has no IA32 emulation cannot run a 32-bit program (this machine's
# did not: "Exec format error", issue 31).
for m in -m64 -m32; do
	gcc $m -std=c11 -Wall -Wextra -Werror -I"$REPO/uapi" -c \
		-o "$BUILD/uapi-layout$m.o" "$REPO/tests/static/uapi-layout.c"
	echo "layout ok with $m"
done

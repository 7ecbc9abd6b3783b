#!/bin/bash
# sparse (make C=2) over the module for kernel $1: any sparse warning or
# error in our sources fails.
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
k=$1
out=$(build_module "$k" KBUILD_ARGS="C=2 CF=-D__CHECK_ENDIAN__" 2>&1)
echo "$out"
! echo "$out" | grep -E '(driver|uapi)/.*: (warning|error):'

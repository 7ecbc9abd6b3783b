# The seeded ioctl fuzzer (FUZZ_ITERS calls; make stress runs more): no
# kernel warning (checked by the runner), no state change on a refusal,
# and the module still unloads.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
dmsetup create lin --table "0 8 linear $dev 0"
fmm=$(dm_devt f0)
lmm=$(dm_devt lin)
seed=${SEED:-$RANDOM}
"$TOOLS/ioctl_fuzz" "$seed" "${FUZZ_ITERS:-3000}" "$fmm" "$lmm" || fail "fuzzer (seed $seed)"
expect_field f0 inflight 0
dmsetup remove f0
dmsetup remove lin
rmmod dm_fence || fail "module does not unload after fuzzing"

# Every refusal of the control device gets its errno and changes nothing:
# unknown flag bits, reserved words, sizes, NULL/unmapped/PROT_NONE
# pointers, windows beyond the bitmap, a dm device that is not a fence
# target, a dev_t that does not exist, bad generations, unfence of an open
# device or without a generation, unknown commands.
# Callers without CAP_SYS_ADMIN are refused.  A GET_DIRTY that faults after clearing loses no region.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
dmsetup create lin --table "0 8 linear $dev 0"
fmm=$(dm_devt f0)
lmm=$(dm_devt lin)
dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=1 seek=160 oflag=direct status=none
before=$(dmsetup message f0 0 get_dirty)
expect_eq "$before" "10" "dirty before"

"$TOOLS/ioctl_refusals" "$fmm" "$lmm" || fail "a refusal was wrong (see above)"
expect_eq "$(dmsetup message f0 0 get_dirty)" "$before" "dirty regions after faulting GET_DIRTY calls"

setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin \
	"$TOOLS/ioctl_refusals" --unprivileged "$fmm" || fail "caller without CAP_SYS_ADMIN not refused"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$TOOLS/ioctl_refusals" --unprivileged "$fmm" || fail "an ordinary user not refused"
# (root of a user namespace cannot be tried here: unshare(CLONE_NEWUSER)
# is refused inside the chroot the guest runs in; capable() checks the
# initial namespace, so it gets EPERM like the caller above)
expect_eq "$(fence_status f0)" "open 1 0 0 0 0 0 1/256 0 0" "status after all refusals"

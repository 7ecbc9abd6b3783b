# The fence race over NFS, with the server going away at a random moment
# before each fence and coming back at a random moment after it: writers'
# requests pile up in the NFS client, complete late, and every block must
# still hold exactly the last write that succeeded, never one that failed.
# NFS_RACES iterations (make stress runs more).
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-nfs.sh"
load_fence
trap nfs_teardown EXIT

nfs_server_start
loopdev=$(nfs_client_disk 16)
fence_create f0 "$loopdev"
seed=${SEED:-$RANDOM}
RACE_OUTAGE_CMD="rpc.nfsd 0" RACE_RESTORE_CMD="rpc.nfsd $NFS_THREADS" \
	python3 "$REPO/tests/guest/tools/fence_race.py" f0 "${NFS_RACES:-2}" "$seed" "$loopdev" 2048 ||
	fail "a stale write landed or a successful write was lost over NFS (seed $seed)"
dmsetup remove f0

# A copy whose source someone else reopened during the final round, or
# whose dirty bitmap another reader cleared during the copy, cannot vouch
# for DST: writes passed after its last fetch, or regions it never saw.
# It says so (exit 4, nothing switched) instead of finishing with a stale
# DST.  STATUS counts both (reopens, clears); a copy run alone passes.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence

src=$(nullb_create nbs 64)
dst=$(nullb_create nbd 64)
fence_create vm "$src"
table=$(dmsetup table vm)

# the counters: a reopen and a clearing fetch each count one
r0=$("$FENCECTL" --json status vm | json_field reopens)
c0=$("$FENCECTL" --json status vm | json_field clears)
"$FENCECTL" close vm > /dev/null
"$FENCECTL" reopen vm > /dev/null
"$FENCECTL" dirty vm > /dev/null
"$FENCECTL" dirty vm --clear > /dev/null
dmsetup message vm 0 get_dirty clear > /dev/null
expect_eq "$("$FENCECTL" --json status vm | json_field reopens)" $((r0 + 1)) "reopens after one reopen"
expect_eq "$("$FENCECTL" --json status vm | json_field clears)" $((c0 + 2)) "clears after two clearing fetches"

# another reader clears the bitmap while the copy's round 0 runs (64 MiB
# at 8 MiB/s): a write's region it took would be missing on DST.  A dirty
# region first, so that "dirty 0" means the copy has fetched (the clears
# above left the bitmap clean: the wait would not wait for the copy)
dd if=/dev/urandom of=/dev/mapper/vm bs=4k count=1 oflag=direct status=none
"$FENCECTL" copy vm "$dst" --switch --rate 8 2> /tmp/copy.err &
c=$!
wait_until 10 dirty_is vm 0 || fail "copy did not fetch the bitmap"
dd if=/dev/urandom of=/dev/mapper/vm bs=4k count=1 seek=100 oflag=direct status=none
"$FENCECTL" dirty vm --clear > /dev/null
expect_wait $c 4 "exit code of a copy whose bitmap another reader cleared"
has "cleared by another reader" < /tmp/copy.err || fail "no word of the foreign clear: $(cat /tmp/copy.err)"
expect_field vm state open
expect_eq "$(dmsetup table vm)" "$table" "table after a refused switch"

# a third party reopens the source during the final round (6 s long)
copy_into_long_final_round vm "$dst" --switch
"$FENCECTL" reopen vm > /dev/null
expect_wait $COPY_PID 4 "exit code of a copy whose source was reopened in the final round"
has "reopened by someone else" < /tmp/copy.err || fail "no word of the reopen: $(cat /tmp/copy.err)"
expect_field vm state open
expect_eq "$(dmsetup table vm)" "$table" "table after a refused switch"

# alone, the same copy switches
"$FENCECTL" copy vm "$dst" --switch 2> /tmp/copy.err || fail "copy --switch alone: $(cat /tmp/copy.err)"
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$dst")" "backing device after the switch"
dmsetup remove vm

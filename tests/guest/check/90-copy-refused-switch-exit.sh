# A copy --switch whose switch the kernel refuses (here: its standby was
# replaced by another during the final round, ESTALE) leaves the device on
# the source and exits 4 ("refused"), with a last JSON line that says so
# (event error, switched false): not 6, which tells the caller the source
# was fenced (issue 33 item 5; on 2d3e8cb it exited 6 with no last line).
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence

src=$(nullb_create nbs 64)
dst=$(nullb_create nbd 64)
dst2=$(nullb_create nbe 64)
fence_create vm "$src"
random_file /tmp/final $((48 * 1024))
dd if=/tmp/final of=/dev/mapper/vm bs=4k count=1 oflag=direct status=none
# the final round (48 MiB) lasts 6 s, times GUEST_SLOWDOWN: the reload
# below must come before the switch
rate=$((8 / ${GUEST_SLOWDOWN:-1}))
fencectl --json copy vm "$dst" --switch --max-rounds 0 --rate $((rate > 0 ? rate : 1)) \
	> /tmp/copy.json 2> /tmp/copy.err &
c=$!
wait_until 10 dirty_is vm 0 || fail "copy did not fetch the bitmap: $(cat /tmp/copy.err)"
# 48 MiB dirty: the final round comes after the drain
kill -STOP $c
dd if=/tmp/final of=/dev/mapper/vm bs=1M oflag=direct status=none
kill -CONT $c
wait_until $((30 * ${GUEST_SLOWDOWN:-1})) field_is vm state closed || fail "copy never drained: $(cat /tmp/copy.err)"
# another standby (a second copy's, a reload by another tool): the printed
# line has none, a standby being one copy's
dmsetup load vm --table "0 $(sectors_of "$src") fence $(devt_of "$src") 0 5 generation 1 standby $(devt_of "$dst2") 0"
dmsetup suspend --noflush vm
dmsetup resume vm
expect_wait $c 4 "exit code of a copy whose switch was refused"
last=$(tail -n 1 /tmp/copy.json)
expect_eq "$(json_field event <<< "$last")" error "last JSON line's event"
expect_eq "$(json_field switched <<< "$last")" False "last JSON line's switched"
expect_eq "$(json_field exit <<< "$last")" 4 "last JSON line's exit"
has "standby replaced" < /tmp/copy.err || fail "no word of the reason: $(cat /tmp/copy.err)"
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$src")" "backing device after a refused switch"
dmsetup remove vm

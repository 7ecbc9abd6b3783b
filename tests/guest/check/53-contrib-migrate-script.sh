# contrib/dm-fence-migrate on two "hosts" over one shared disk: the
# destination's disk is created closed (its writes held), the source drains
# all the VM's disks at once (a write below one of them completes first),
# and only then does dest-go let the destination's write land: last on the
# disk.  `run` (virsh and ssh stubbed) fences a source that cannot drain,
# goes ahead when its stale write has completed, and keeps the destination
# closed when it has not; it refuses to migrate (exit 4, virsh not run)
# while a destination disk is not closed, says a virsh failure apart from
# usage (exit 2), and quotes what it runs over ssh; a destination disk that
# cannot be reopened after the migration is said (exit 5), the others are
# reopened.  The source's writes
# are kept below by a shut gate (a suspended dm-linear).
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
migrate=$REPO/contrib/dm-fence-migrate
printf '#!/bin/sh\necho "$@" >> /tmp/virsh.log\n' > /tmp/virsh-stub
chmod +x /tmp/virsh-stub
export FENCECTL VIRSH=/tmp/virsh-stub SSH=$REPO/tests/guest/tools/local-ssh LOCAL_SSH_LOG=/tmp/ssh.log
rm -f /tmp/ssh.log

disk=$(nullb_create shared 16)
gate_create below_src "$disk"
fence_create src /dev/mapper/below_src
fence_create src2 "$disk"	# the VM's second disk (same backing: no matter)
"$migrate" dest-prepare dst "$disk" 1 || fail "dest-prepare"
expect_field dst state closed

random_file /tmp/s 4
random_file /tmp/d 4
gate_shut below_src
write_in_flight src 5 /tmp/s
ws=$INFLIGHT_PID
write_block_bg /dev/mapper/dst 5 /tmp/d
wd=$!
wait_until 10 field_is dst held 1 || fail "destination write not held"
"$migrate" source-drain --timeout 30000 src src2 &
d=$!
wait_until 20 field_is src state closing || fail "source-drain did not close src"
# all disks at once: src2 drains while src still waits for its write
wait_state src2 closed 10 || fail "src2 not drained while src waits: $(fence_status src2)"
expect_field src state closing
gate_open below_src
expect_wait $d 0 "source-drain"
expect_field src state closed
wait $ws || fail "the source's last write failed"
expect_eq "$(block_sum "$disk" 5)" "$(file_sum /tmp/s)" "the source's write landed before the go"
"$migrate" dest-go dst || fail "dest-go"
wait $wd || fail "the destination's held write failed"
expect_eq "$(block_sum "$disk" 5)" "$(file_sum /tmp/d)" "the destination's write is last"

# run: the drain times out (0.5 s), the source is fenced and its stale write
# is still there after another 0.5 s: exit 3, dst stays closed
dmsetup message src 0 reopen
dmsetup message dst 0 close
gate_shut below_src
write_in_flight src 6 /tmp/s
ws=$INFLIGHT_PID
rc=0
"$migrate" run --timeout 500 vm1 hostB src=dst || rc=$?
expect_eq "$rc" 3 "run with a stale write still below"
expect_field src state fenced
expect_field dst state closed
gate_open below_src
wait $ws || true

# run again on a fresh source (generation 1): the drain times out, the
# fence waits for the stale write, which completes, and the destination goes
dmsetup remove src
fence_create src /dev/mapper/below_src
gate_shut below_src
write_in_flight src 7 /tmp/s
"$migrate" run --timeout 3000 vm1 hostB src=dst &
r=$!
wait_until 20 field_is src state fenced || fail "run did not fence the source"
gate_open below_src
expect_wait $r 0 "run whose stale write completes within the fence's wait"
expect_field src state fenced
expect_field src stale 0
expect_field src late 1
expect_field dst state open
expect_eq "$(sort -u /tmp/ssh.log)" hostB "dest-check and dest-go sent to"

# --help is not a usage error
"$migrate" --help > /tmp/help.out || fail "--help exited $?"
has dest-check < /tmp/help.out || fail "--help: $(cat /tmp/help.out)"
expect_exit 1 "$migrate" bogus

# a destination disk open: refused before virsh runs, the source untouched
dmsetup remove src
fence_create src /dev/mapper/below_src
rm -f /tmp/virsh.log
expect_exit 4 "$migrate" run vm1 hostB src=dst
[ ! -e /tmp/virsh.log ] || fail "virsh ran: $(cat /tmp/virsh.log)"
expect_field src state open
# a name with shell syntax in it reaches the destination as one word
dmsetup message dst 0 close
expect_exit 4 "$migrate" run vm1 hostB 'src=dst;touch /tmp/injected'
[ ! -e /tmp/injected ] || fail "the remote command was not quoted"
# virsh fails: exit 2, nothing drained
expect_exit 2 env VIRSH=false "$migrate" run vm1 hostB src=dst
expect_field src state open
expect_field dst state closed

# an agent fences one destination disk between dest-check and dest-go:
# dest-go reopens the others and names it, and run says the VM migrated
# (exit 5, not 2: "virsh migrate failed")
"$migrate" dest-prepare dst2 "$disk" 1 || fail "dest-prepare dst2"
cat > /tmp/fencectl-agent <<AGENT
#!/bin/sh
[ "\$1 \$2" = "reopen dst2" ] && "$FENCECTL" fence dst2 9 > /dev/null
exec "$FENCECTL" "\$@"
AGENT
chmod +x /tmp/fencectl-agent
rc=0
FENCECTL=/tmp/fencectl-agent "$migrate" run vm1 hostB src=dst2 src2=dst > /tmp/run.out 2>&1 || rc=$?
expect_eq "$rc" 5 "run whose dest-go could not reopen dst2: $(cat /tmp/run.out)"
has "dst2: not reopened" < /tmp/run.out || fail "dst2 not named: $(cat /tmp/run.out)"
has "migrated and drained" < /tmp/run.out || fail "run's word: $(cat /tmp/run.out)"
expect_field dst state open
expect_field dst2 state fenced

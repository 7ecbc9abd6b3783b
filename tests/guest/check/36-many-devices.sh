# Hundreds of fence devices on one host: each has its own state and
# generation; fencing one touches no other.
. "$REPO/tests/guest/lib.sh"
load_fence

N=${MANY_DEVICES:-200}
dev=$(nullb_create nb0 128)	# 262144 sectors: N slices of 1024
# one dmsetup for all of them (--concise: name,uuid,minor,flags,table;...):
# 200 processes cost minutes under TCG
spec=
for i in $(seq 0 $((N - 1))); do
	spec+="m$i,,,,0 1024 fence $dev $((i * 1024)) 2 generation $((i + 1));"
done
dmsetup create --concise "${spec%;}" || fail "creating $N fence devices"
expect_eq "$(dmsetup ls --target fence | wc -l)" "$N" "fence devices"

victim=$((N / 2))
dmsetup message "m$victim" 0 fence 1000
expect_field "m$victim" state fenced
dd if=/dev/zero of=/dev/mapper/m$victim bs=4k count=1 oflag=direct status=none 2>/dev/null &&
	fail "write passed the fenced device"
# every status line at once: "<name>: 0 1024 fence <fields...>"
dmsetup status --target fence > /tmp/status
expect_eq "$(wc -l < /tmp/status)" "$N" "status lines"
while read -r name _ _ _ st; do
	i=${name#m}
	i=${i%:}
	[ "$i" = "$victim" ] && continue
	[ "$st" = "open $((i + 1)) 0 0 0 0 0 0/8 0 0" ] || fail "m$i changed by fencing m$victim: $st"
done < /tmp/status
# and writes still pass on its neighbours
for i in $((victim - 1)) $((victim + 1)); do
	dd if=/dev/urandom of=/dev/mapper/m$i bs=4k count=1 oflag=direct status=none ||
		fail "write to m$i failed"
done
dmsetup remove_all || fail "removing $N devices"
expect_eq "$(dmsetup ls --target fence)" "No devices found" "fence devices after remove_all"

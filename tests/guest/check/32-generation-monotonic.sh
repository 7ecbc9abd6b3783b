# The generation never decreases: fence to the same, a lower, zero, 2^63 or
# a non-number is refused; a table reload with a lower generation is
# refused (and so is a higher one: only 'fence' raises it); a reload with
# the current one keeps the state.  Refusals change nothing.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
len=$(sectors_of "$dev")
dmsetup create f0 --table "0 $len fence $dev 0 2 generation 10"
st=$(fence_status f0)
for g in 10 9 1 0 9223372036854775808 18446744073709551617 abc -3 10x; do
	dmsetup message f0 0 fence "$g" 2>/dev/null && fail "fence $g accepted at generation 10"
	expect_eq "$(fence_status f0)" "$st" "status after refused fence $g"
done

refused_reload() {	# <expected error> <generation> [more feature words]
	local before err=$1
	shift
	before=$(dmesg | wc -l)
	if dmsetup load f0 --table "0 $len fence $dev 0 $(($# + 1)) generation $*" 2>/dev/null; then
		fail "reload with generation $* accepted"
	fi
	dmesg | tail -n +$((before + 1)) | has -F "$err" || fail "reload $*: log lacks '$err'"
	dmsetup info f0 | has 'Tables present: *LIVE$' || fail "an inactive table was left behind"
}
refused_reload "Generation below the device's current generation" 9
refused_reload "Generation below the device's current generation" 1
refused_reload "Generation above the device's current one" 11
refused_reload "Region size differs from the live table" 10 region_size 256
expect_eq "$(fence_status f0)" "$st" "status after refused reloads"

dmsetup message f0 0 fence 12
dmsetup message f0 0 unfence 12
# dmsetup table | dmsetup load never moves it backwards
dmsetup table f0 | dmsetup load f0
dmsetup resume f0
expect_field f0 generation 12
refused_reload "Generation below the device's current generation" 10
# the state and generation survive suspend/resume
dmsetup message f0 0 fence 13
dmsetup suspend f0
dmsetup resume f0
expect_field f0 state fenced
expect_field f0 generation 13
# maximum generation; nothing above it
dmsetup message f0 0 fence 9223372036854775807
dmsetup message f0 0 fence 9223372036854775808 2>/dev/null && fail "fence past 2^63-1 accepted"
expect_field f0 generation 9223372036854775807

# `dmsetup table` prints a line that re-creates the same target: loading it
# into the same device, or into a new one, gives the same table.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
mm=$(devt_of "$dev")

check_round_trip() {	# <name> <table line>
	local t1 t2
	dmsetup create "$1" --table "$2"
	t1=$(dmsetup table "$1")
	log "$2  =>  $t1"
	case "$t1" in
	*" fence $mm "*) ;;
	*) fail "table does not name the backing device $mm: $t1" ;;
	esac
	dmsetup table "$1" | dmsetup load "$1"
	dmsetup resume "$1"
	expect_eq "$(dmsetup table "$1")" "$t1" "table after reload of its own line"
	dmsetup table "$1" | dmsetup create "$1-copy"
	expect_eq "$(dmsetup table "$1-copy")" "$t1" "table of a device created from it"
	dmsetup remove "$1-copy"
}

check_round_trip a "0 32768 fence $dev 0"
check_round_trip b "0 16384 fence $dev 8192 2 generation 42"
check_round_trip c "0 1000 fence $dev 7 5 fence_reads region_size 2097152 generation 9223372036854775807"
check_round_trip d "0 32768 fence $dev 0 2 region_size 128"
expect_eq "$(dmsetup table a)" "0 32768 fence $mm 0 2 generation 1" "default table line"
expect_eq "$(dmsetup table c)" "0 1000 fence $mm 7 5 generation 9223372036854775807 region_size 2097152 fence_reads" "table c"

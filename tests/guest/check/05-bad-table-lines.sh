# Every bad table line of the contract is refused with its own error in the
# kernel log, and leaves no device behind.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)	# 32768 sectors
n=0

refused() {	# <expected ti->error> <table...>
	local err=$1 before
	shift
	n=$((n + 1))
	before=$(dmesg | wc -l)
	if printf '%s\n' "$*" | dmsetup create bad$n 2>/tmp/err; then
		fail "accepted: '$*'"
	fi
	dmesg | tail -n +$((before + 1)) | has -F "fence: $err" ||
		fail "'$*': kernel log lacks 'fence: $err': $(dmesg | tail -n +$((before + 1)))"
	dmsetup info bad$n >/dev/null 2>&1 && fail "'$*' left device bad$n behind"
	log "refused: $* -> $err"
}

L="0 32768 fence $dev"
refused "Not enough arguments"			"0 32768 fence $dev"
refused "Invalid device sector"			"$L 12x"
refused "Invalid device sector"			"$L -1"
refused "Device lookup failed"			"0 32768 fence /dev/nonexistent 0"
refused "Offset beyond end of device"		"0 8 fence $dev 32768"
refused "Length beyond end of device"		"0 32768 fence $dev 8"
refused "Length beyond end of device"		"0 32769 fence $dev 0"
refused "Unrecognised feature requested"	"$L 0 1 bogus"
refused "Unrecognised feature requested"	"$L 0 2 closed fence_write"
refused "Invalid number of feature args"	"$L 0 3 closed"
refused "Invalid number of feature args"	"$L 0 13 closed closed closed closed closed closed closed closed closed closed closed closed closed"
refused "Invalid number of feature args"	"$L 0 x"
refused "Too many arguments"			"$L 0 1 closed extra"
refused "Feature generation requires a value"	"$L 0 1 generation"
refused "Feature region_size requires a value"	"$L 0 1 region_size"
refused "Invalid generation"			"$L 0 2 generation abc"
refused "Invalid generation"			"$L 0 2 generation -5"
refused "Invalid generation"			"$L 0 2 generation 18446744073709551616"
refused "Generation out of range"		"$L 0 2 generation 0"
refused "Generation out of range"		"$L 0 2 generation 9223372036854775808"
refused "Invalid region size"			"$L 0 2 region_size 64k"
refused "Region size out of range"		"$L 0 2 region_size 4"
refused "Region size out of range"		"$L 0 2 region_size 4194304"
refused "Region size not a power of two"	"$L 0 2 region_size 24"
refused "Feature generation duplicated"		"$L 0 4 generation 2 generation 3"
refused "Feature region_size duplicated"	"$L 0 4 region_size 8 region_size 8"
refused "Feature closed duplicated"		"$L 0 2 closed closed"
refused "Feature fence_reads duplicated"	"$L 0 2 fence_reads fence_reads"
refused "Only one fence target per table"	"0 16384 fence $dev 0
16384 16384 fence $dev 16384"

# the boundary values are accepted
dmsetup create ok1 --table "$L 0 4 generation 9223372036854775807 region_size 2097152"
dmsetup create ok2 --table "0 16 fence $dev 32752 4 generation 1 region_size 8"
expect_eq "$(dmsetup ls | wc -l)" 2 "only the two good devices exist"

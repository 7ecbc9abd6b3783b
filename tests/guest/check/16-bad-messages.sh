# Bad messages are refused with a log line saying why, and change nothing.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"

refused() {	# <expected log text> <message words...>
	local err=$1 before st
	shift
	before=$(dmesg | wc -l)
	st=$(fence_status f0)
	if dmsetup message f0 0 "$@" 2>/dev/null; then
		fail "message accepted: $*"
	fi
	dmesg | tail -n +$((before + 1)) | has -F "$err" ||
		fail "'$*': log lacks '$err'"
	expect_eq "$(fence_status f0)" "$st" "status after refused '$*'"
	log "refused: $*"
}

refused "close takes no argument or 'fail'"	close sideways
refused "close takes no argument or 'fail'"	close fail now
refused "reopen takes no argument"		reopen now
refused "fence takes one argument"		fence
refused "fence takes one argument"		fence 2 3
refused "fence: invalid generation 'abc'"	fence abc
refused "fence: invalid generation '0'"		fence 0
refused "fence: invalid generation '9223372036854775808'" fence 9223372036854775808
refused "unfence takes one argument"		unfence
refused "unfence takes one argument"		unfence 1 2
refused "unfence: invalid generation '0'"	unfence 0
refused "unfence: invalid generation 'x1'"	unfence x1
refused "unrecognised message 'frobnicate'"	frobnicate
refused "fence refused: generation 1 is not above 1" fence 1
dmsetup message f0 0 close
wait_state f0 closed 10
refused "close takes no argument or 'fail'"	close sideways
refused "reopen takes no argument"		reopen now
expect_field f0 state closed

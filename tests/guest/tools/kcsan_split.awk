# Split a kernel log slice: KCSAN reports in which neither racing access
# is made by device-mapper (dm_mod), dm-fence or the suite's test targets
# go to the file named by -v outside=FILE; everything else, other KCSAN
# reports included, to stdout, where the runner looks for reports.
#
# Why: the kcsan kernel reports races at unknown origin, and the rest of
# the kernel has its own, which would fail whichever test happened to run.
# Seen: process_one_work reading a work's data while vmstat_shepherd runs;
# ktime_get_mono_fast_ns (timekeeping's seqcount latch, which 6.12's KCSAN
# does not model) under synchronize_srcu under dm's dev_remove.
#
# Whose access: the first two frames of each access's stack (the function
# that made it and its caller).  A race on our data shows our frame there:
# helpers that are inlined (atomics, bitops, list ops) count as the caller,
# and an out-of-line helper (find_next_bit, memcpy) has us as its caller.
# A report whose frames name us only deeper down is the kernel's own race
# on its own data, met on a path we called (the latch above was three
# frames under dm_mod's __dm_destroy).
#
# A report is the lines between two "=====" rules, the first of them
# followed by "BUG: KCSAN:"; in it, each access's stack starts on a line
# "<read|write...> to 0x<address> of <n> bytes by ...:".
function flush_block(ours) {
	if (ours)
		printf "%s", block
	else
		printf "%s", block >> outside
	block = ""
}
function frame(line) {	# the line without its "[  123.456789]" stamp
	sub(/^\[ *[0-9]+\.[0-9]+\] */, "", line)
	return line
}
/========================================/ {	# (mawk has no {n,})
	if (state == "report") {
		block = block $0 "\n"
		flush_block(ours)
		state = ""
		next
	}
	if (state == "rule")
		printf "%s", block
	block = $0 "\n"
	state = "rule"
	next
}
state == "rule" {
	block = block $0 "\n"
	if ($0 ~ /BUG: KCSAN:/) {
		state = "report"
		ours = 0
		frames = 0
	} else {
		printf "%s", block
		block = ""
		state = ""
	}
	next
}
state == "report" {
	block = block $0 "\n"
	if ($0 ~ / to 0x[0-9a-f]+ of [0-9]+ bytes by /) {
		frames = 2
	} else if (frames > 0 && frame($0) != "") {
		if ($0 ~ /\[(dm_mod|dm_fence|dm_slow_undo)\]/)
			ours = 1
		frames--
	}
	next
}
{ print }
END {
	# a report cut off at the end of the slice is checked like any line
	if (block != "")
		printf "%s", block
}

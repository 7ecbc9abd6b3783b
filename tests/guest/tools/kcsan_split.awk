# Split a kernel log slice: KCSAN reports none of whose frames is in
# device-mapper (dm_mod), dm-fence or the suite's test targets go to the
# file named by -v outside=FILE; everything else, other KCSAN reports
# included, to stdout, where the runner looks for reports.
#
# Why: the kcsan kernel reports races at unknown origin, and the rest of
# the kernel has its own (seen: process_one_work reading a work's data
# while vmstat_shepherd runs).  They are not ours to fix, and would fail
# whichever test happened to run.  A race with one side in our code names
# our frames and stays in.  The runner counts what it moves aside.
#
# A report is the lines between two "=====" rules, the first of them
# followed by "BUG: KCSAN:".
function flush_block(ours) {
	if (ours)
		printf "%s", block
	else
		printf "%s", block >> outside
	block = ""
}
/========================================/ {	# (mawk has no {n,})
	if (state == "report") {
		block = block $0 "\n"
		flush_block(block ~ /\[(dm_mod|dm_fence|dm_slow_undo)\]/)
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
	} else {
		printf "%s", block
		block = ""
		state = ""
	}
	next
}
state == "report" {
	block = block $0 "\n"
	next
}
{ print }
END {
	# a report cut off at the end of the slice is checked like any line
	if (block != "")
		printf "%s", block
}

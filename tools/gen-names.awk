# gen-names.awk - turn the IANA registry files data/tls-*.csv into the C
# tables of src/names.c (STYLE.md rule 8: one data file per registry).
#
# Usage (exactly what the Makefile runs):
#   awk -f tools/gen-names.awk data/tls-*.csv > build/gen/names_data.c
#
# Plain POSIX awk, so Debian's default mawk runs it: no strtonum, asort,
# gensub or length(array). Which table a file feeds is told by its base
# name (FILENAME), so the order of the arguments does not matter.
#
# Input: a header line, then "value,name[,...]" rows; '#' lines and blank
# lines are skipped. No quoting: a field never holds a comma. Values are
# decimal or 0x-hex.
#
# Output: one static array per table, sorted by value, for src/names.c to
# #include. The script refuses (message on stderr, exit status 1, nothing
# on stdout) a missing or unknown file, a wrong header, a bad value, a
# value too wide for its table, a duplicate value or a name that cannot go
# into a C string literal as is - so the binary search in src/names.c can
# trust the order, and a typo in a data file stops the build instead of
# shipping a wrong name.

BEGIN {
	FS = ","
	failed = 0

	# base name -> table key
	table["tls-cipher-suites.csv"] = "cipher"
	table["tls-alerts.csv"] = "alert"
	table["tls-groups.csv"] = "group"
	table["tls-signature-schemes.csv"] = "sigscheme"
	table["tls-extensions.csv"] = "extension"
	table["tls-handshake-types.csv"] = "handshake"
	table["tls-versions.csv"] = "version"
	table["tls-content-types.csv"] = "content_type"

	# Output order, fixed so the generated file is stable.
	nkeys = split("cipher alert group sigscheme extension handshake " \
	    "version content_type", keys, " ")

	# Widest value a table takes: the wire field is uint8 or uint16.
	for (k = 1; k <= nkeys; k++)
		maxval[keys[k]] = 65535
	maxval["alert"] = 255
	maxval["handshake"] = 255
	maxval["content_type"] = 255

	# What a header must start with; the cipher file has exactly these
	# columns because they fill struct td_cipher_info.
	for (k = 1; k <= nkeys; k++)
		header[keys[k]] = "value,name"
	header["cipher"] = "value,name,kx,auth,enc,mac"
}

# Report a data error with its place, and stop.
function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# "0x1A2b" or "123" -> number; anything else -> -1. Done by hand because
# POSIX awk has no hex conversion (strtonum is gawk's).
function parse_value(s,    pos, digit, num) {
	if (s ~ /^0[xX][0-9A-Fa-f]+$/) {
		num = 0
		for (pos = 3; pos <= length(s); pos++) {
			digit = index("0123456789abcdef", \
			    tolower(substr(s, pos, 1))) - 1
			num = num * 16 + digit
		}
		return num
	}
	if (s ~ /^[0-9]+$/)
		return s + 0
	return -1
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# A field goes into a C string literal unescaped, so allow only characters
# that need no escaping and that registry names actually use.
function check_text(s, what) {
	if (s == "")
		fail("empty " what)
	if (s !~ /^[A-Za-z0-9_ .()+\/-]+$/)
		fail(what " \"" s "\" has a character not allowed in names")
}

FNR == 1 {
	base = FILENAME
	sub(/.*\//, "", base)
	if (!(base in table))
		fail("unknown data file (the tls-*.csv names are listed in " \
		    "tools/gen-names.awk)")
	key = table[base]
	if (key in file_of)
		fail("second file for table " key " (first: " file_of[key] ")")
	file_of[key] = FILENAME
	count[key] = 0
	have_header = 0
}

{ sub(/\r$/, "") }		# tolerate CRLF files
/^[ \t]*#/ || /^[ \t]*$/ { next }

!have_header {
	h = $0
	gsub(/[ \t]/, "", h)
	if (key == "cipher" ? h != header[key] : \
	    h != header[key] && index(h, header[key] ",") != 1)
		fail("header must be \"" header[key] \
		    (key == "cipher" ? "" : "[,...]") "\", got \"" $0 "\"")
	ncols = split(h, unused, ",")
	have_header = 1
	next
}

{
	if (NF != ncols)
		fail("expected " ncols " fields, got " NF)
	v = parse_value(trim($1))
	if (v < 0)
		fail("bad value \"" $1 "\"")
	if (v > maxval[key])
		fail("value " $1 " does not fit table " key \
		    " (max " maxval[key] ")")
	n = ++count[key]
	val[key, n] = v
	nm = trim($2)
	check_text(nm, "name")
	name[key, n] = nm
	line[key, n] = FNR
	if (key == "cipher") {
		for (c = 3; c <= 6; c++) {
			f = trim($c)
			check_text(f, "column " c)
			col[n, c] = f
		}
	}
}

# Insertion sort of table tk by value into sorted[tk, 1..rows] (row
# numbers): the tables hold a few hundred rows at most, so the simplest sort
# that POSIX awk allows will do. Duplicates are refused here, before any
# output, so a failed run leaves nothing half-written on stdout.
function sort_table(tk, rows,    x, y, row) {
	for (x = 1; x <= rows; x++)
		sorted[tk, x] = x
	for (x = 2; x <= rows; x++) {
		row = sorted[tk, x]
		for (y = x - 1; y >= 1 && \
		    val[tk, sorted[tk, y]] > val[tk, row]; y--)
			sorted[tk, y + 1] = sorted[tk, y]
		sorted[tk, y + 1] = row
	}
	for (x = 2; x <= rows; x++) {
		if (val[tk, sorted[tk, x]] == val[tk, sorted[tk, x - 1]]) {
			printf "%s:%d: duplicate value %d (also on line %d)\n", \
			    file_of[tk], line[tk, sorted[tk, x]], \
			    val[tk, sorted[tk, x]], \
			    line[tk, sorted[tk, x - 1]] > "/dev/stderr"
			return 0
		}
	}
	return 1
}

END {
	if (failed)
		exit 1
	for (k = 1; k <= nkeys; k++) {
		if (!(keys[k] in file_of)) {
			printf "gen-names.awk: no data file for table %s\n", \
			    keys[k] > "/dev/stderr"
			exit 1
		}
		if (count[keys[k]] == 0) {
			printf "%s: no rows\n", file_of[keys[k]] > "/dev/stderr"
			exit 1
		}
		if (!sort_table(keys[k], count[keys[k]]))
			exit 1
	}

	print "/* names_data.c - GENERATED by tools/gen-names.awk from data/tls-*.csv."
	print " * Do not edit: change the CSV file and rebuild."
	print " *"
	print " * Included by src/names.c, which defines struct names_entry; each"
	print " * table is sorted by value with no duplicates (the generator checks)."
	print " */"
	for (k = 1; k <= nkeys; k++) {
		key = keys[k]
		n = count[key]
		print ""
		printf "/* %s: %d entries */\n", file_of[key], n
		if (key == "cipher") {
			print "static const struct td_cipher_info names_cipher_tab[] = {"
			for (i = 1; i <= n; i++) {
				j = sorted[key, i]
				printf "\t{ 0x%04X, \"%s\", \"%s\", \"%s\", \"%s\", \"%s\" },\n", \
				    val[key, j], name[key, j], col[j, 3], col[j, 4], \
				    col[j, 5], col[j, 6]
			}
		} else {
			printf "static const struct names_entry names_%s_tab[] = {\n", key
			for (i = 1; i <= n; i++) {
				j = sorted[key, i]
				if (maxval[key] == 255)
					printf "\t{ %d, \"%s\" },\n", val[key, j], name[key, j]
				else
					printf "\t{ 0x%04X, \"%s\" },\n", val[key, j], name[key, j]
			}
		}
		print "};"
	}
}

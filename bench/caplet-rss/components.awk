# Resident memory of one process by component, from /proc/PID/smaps.
#   awk -v bin=NAME -v direct="SO1 SO2 ..." -f components.awk /proc/PID/smaps
# bin: the program's file name; direct: the file names (not sonames) of the
# libraries it links itself. Other libraries are there because a library
# needed them. Prints "component<TAB>Rss KiB<TAB>Private_Dirty KiB".
BEGIN {
	n = split(direct, d, " ")
	for (i = 1; i <= n; i++)
		is_direct[d[i]] = 1
}
function component(path, file) {
	if (path == "")
		return "other anonymous (mmap, thread stacks)"
	if (path == "[heap]")
		return "heap (malloc)"
	if (path == "[stack]")
		return "main stack"
	if (path ~ /^\[/)
		return "vdso, vvar"
	file = path
	sub(/.*\//, "", file)
	if (file == bin)
		return "the program (code, data)"
	if (file ~ /^(libc\.so|ld-linux)/)
		return "libc, ld.so"
	if (file ~ /^lib(ssl|crypto)\.so/)
		return "OpenSSL (libssl, libcrypto)"
	if (file ~ /^libmbed/)
		return "mbedTLS (tls, x509, crypto)"
	if (file ~ /^libcurl/)
		return "libcurl"
	if (file !~ /\.so/)
		return "other files (locale, ...)"
	if (is_direct[file]) {
		own[file] = 1
		return "own"
	}
	pulled[file] = 1
	return "pulled"
}
/^[0-9a-f]+-[0-9a-f]+ / {
	path = ""
	for (i = 6; i <= NF; i++)
		path = path (i > 6 ? " " : "") $i
	c = component(path)
	next
}
/^Rss:/ { rss[c] += $2 }
/^Private_Dirty:/ { pd[c] += $2 }
function short(file) {
	sub(/^lib/, "", file)
	sub(/\.so.*/, "", file)
	sub(/-[0-9.]+$/, "", file)
	return file
}
END {
	for (f in own)
		own_names = own_names (own_names == "" ? "" : ", ") short(f)
	for (f in pulled)
		n_pulled++
	for (c in rss) {
		if (rss[c] == 0)
			continue
		label = c
		if (c == "own")
			label = "other libraries it links (" own_names ")"
		else if (c == "pulled")
			label = n_pulled " libraries its libraries pull in"
		printf "%s\t%d\t%d\n", label, rss[c], pd[c]
	}
}

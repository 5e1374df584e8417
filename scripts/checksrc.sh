#!/usr/bin/env bash
# Source checks that the compiler does not make: banned functions (as curl's
# checksrc does), a comment at the top of every file, no file over 1,500
# lines. Prints one line per problem; exits non-zero if there is any.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files 'src/*.c' 'src/*.h' 'bench/*.c' 'bench/*.h' 'fuzz/*.c' 'tests/*.c' 'tests/*.h' 2>/dev/null)
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|sscanf|gets|alloca)[[:space:]]*\('
for f in $files; do
	# strip string literals and comments crudely before looking for calls
	if sed -e 's#"[^"]*"##g' -e 's#//.*##' "$f" | grep -nE "$banned" | grep -vE '^\s*[0-9]+:\s*\*' >/tmp/checksrc.$$; then
		while read -r l; do echo "$f:$l: banned function"; done </tmp/checksrc.$$
		status=1
	fi
	first=$(grep -v '^\s*$' "$f" | head -1)
	case "$first" in
	/\**) ;;
	*) echo "$f: does not start with a comment saying what it is"; status=1 ;;
	esac
	n=$(wc -l <"$f")
	if [ "$n" -gt 1500 ]; then echo "$f: $n lines (over 1,500)"; status=1; fi
done
rm -f /tmp/checksrc.$$
exit $status

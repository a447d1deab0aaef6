# test/citus/tap.bash: TAP assertions shared by the Citus tests (sourced; not a
# test itself: only *.sh files are run).  $n counts the tests, $failed the
# failures; a script ends with `[ "$failed" = 0 ]`.

n=0
failed=0
ok() {	# ok <exit status> <name>
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
is() {	# is <got> <want> <name>
	n=$((n + 1))
	if [ "$1" = "$2" ]; then echo "ok $n - $3"; else
		echo "not ok $n - $3"; echo "#      got: '$1'"; echo "# expected: '$2'"; failed=$((failed + 1)); fi
}
like() {	# like <got> <extended regex> <name>
	n=$((n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $n - $3"; else
		echo "not ok $n - $3"; printf '%s\n' "$1" | sed 's/^/#      got: /'; echo "# expected: /$2/"
		failed=$((failed + 1)); fi
}

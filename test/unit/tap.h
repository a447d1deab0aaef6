/*
 * tap.h
 *		A tiny TAP producer for alfred's C unit tests (no dependencies).
 *
 * Each test program includes this header, calls the check macros and ends
 * with done_testing(), which prints the plan and returns the exit status.
 * prove reads the output.
 */
#ifndef ALFRED_TAP_H
#define ALFRED_TAP_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int	tap_count = 0;
static int	tap_failed = 0;

static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list		ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		printf("#   Failed at %s line %d\n", file, line);
	return cond;
}

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, name) do { \
	long long g_ = (long long) (got), w_ = (long long) (want); \
	if (!ok(g_ == w_, "%s", (name))) \
		printf("#          got: %lld\n#     expected: %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, name) do { \
	const char *g_ = (got), *w_ = (want); \
	int eq_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0); \
	if (!ok(eq_, "%s", (name))) \
		printf("#          got: '%s'\n#     expected: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define is_double(got, want, eps, name) do { \
	double g_ = (got), w_ = (want); \
	if (!ok(fabs(g_ - w_) <= (eps), "%s", (name))) \
		printf("#          got: %.17g\n#     expected: %.17g\n", g_, w_); \
} while (0)

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#endif							/* ALFRED_TAP_H */

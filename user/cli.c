// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Command-line helpers shared by dbnic-tool and dbnic-bench (cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_prog = "dbnic";

void cli_bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(%s -h lists the options)\n", cli_prog);
	exit(2);
}

unsigned long long cli_parse_num(const char *opt, const char *s,
				 unsigned long long min, unsigned long long max,
				 int suffixes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (suffixes) {
		switch (*end) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		}
	}
	/* strtoull() accepts "-1" as a huge number: refuse any sign. */
	if (end == s || *end || errno || strchr(s, '-') ||
	    (shift && v > (~0ull >> shift)))
		cli_bad_usage("%s '%s': not a number%s", opt, s,
			      suffixes ? " (K, M and G suffixes allowed)" : "");
	v <<= shift;
	if (v < min)
		cli_bad_usage("%s %s: must be at least %llu", opt, s, min);
	if (v > max)
		cli_bad_usage("%s %s: must be at most %llu", opt, s, max);
	return v;
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Command-line helpers shared by dbnic-tool and dbnic-bench: bad input
 * from a person gets a message that says what is wrong and what is
 * allowed, and exit status 2.
 */
#ifndef DBNIC_CLI_H
#define DBNIC_CLI_H

/* The program's name in messages; main() sets it. */
extern const char *cli_prog;

/**
 * cli_bad_usage() - print "<prog>: <message>" and a hint, then exit(2).
 * @fmt: printf format of what is wrong and what is allowed
 */
void cli_bad_usage(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/**
 * cli_parse_num() - the value of option @opt ("--size", "-n").
 * @opt: the option's name, for messages
 * @s: its argument: a number in C notation (decimal, 0x hex, 0 octal),
 *     followed by K, M or G (binary multiples) when @suffixes is set
 * @min: smallest allowed value
 * @max: largest allowed value
 * @suffixes: accept the K, M and G suffixes
 *
 * Anything else (a sign, trailing text, an overflow, a value out of
 * [@min, @max]) is bad usage: cli_bad_usage() says which, and exits.
 * Return: the value.
 */
unsigned long long cli_parse_num(const char *opt, const char *s,
				 unsigned long long min, unsigned long long max,
				 int suffixes);

#endif /* DBNIC_CLI_H */

/* Text a capsule or its status controls, made safe for a terminal (pure:
 * unit-tested with memory streams).
 *
 * A capsule's output, a status message or reason could hold escape
 * sequences that retitle, clear or reprogram the user's terminal (OSC 52
 * writes the clipboard). So by default, on a terminal and into a pipe alike
 * (a pipe often ends in `less -R` or a terminal later), every byte that a
 * terminal would act on is shown as visible text instead:
 *   C0 controls but \t and \n, and \r not followed by \n:  ^@ .. ^_ (^[ is ESC)
 *   DEL:                                                   ^?
 *   C1 controls U+0080..U+009F (e.g. U+009B, CSI):         \u009b
 *   bidirectional overrides and isolates (U+202A..U+202E,
 *   U+2066..U+2069), which reorder what is shown:          \u202e
 *   bytes that are not valid UTF-8 (a lone 0x9b is CSI
 *   to a terminal in an 8-bit mode):                       \x9b
 * Valid UTF-8 text ("grüße") is written as it is. --raw writes the capsule's
 * output byte for byte, for binary output going to a file or a pipe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes n bytes of s, escaped as above (raw: as they are). */
void plugin_write_safe(FILE *f, const char *s, size_t n, bool raw);
/* printf, the result escaped (never raw: for messages, names and reasons). */
void plugin_printf_safe(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A document, JSON (jansson's: valid UTF-8, controls below 0x20 escaped) or
 * YAML (plugin_yaml_write's: C0, DEL and C1 escaped, a string with a bidi
 * control double-quoted), with DEL, C1 and bidi controls written as \uXXXX:
 * both formats read that escape back as the same character, so the values
 * are unchanged and nothing a terminal acts on is written. raw: as it is. */
void plugin_write_doc_safe(FILE *f, const char *doc, size_t n, bool raw);
/* Whether s holds a bidi control (what plugin_write_doc_safe escapes and a
 * YAML scalar can hold only in double quotes). */
bool plugin_has_bidi_control(const char *s);

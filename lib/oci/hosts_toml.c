/* hosts_toml.h: tables, dotted and quoted keys, strings, booleans, arrays of
 * strings and of arrays of strings, comments; anything else an error naming
 * its line. */
#include "oci/hosts_toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int recap_oci_toml_fail(struct toml_cursor *c, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return recap_error_set(c->err, EINVAL, "%s:%d: %s", c->file, c->line, what);
}

#define fail recap_oci_toml_fail

static bool at_end(const struct toml_cursor *c)
{
	return c->s >= c->end;
}

static void skip_blank(struct toml_cursor *c)
{
	while (!at_end(c) && (*c->s == ' ' || *c->s == '\t'))
		c->s++;
}

static void skip_comment(struct toml_cursor *c)
{
	if (!at_end(c) && *c->s == '#')
		while (!at_end(c) && *c->s != '\n')
			c->s++;
}

/* Blanks, comments and newlines (between statements, inside an array). */
static void skip_space(struct toml_cursor *c)
{
	for (;;) {
		skip_blank(c);
		skip_comment(c);
		if (at_end(c) || (*c->s != '\n' && *c->s != '\r'))
			return;
		if (*c->s == '\n')
			c->line++;
		c->s++;
	}
}

static int hex_escape(struct toml_cursor *c, char *ch)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char h = c->s < c->end ? *c->s++ : '\0';
		int d = h >= '0' && h <= '9'   ? h - '0'
			: h >= 'a' && h <= 'f' ? h - 'a' + 10
			: h >= 'A' && h <= 'F' ? h - 'A' + 10
					       : -1;
		if (d < 0)
			return fail(c, "a \\u escape of four hex digits was expected");
		v = v * 16 + (unsigned)d;
	}
	if (v < 0x20 || v > 0x7e)
		return fail(c, "a \\u escape other than printable ASCII");
	*ch = (char)v;
	return 0;
}

/* The character a backslash escape in a "..." string stands for. */
static int escape(struct toml_cursor *c, char *ch)
{
	char e = *c->s++;
	switch (e) {
	case 'n':
		*ch = '\n';
		return 0;
	case 't':
		*ch = '\t';
		return 0;
	case 'r':
		*ch = '\r';
		return 0;
	case '"':
	case '\\':
	case '/':
		*ch = e;
		return 0;
	case 'u':
		return hex_escape(c, ch);
	default:
		return fail(c, "an unknown escape in a string");
	}
}

/* "..." with \" \\ \n \t \r \/ (and \uXXXX of ASCII), or '...' as is. */
static int string(struct toml_cursor *c, char *out, size_t size)
{
	char q = *c->s++;
	size_t n = 0;
	while (!at_end(c) && *c->s != q) {
		char ch = *c->s++;
		if (ch == '\n')
			return fail(c, "a string does not end on its line");
		if (ch == '\\' && q == '"') {
			if (at_end(c))
				break;
			int r = escape(c, &ch);
			if (r < 0)
				return r;
		}
		if ((unsigned char)ch < 0x20 && ch != '\t')
			return fail(c, "a control character in a string");
		if (n + 1 >= size)
			return fail(c, "a string too long");
		out[n++] = ch;
	}
	if (at_end(c))
		return fail(c, "a string does not end");
	c->s++;
	out[n] = '\0';
	return 0;
}

static bool bare_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

static int key(struct toml_cursor *c, char *out, size_t size)
{
	skip_blank(c);
	if (!at_end(c) && (*c->s == '"' || *c->s == '\''))
		return string(c, out, size);
	size_t n = 0;
	while (!at_end(c) && bare_char(*c->s)) {
		if (n + 1 >= size)
			return fail(c, "a key too long");
		out[n++] = *c->s++;
	}
	if (n == 0)
		return fail(c, "a key was expected");
	out[n] = '\0';
	return 0;
}

/* a.b."c" into parts; stops before what follows. */
static int key_path(struct toml_cursor *c, struct toml_stmt *st)
{
	st->n = 0;
	for (;;) {
		if (st->n >= TOML_PATH_PARTS)
			return fail(c, "a key of too many parts");
		int r = key(c, st->path[st->n++], TOML_STR_MAX);
		if (r < 0)
			return r;
		skip_blank(c);
		if (at_end(c) || *c->s != '.')
			return 0;
		c->s++;
	}
}

static bool at_string(const struct toml_cursor *c)
{
	return !at_end(c) && (*c->s == '"' || *c->s == '\'');
}

static int array(struct toml_cursor *c, struct toml_value *v, bool inner);

/* One element: a string or (outside an inner array) an array of strings. */
static int array_item(struct toml_cursor *c, struct toml_value *v, bool inner)
{
	bool nested = !inner && !at_end(c) && *c->s == '[';
	if (!at_string(c) && !nested)
		return fail(c, inner ? "an array of strings was expected inside an array"
				     : "an array of strings (or of arrays of strings) was expected");
	if (v->n >= TOML_ARRAY_MAX || (!inner && v->n_items >= TOML_ARRAY_MAX))
		return fail(c, "an array of too many items");
	if (inner)
		return string(c, v->arr[v->n++], sizeof(v->arr[0]));
	struct toml_item *it = &v->item[v->n_items++];
	*it = (struct toml_item){.first = v->n, .array = nested};
	int r;
	if (nested) {
		c->s++;
		r = array(c, v, true);
	} else {
		r = string(c, v->arr[v->n++], sizeof(v->arr[0]));
	}
	it->n = v->n - it->first;
	return r;
}

/* [ item, item, ... ] after its '['. */
static int array(struct toml_cursor *c, struct toml_value *v, bool inner)
{
	for (;;) {
		skip_space(c);
		if (!at_end(c) && *c->s == ']') {
			c->s++;
			return 0;
		}
		int r = array_item(c, v, inner);
		if (r < 0)
			return r;
		skip_space(c);
		if (!at_end(c) && *c->s == ',')
			c->s++;
		else if (at_end(c) || *c->s != ']')
			return fail(c, "',' or ']' was expected in an array");
	}
}

static int value(struct toml_cursor *c, struct toml_value *v)
{
	skip_blank(c);
	if (at_end(c))
		return fail(c, "a value was expected");
	if (at_string(c)) {
		if (c->end - c->s >= 3 && (!strncmp(c->s, "\"\"\"", 3) || !strncmp(c->s, "'''", 3)))
			return fail(c, "multi-line strings are not read here");
		v->type = TOML_STR;
		return string(c, v->str, sizeof(v->str));
	}
	if (*c->s == '[') {
		c->s++;
		v->type = TOML_ARRAY;
		v->n = v->n_items = 0;
		return array(c, v, false);
	}
	if (*c->s == '{')
		return fail(c, "inline tables are not read here");
	size_t n = 0;
	while (c->s + n < c->end &&
	       (bare_char(c->s[n]) || c->s[n] == '.' || c->s[n] == ':' || c->s[n] == '+'))
		n++;
	if (n == 4 && !strncmp(c->s, "true", 4))
		v->type = TOML_BOOL, v->b = true;
	else if (n == 5 && !strncmp(c->s, "false", 5))
		v->type = TOML_BOOL, v->b = false;
	else if (n > 0 && ((c->s[0] >= '0' && c->s[0] <= '9') || c->s[0] == '-' || c->s[0] == '+'))
		v->type = TOML_OTHER; /* a number or a date: no key read here takes one */
	else
		return fail(c, "a value was expected (a string, true, false, an array or a number)");
	c->s += n;
	return 0;
}

static int table(struct toml_cursor *c, struct toml_stmt *st)
{
	c->s++;
	if (!at_end(c) && *c->s == '[')
		return fail(c, "arrays of tables are not read here");
	int r = key_path(c, st);
	skip_blank(c);
	if (r == 0 && (at_end(c) || *c->s != ']'))
		r = fail(c, "']' was expected");
	if (r == 0)
		c->s++;
	st->kind = TOML_TABLE;
	return r;
}

static int key_value(struct toml_cursor *c, struct toml_stmt *st)
{
	int r = key_path(c, st);
	skip_blank(c);
	if (r == 0 && (at_end(c) || *c->s != '='))
		r = fail(c, "'=' was expected");
	if (r == 0) {
		c->s++;
		r = value(c, &st->v);
	}
	st->kind = TOML_KEY;
	return r;
}

int recap_oci_toml_next(struct toml_cursor *c, struct toml_stmt *st)
{
	skip_space(c);
	if (at_end(c)) {
		st->kind = TOML_END;
		return 0;
	}
	int r = *c->s == '[' ? table(c, st) : key_value(c, st);
	if (r < 0)
		return r;
	skip_blank(c);
	skip_comment(c);
	if (!at_end(c) && *c->s != '\n' && *c->s != '\r')
		return fail(c, "the line goes on after its value");
	return 0;
}

bool recap_oci_toml_is_strings(const struct toml_value *v)
{
	if (v->type != TOML_ARRAY)
		return false;
	for (size_t i = 0; i < v->n_items; i++)
		if (v->item[i].array)
			return false;
	return true;
}

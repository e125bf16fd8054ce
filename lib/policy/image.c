#include "policy/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dynamic programming from the end of the pattern: row i says, for every
 * suffix of s, whether pattern[i..] matches it. Three rows suffice because
 * a token is at most two characters long. O(len(pattern) x len(s)). */
bool recap_policy_glob_match(const char *pattern, const char *s)
{
	size_t n = strlen(pattern), m = strlen(s);
	if (n > RECAP_IMAGE_REF_MAX || m > RECAP_IMAGE_REF_MAX)
		return false;
	unsigned char *rows = calloc(3, m + 1);
	if (!rows)
		return false;
	unsigned char *row[3] = {rows, rows + m + 1, rows + 2 * (m + 1)}; /* i, i+1, i+2 */
	row[1][m] = 1;							  /* empty pattern matches "" */
	for (size_t k = n; k-- > 0;) {
		unsigned char *cur = row[0], *next = row[1], *next2 = row[2];
		bool dstar = pattern[k] == '*' && pattern[k + 1] == '*';
		for (size_t j = m + 1; j-- > 0;) {
			if (dstar)
				cur[j] = next2[j] || (j < m && cur[j + 1]);
			else if (pattern[k] == '*')
				cur[j] = next[j] || (j < m && s[j] != '/' && cur[j + 1]);
			else
				cur[j] = j < m && s[j] == pattern[k] && next[j + 1];
		}
		row[2] = next;
		row[1] = cur;
		row[0] = next2;
	}
	bool match = row[1][0];
	free(rows);
	return match;
}

int recap_policy_image_normalize(const char *ref, char *out, size_t size)
{
	const char *slash = strchr(ref, '/');
	size_t first = slash ? (size_t)(slash - ref) : strlen(ref);
	bool registry = slash && (memchr(ref, '.', first) || memchr(ref, ':', first) ||
				  (first == 9 && strncmp(ref, "localhost", 9) == 0));
	int n;
	if (registry)
		n = snprintf(out, size, "%s", ref);
	else if (slash)
		n = snprintf(out, size, "docker.io/%s", ref);
	else
		n = snprintf(out, size, "docker.io/library/%s", ref);
	if (n < 0 || (size_t)n >= size || (size_t)n > RECAP_IMAGE_REF_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int recap_policy_image_check_cluster(const char *ref, struct recap_error **err)
{
	if (ref && strncmp(ref, "oci:", 4) == 0)
		return recap_error_set(err, EPERM,
				       "image: oci:<dir> names an OCI layout on the node, which only the "
				       "standalone capsule CLI may read; use a registry reference");
	return 0;
}

const char *recap_policy_image_digest(const char *ref)
{
	const char *at = strrchr(ref, '@');
	if (!at || strncmp(at + 1, "sha256:", 7) != 0 || strlen(at + 8) != 64)
		return NULL;
	for (const char *p = at + 8; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return NULL;
	}
	return at + 1;
}

/* A projection's paths as a tree, shared by applying it to a tree
 * (projection.c) and by decoding a list through it (list_decode.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct node {
	char *name;
	size_t len;
	bool each; /* name[]: children apply to every element */
	struct node *children;
	size_t n;
};

struct recap_kube_projection {
	struct node root;
};

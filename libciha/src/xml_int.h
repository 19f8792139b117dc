/* xml_int.h: a small read-only XML tree built with expat. Element names are
 * local names (namespace prefixes stripped); text is the concatenated
 * character data of the element (entities decoded). */
#ifndef CIHA_XML_INT_H
#define CIHA_XML_INT_H
#include <stddef.h>

typedef struct ciha__xml_node {
	char *name;
	char *text;            /* "" when none */
	struct ciha__xml_node **children;
	size_t nchildren;
	struct ciha__xml_node *parent;
} ciha__xml_node;

/* Returns CIHA_OK and a new tree, CIHA_EINVAL (raised, with line/column) on
 * malformed input, CIHA_ENOMEM. Depth is limited (256) against hostile input. */
int ciha__xml_parse(ciha__xml_node **out, const char *data, size_t len);
/* Frees the tree ciha__xml_parse returned (one allocation arena per document);
 * NULL and subtrees (nodes with a parent) are left alone. */
void ciha__xml_free(ciha__xml_node *n);
/* First child with this local name, or NULL. */
const ciha__xml_node *ciha__xml_child(const ciha__xml_node *n, const char *name);
/* Text of the first descendant path "A/B/C" below n, or NULL. */
const char *ciha__xml_path_text(const ciha__xml_node *n, const char *path);
#endif

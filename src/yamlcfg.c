/*
 * yamlcfg.c — libyaml document loading and typed getters with diagnostics
 * that name the file, the line and the key.
 */
#include "yamlcfg.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
yc_line(yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

int
yc_error(struct yamlcfg *yc, yaml_node_t *node, const char *path, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (path != NULL && *path != '\0')
		snprintf(yc->err, yc->errlen, "%s:%d: key '%s': %s", yc->file, yc_line(node), path, what);
	else
		snprintf(yc->err, yc->errlen, "%s:%d: %s", yc->file, yc_line(node), what);
	return -1;
}

int
yc_load(struct yamlcfg *yc, const char *file, char *err, size_t errlen)
{
	memset(yc, 0, sizeof(*yc));
	yc->file = file;
	yc->err = err;
	yc->errlen = errlen;
	FILE *fp = fopen(file, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
		return -1;
	}
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	int ok = yaml_parser_load(&parser, &yc->doc);
	if (!ok) {
		snprintf(err, errlen, "%s:%d:%d: YAML syntax error: %s%s%s", file,
		    (int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "unknown",
		    parser.context ? " " : "", parser.context ? parser.context : "");
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	if (!ok)
		return -1;
	yc->loaded = 1;
	yaml_node_t *root = yaml_document_get_root_node(&yc->doc);
	if (root == NULL) {
		snprintf(err, errlen, "%s: empty document", file);
		return -1;
	}
	if (root->type != YAML_MAPPING_NODE)
		return yc_error(yc, root, NULL, "the top level must be a mapping of keys");
	return 0;
}

void
yc_free(struct yamlcfg *yc)
{
	if (yc->loaded)
		yaml_document_delete(&yc->doc);
	yc->loaded = 0;
}

yaml_node_t *
yc_root(struct yamlcfg *yc)
{
	return yaml_document_get_root_node(&yc->doc);
}

int
yc_is_map(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_MAPPING_NODE;
}

int
yc_is_seq(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SEQUENCE_NODE;
}

static const char *
scalar(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void
join(char *buf, size_t len, const char *path, const char *key)
{
	if (path != NULL && *path != '\0')
		snprintf(buf, len, "%s.%s", path, key);
	else
		snprintf(buf, len, "%s", key);
}

int
yc_check_keys(struct yamlcfg *yc, yaml_node_t *map, const char *path, const char *const *allowed)
{
	if (!yc_is_map(map))
		return yc_error(yc, map, path, "must be a mapping of keys");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&yc->doc, p->key);
		const char *name = scalar(k);
		if (name == NULL)
			return yc_error(yc, k, path, "keys must be plain strings");
		int found = 0;
		for (const char *const *a = allowed; *a != NULL; a++)
			if (strcmp(*a, name) == 0)
				found = 1;
		char full[256];
		join(full, sizeof(full), path, name);
		if (!found)
			return yc_error(yc, k, full, "unknown key");
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			const char *prev = scalar(yaml_document_get_node(&yc->doc, q->key));
			if (prev != NULL && strcmp(prev, name) == 0)
				return yc_error(yc, k, full, "given twice");
		}
	}
	return 0;
}

yaml_node_t *
yc_get(struct yamlcfg *yc, yaml_node_t *map, const char *key)
{
	if (!yc_is_map(map))
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(&yc->doc, p->key));
		if (name != NULL && strcmp(name, key) == 0)
			return yaml_document_get_node(&yc->doc, p->value);
	}
	return NULL;
}

static int
get_scalar(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    const char **val, yaml_node_t **node, char *full, size_t fulllen)
{
	join(full, fulllen, path, key);
	*node = yc_get(yc, map, key);
	*val = NULL;
	if (*node == NULL)
		return 0;
	*val = scalar(*node);
	if (*val == NULL)
		return yc_error(yc, *node, full, "must be a single value, not a list or mapping");
	return 0;
}

int
yc_str(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path, char **out)
{
	char full[256];
	const char *v;
	yaml_node_t *n;
	if (get_scalar(yc, map, key, path, &v, &n, full, sizeof(full)) < 0)
		return -1;
	if (v == NULL)
		return 0;
	if (*v == '\0')
		return yc_error(yc, n, full, "is empty; give a value or remove the key");
	char *dup = strdup(v);
	if (dup == NULL)
		return yc_error(yc, n, full, "out of memory");
	free(*out);
	*out = dup;
	return 0;
}

int
yc_bool(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path, int *out)
{
	char full[256];
	const char *v;
	yaml_node_t *n;
	if (get_scalar(yc, map, key, path, &v, &n, full, sizeof(full)) < 0)
		return -1;
	if (v == NULL)
		return 0;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		*out = 0;
	else
		return yc_error(yc, n, full, "must be true or false, not '%s'", v);
	return 0;
}

int
yc_int(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    long min, long max, long *out)
{
	char full[256];
	const char *v;
	yaml_node_t *n;
	if (get_scalar(yc, map, key, path, &v, &n, full, sizeof(full)) < 0)
		return -1;
	if (v == NULL)
		return 0;
	char *end;
	errno = 0;
	long l = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || l < min || l > max)
		return yc_error(yc, n, full, "must be an integer from %ld to %ld, not '%s'", min, max, v);
	*out = l;
	return 0;
}

int
yc_size(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    size_t min, size_t max, size_t *out)
{
	char full[256];
	const char *v;
	yaml_node_t *n;
	if (get_scalar(yc, map, key, path, &v, &n, full, sizeof(full)) < 0)
		return -1;
	if (v == NULL)
		return 0;
	char *end;
	errno = 0;
	unsigned long long l = strtoull(v, &end, 10);
	unsigned long long mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1024ULL, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1024ULL * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1024ULL * 1024 * 1024, end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || l > (unsigned long long)max / mult ||
	    l * mult < min || l * mult > max)
		return yc_error(yc, n, full, "must be a size from %zu to %zu bytes (suffix k, m or g allowed), not '%s'",
		    min, max, v);
	*out = (size_t)(l * mult);
	return 0;
}

int
yc_seconds(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    double min, double max, double *out)
{
	char full[256];
	const char *v;
	yaml_node_t *n;
	if (get_scalar(yc, map, key, path, &v, &n, full, sizeof(full)) < 0)
		return -1;
	if (v == NULL)
		return 0;
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (*end == 's')
		end++;
	if (errno != 0 || end == v || *end != '\0' || isnan(d) || d < min || d > max)
		return yc_error(yc, n, full, "must be a number of seconds from %g to %g, not '%s'", min, max, v);
	*out = d;
	return 0;
}

yaml_node_t *
yc_seq_item(struct yamlcfg *yc, yaml_node_t *map, const char *key, size_t i)
{
	yaml_node_t *n = yc_get(yc, map, key);
	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return n;
	yaml_node_item_t *items = n->data.sequence.items.start;
	if (i >= (size_t)(n->data.sequence.items.top - items))
		return n;
	return yaml_document_get_node(&yc->doc, items[i]);
}

void
yc_strlist_free(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

int
yc_strlist(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    char ***out, size_t *count)
{
	char full[256];
	join(full, sizeof(full), path, key);
	yaml_node_t *n = yc_get(yc, map, key);
	if (n == NULL)
		return 0;
	size_t cnt;
	yaml_node_item_t *items = NULL;
	if (n->type == YAML_SCALAR_NODE)
		cnt = 1;
	else if (n->type == YAML_SEQUENCE_NODE) {
		items = n->data.sequence.items.start;
		cnt = (size_t)(n->data.sequence.items.top - items);
	} else
		return yc_error(yc, n, full, "must be a list of strings");
	char **list = calloc(cnt + 1, sizeof(*list));
	if (list == NULL)
		return yc_error(yc, n, full, "out of memory");
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = items ? yaml_document_get_node(&yc->doc, items[i]) : n;
		const char *v = scalar(it);
		if (v == NULL) {
			yc_strlist_free(list, i);
			return yc_error(yc, it, full, "item %zu must be a string", i + 1);
		}
		list[i] = strdup(v);
		if (list[i] == NULL) {
			yc_strlist_free(list, i);
			return yc_error(yc, it, full, "out of memory");
		}
	}
	yc_strlist_free(*out, *count);
	*out = list;
	*count = cnt;
	return 0;
}

/*
 * yamlcfg.h — reading YAML configuration with file:line:key diagnostics.
 *
 * A yamlcfg owns one parsed libyaml document.  Getters take a node and a
 * dotted key path used only for messages; on a bad value they record
 * "FILE:LINE: key 'PATH': WHAT" in the caller's error buffer and return -1.
 * Unknown keys are errors, caught with yc_check_keys().
 */
#ifndef ALDPROXY_YAMLCFG_H
#define ALDPROXY_YAMLCFG_H

#include <stddef.h>
#include <yaml.h>

struct yamlcfg {
	yaml_document_t doc;
	const char *file;
	char *err;          /* caller's buffer */
	size_t errlen;
	int loaded;
};

int  yc_load(struct yamlcfg *yc, const char *file, char *err, size_t errlen);
void yc_free(struct yamlcfg *yc);
yaml_node_t *yc_root(struct yamlcfg *yc);

/* Formats an error tied to a node's line. Always returns -1. */
int yc_error(struct yamlcfg *yc, yaml_node_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Mapping helpers.  yc_check_keys fails on a key not in the NULL-ended list. */
int yc_is_map(yaml_node_t *n);
int yc_is_seq(yaml_node_t *n);
int yc_check_keys(struct yamlcfg *yc, yaml_node_t *map, const char *path, const char *const *allowed);
yaml_node_t *yc_get(struct yamlcfg *yc, yaml_node_t *map, const char *key);

/* Scalars: each returns 0 (absent keeps the default), or -1 with err set. */
int yc_str(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path, char **out);
int yc_bool(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path, int *out);
int yc_int(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    long min, long max, long *out);
int yc_size(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    size_t min, size_t max, size_t *out);
int yc_seconds(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    double min, double max, double *out);
/* A sequence of strings; a single scalar is accepted as a one-item list. */
int yc_strlist(struct yamlcfg *yc, yaml_node_t *map, const char *key, const char *path,
    char ***out, size_t *count);
void yc_strlist_free(char **list, size_t count);
/* Item i of the list under key (for the line of an error), or the list itself. */
yaml_node_t *yc_seq_item(struct yamlcfg *yc, yaml_node_t *map, const char *key, size_t i);
int yc_line(yaml_node_t *n);

#endif

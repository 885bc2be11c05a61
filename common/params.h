/*
 * params.h - strict parsing of the small values clus reads from people and
 * from the wire: K=V pairs, numbers, booleans. Every parser rejects trailing
 * garbage, overflow and empty input.
 */
#ifndef CLUS_PARAMS_H
#define CLUS_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <clus/restype.h>

#define CLUS_PARAM_KEY_MAX   64
#define CLUS_PARAM_VALUE_MAX 4096
#define CLUS_PARAMS_MAX      64

/* Splits "key=value" at the first '='. The key must be a valid parameter key
 * (clus_param_key_valid). Returns 0, or 87 with a reason in err. The outputs
 * point into a copy the caller frees with free(*key) (value shares it). */
uint32_t clus_param_split(const char *kv, char **key, char **value, char *err, size_t errlen);

/* [A-Za-z_][A-Za-z0-9_.-]*, at most CLUS_PARAM_KEY_MAX bytes. */
bool clus_param_key_valid(const char *key);

/* Decimal or 0x-hex unsigned number within [0, max]. */
bool clus_parse_u32(const char *s, uint32_t max, uint32_t *out);
bool clus_parse_u64(const char *s, uint64_t *out);

/* A growable list of key=value pairs that owns copies of its strings: what
 * a type hands back through clus_control.add_property. */
typedef struct clus_param_list {
    clus_param *items;
    size_t count, cap;
} clus_param_list;

/* Appends copies of key and value (NULL value: ""). false when out of memory
 * (the list is unchanged). */
bool clus_param_list_add(clus_param_list *list, const char *key, const char *value);
void clus_param_list_free(clus_param_list *list);

/* true/false, yes/no, on/off, 1/0 (any case). */
bool clus_parse_bool(const char *s, bool *out);

#endif

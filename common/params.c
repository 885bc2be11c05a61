#include "params.h"
#include "status.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool clus_param_key_valid(const char *key)
{
    size_t n = strlen(key);

    if (n == 0 || n > CLUS_PARAM_KEY_MAX || !(isalpha((unsigned char)key[0]) || key[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (!isalnum(c) && c != '_' && c != '.' && c != '-')
            return false;
    }
    return true;
}

uint32_t clus_param_split(const char *kv, char **key, char **value, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    char *copy;

    if (eq == NULL) {
        snprintf(err, errlen, "parameter '%.80s' is not of the form key=value", kv);
        return CLUS_E_INVALID_PARAMETER;
    }
    if (strlen(eq + 1) > CLUS_PARAM_VALUE_MAX) {
        snprintf(err, errlen, "value of parameter '%.*s' is longer than %d bytes",
                 (int)(eq - kv > 64 ? 64 : eq - kv), kv, CLUS_PARAM_VALUE_MAX);
        return CLUS_E_INVALID_PARAMETER;
    }
    copy = strdup(kv);
    if (copy == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    copy[eq - kv] = '\0';
    if (!clus_param_key_valid(copy)) {
        snprintf(err, errlen, "'%.80s' is not a valid parameter name", copy);
        free(copy);
        return CLUS_E_INVALID_PARAMETER;
    }
    *key = copy;
    *value = copy + (eq - kv) + 1;
    return CLUS_OK;
}

bool clus_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

bool clus_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (!clus_parse_u64(s, &v) || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool clus_param_list_add(clus_param_list *list, const char *key, const char *value)
{
    char *k, *v;

    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        clus_param *grown = realloc(list->items, cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        list->items = grown;
        list->cap = cap;
    }
    k = strdup(key);
    v = strdup(value ? value : "");
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return false;
    }
    list->items[list->count++] = (clus_param){k, v};
    return true;
}

void clus_param_list_free(clus_param_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free((char *)list->items[i].key);
        free((char *)list->items[i].value);
    }
    free(list->items);
    *list = (clus_param_list){0};
}

bool clus_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; s != NULL && i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/*
 * ocf_config.c - a resource's parameters: the type's own (agent, ocf_root,
 * timeouts, the monitor's interval and depth) and the agent's (everything
 * else, passed as OCF_RESKEY_<name>), then checked against the agent's
 * meta-data: unknown names and missing required parameters are refused at
 * Open, with a sentence naming them.
 */
#include "ocf_internal.h"

#include "params.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESKEY_PREFIX "OCF_RESKEY_"

static const char *const timeout_keys[OCF_T_COUNT] = {"start_timeout_ms", "stop_timeout_ms",
                                                      "monitor_timeout_ms", "validate_timeout_ms",
                                                      "terminate_timeout_ms"};

/* An OCF parameter name: it becomes part of an environment variable that a
 * shell must be able to read, so [A-Za-z0-9_] only. */
static bool reskey_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > OCF_PART_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static uint32_t bad(char *err, size_t errlen, const char *key, const char *value, const char *rule)
{
    snprintf(err, errlen, "parameter %s='%.80s': %s", key, value, rule);
    return CLUS_E_INVALID_PARAMETER;
}

static uint32_t add_reskey(struct ocf_config *cfg, const char *name, const char *value, char *err,
                           size_t errlen)
{
    if (!reskey_name_valid(name))
        return bad(err, errlen, name, value,
                   "an OCF agent's parameter name is 1-64 characters of A-Z a-z 0-9 _");
    if (ocf_config_reskey(cfg, name) != NULL) {
        snprintf(err, errlen, "parameter %s is given twice", name);
        return CLUS_E_INVALID_PARAMETER;
    }
    cfg->reskeys[cfg->n_reskeys].key = strdup(name);
    cfg->reskeys[cfg->n_reskeys].value = strdup(value);
    cfg->n_reskeys++;
    if (cfg->reskeys[cfg->n_reskeys - 1].key == NULL ||
        cfg->reskeys[cfg->n_reskeys - 1].value == NULL) {
        snprintf(err, errlen, "out of memory");
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    return CLUS_OK;
}

/* A {start,stop,monitor,validate,terminate}_timeout_ms key (true when it is
 * one, *status the verdict). */
static bool timeout_key(struct ocf_config *cfg, const char *key, const char *value,
                        uint32_t *status, char *err, size_t errlen)
{
    for (int t = 0; t < OCF_T_COUNT; t++) {
        if (strcmp(key, timeout_keys[t]) != 0)
            continue;
        if (!clus_parse_u32(value, OCF_TIMEOUT_MAX_MS, &cfg->timeout_ms[t]) ||
            cfg->timeout_ms[t] < OCF_TIMEOUT_MIN_MS)
            *status = bad(err, errlen, key, value, "milliseconds, 100 to 86400000");
        else if (t == OCF_T_VALIDATE && cfg->timeout_ms[t] > OCF_SYNC_LIMIT_MS)
            *status = bad(err, errlen, key, value,
                          "validate-all runs while Open waits: at most 10000 ms");
        cfg->timeout_given[t] = true;
        return true;
    }
    return false;
}

/* One of our keys (true when key is ours, *status the verdict). */
static bool own_key(struct ocf_config *cfg, const char *key, const char *value, uint32_t *status,
                    char *err, size_t errlen)
{
    uint32_t level = 0;

    *status = CLUS_OK;
    if (timeout_key(cfg, key, value, status, err, errlen))
        return true;
    if (strcmp(key, "monitor_interval_ms") == 0) {
        if (!clus_parse_u32(value, OCF_TIMEOUT_MAX_MS, &cfg->interval_ms) ||
            cfg->interval_ms < OCF_TIMEOUT_MIN_MS)
            *status = bad(err, errlen, key, value, "milliseconds, 100 to 86400000");
        cfg->interval_given = true;
    } else if (strcmp(key, "check_level") == 0) {
        if (!clus_parse_u32(value, 1000, &level))
            *status = bad(err, errlen, key, value, "an OCF_CHECK_LEVEL, 0 to 1000");
        cfg->check_level = (int)level;
    } else if (strcmp(key, "ocf_root") == 0) {
        *status = ocf_root_check(value, err, errlen);
        snprintf(cfg->root, sizeof(cfg->root), "%s", value);
    } else if (strcmp(key, "agent") == 0) {
        *status = ocf_agent_split(value, cfg->provider, cfg->type, err, errlen);
        snprintf(cfg->agent, sizeof(cfg->agent), "%s:%s", cfg->provider, cfg->type);
    } else {
        return false;
    }
    return true;
}

uint32_t ocf_config_parse(const clus_params *params, struct ocf_config *cfg, char *err,
                          size_t errlen)
{
    uint32_t status = CLUS_OK;

    memset(cfg, 0, sizeof(*cfg));
    cfg->check_level = OCF_DEFAULT_CHECK_LEVEL;
    cfg->reskeys = calloc(params->count + 1, sizeof(*cfg->reskeys));
    if (cfg->reskeys == NULL) {
        snprintf(err, errlen, "out of memory");
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    for (size_t i = 0; i < params->count && status == CLUS_OK; i++) {
        const char *k = params->items[i].key, *v = params->items[i].value;
        if (strncmp(k, RESKEY_PREFIX, strlen(RESKEY_PREFIX)) == 0)
            status = add_reskey(cfg, k + strlen(RESKEY_PREFIX), v, err, errlen);
        else if (!own_key(cfg, k, v, &status, err, errlen))
            status = add_reskey(cfg, k, v, err, errlen);
    }
    if (status == CLUS_OK && cfg->agent[0] == '\0') {
        snprintf(err, errlen, "parameter agent (provider:type, e.g. heartbeat:Dummy) is required");
        status = CLUS_E_INVALID_PARAMETER;
    }
    if (status == CLUS_OK && cfg->root[0] == '\0')
        snprintf(cfg->root, sizeof(cfg->root), "%s", ocf_default_root());
    return status;
}

void ocf_config_free(struct ocf_config *cfg)
{
    for (size_t i = 0; i < cfg->n_reskeys; i++) {
        free((char *)cfg->reskeys[i].key);
        free((char *)cfg->reskeys[i].value);
    }
    free(cfg->reskeys);
    cfg->reskeys = NULL;
    cfg->n_reskeys = 0;
}

const char *ocf_config_reskey(const struct ocf_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_reskeys; i++) {
        if (strcmp(cfg->reskeys[i].key, name) == 0)
            return cfg->reskeys[i].value;
    }
    return NULL;
}

/* The advertised timeout of an action, or the default. */
static uint32_t meta_timeout(const struct ocf_meta *meta, const char *action, int depth)
{
    const struct ocf_meta_action *a = ocf_meta_action(meta, action, depth);

    return a != NULL && a->timeout_ms >= OCF_TIMEOUT_MIN_MS ? a->timeout_ms
                                                            : OCF_DEFAULT_TIMEOUT_MS;
}

static void apply_timeouts(struct ocf_config *cfg, const struct ocf_meta *meta)
{
    const struct ocf_meta_action *monitor = ocf_meta_action(meta, "monitor", 0);
    uint32_t t[OCF_T_COUNT];

    t[OCF_T_START] = meta_timeout(meta, "start", -1);
    t[OCF_T_STOP] = meta_timeout(meta, "stop", -1);
    t[OCF_T_MONITOR] = meta_timeout(meta, "monitor", -1);
    /* validate-all at Open blocks the loop: never longer than the sync bound. */
    t[OCF_T_VALIDATE] = meta_timeout(meta, "validate-all", -1);
    if (t[OCF_T_VALIDATE] > OCF_SYNC_MAX_MS)
        t[OCF_T_VALIDATE] = OCF_SYNC_MAX_MS;
    t[OCF_T_TERMINATE] =
        t[OCF_T_STOP] < OCF_TERMINATE_STOP_MS ? t[OCF_T_STOP] : OCF_TERMINATE_STOP_MS;
    for (int i = 0; i < OCF_T_COUNT; i++) {
        if (!cfg->timeout_given[i])
            cfg->timeout_ms[i] = t[i];
    }
    /* The background monitor: the agent's advice if it is more frequent
     * than ours (a failure should be seen within seconds). */
    if (!cfg->interval_given)
        cfg->interval_ms = monitor != NULL && monitor->interval_ms >= OCF_TIMEOUT_MIN_MS &&
                                   monitor->interval_ms < OCF_DEFAULT_INTERVAL_MS
                               ? monitor->interval_ms
                               : OCF_DEFAULT_INTERVAL_MS;
}

uint32_t ocf_config_apply_meta(struct ocf_config *cfg, const struct ocf_meta *meta, char *err,
                               size_t errlen)
{
    for (size_t i = 0; i < cfg->n_reskeys; i++) {
        if (ocf_meta_param(meta, cfg->reskeys[i].key) == NULL) {
            snprintf(err, errlen,
                     "agent %s has no parameter '%s' (see: clusctl type-control ocf:%s meta-data)",
                     cfg->agent, cfg->reskeys[i].key, cfg->agent);
            return CLUS_E_INVALID_PARAMETER;
        }
    }
    for (size_t i = 0; i < meta->n_params; i++) {
        const struct ocf_meta_param *p = &meta->params[i];
        if (p->required && ocf_config_reskey(cfg, p->name) == NULL) {
            snprintf(err, errlen, "agent %s requires parameter '%s' (its meta-data says so)",
                     cfg->agent, p->name);
            return CLUS_E_INVALID_PARAMETER;
        }
    }
    apply_timeouts(cfg, meta);
    return CLUS_OK;
}

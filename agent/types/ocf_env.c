/*
 * ocf_env.c - the environment an OCF action runs in.
 *
 * The agent process's own environment is not passed on: an action sees
 * exactly what the OCF standard defines plus what ocf-shellfuncs needs to
 * run outside Pacemaker, so that it behaves the same whoever started the
 * agent. See docs/ocf.md for the list.
 */
#include "ocf_internal.h"

#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCF_ENV_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void ocf_env_init(struct ocf_env *env)
{
    memset(env, 0, sizeof(*env));
}

void ocf_env_free(struct ocf_env *env)
{
    for (size_t i = 0; i < env->count; i++)
        free(env->vars[i]);
    free(env->vars);
    ocf_env_init(env);
}

/* The slot of key, or count when absent. */
static size_t env_find(const struct ocf_env *env, const char *key)
{
    size_t n = strlen(key);

    for (size_t i = 0; i < env->count; i++) {
        if (strncmp(env->vars[i], key, n) == 0 && env->vars[i][n] == '=')
            return i;
    }
    return env->count;
}

static bool env_grow(struct ocf_env *env)
{
    size_t cap = env->cap ? env->cap * 2 : 32;
    char **grown;

    if (env->count + 1 < env->cap)
        return true;
    grown = realloc(env->vars, cap * sizeof(*grown));
    if (grown == NULL)
        return false;
    env->vars = grown;
    env->cap = cap;
    return true;
}

void ocf_env_set(struct ocf_env *env, const char *key, const char *value)
{
    size_t slot = env_find(env, key);
    size_t len = strlen(key) + strlen(value) + 2;
    char *var = malloc(len);

    if (var == NULL || (slot == env->count && !env_grow(env))) {
        free(var);
        env->failed = true;
        return;
    }
    snprintf(var, len, "%s=%s", key, value);
    if (slot < env->count) {
        free(env->vars[slot]);
        env->vars[slot] = var;
        return;
    }
    env->vars[env->count++] = var;
    env->vars[env->count] = NULL;
}

void ocf_env_set_u32(struct ocf_env *env, const char *key, uint32_t value)
{
    char text[16];

    snprintf(text, sizeof(text), "%u", value);
    ocf_env_set(env, key, text);
}

const char *ocf_env_get(const struct ocf_env *env, const char *key)
{
    size_t slot = env_find(env, key);

    return slot < env->count ? env->vars[slot] + strlen(key) + 1 : NULL;
}

uint32_t ocf_env_copy(struct ocf_env *dst, const struct ocf_env *src)
{
    ocf_env_init(dst);
    for (size_t i = 0; i < src->count && !dst->failed; i++) {
        char *copy = strdup(src->vars[i]);
        if (copy == NULL || !env_grow(dst)) {
            free(copy);
            dst->failed = true;
            break;
        }
        dst->vars[dst->count++] = copy;
        dst->vars[dst->count] = NULL;
    }
    if (dst->failed || src->failed) {
        ocf_env_free(dst);
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    return CLUS_OK;
}

uint32_t ocf_env_base(struct ocf_env *env, const struct ocf_identity *id,
                      const clus_params *reskeys)
{
    char buf[OCF_PATH_MAX + 32];

    ocf_env_init(env);
    ocf_env_set(env, "PATH", OCF_ENV_PATH);
    ocf_env_set(env, "HOME", "/");
    ocf_env_set(env, "OCF_ROOT", id->root);
    snprintf(buf, sizeof(buf), "%s/lib/heartbeat", id->root);
    ocf_env_set(env, "OCF_FUNCTIONS_DIR", buf);
    ocf_env_set(env, "OCF_RA_VERSION_MAJOR", "1");
    ocf_env_set(env, "OCF_RA_VERSION_MINOR", "0");
    if (id->instance != NULL) /* meta-data runs have none */
        ocf_env_set(env, "OCF_RESOURCE_INSTANCE", id->instance);
    ocf_env_set(env, "OCF_RESOURCE_TYPE", id->type);
    ocf_env_set(env, "OCF_RESOURCE_PROVIDER", id->provider);
    if (id->state_dir != NULL)
        ocf_env_set(env, "HA_RSCTMP", id->state_dir);
    /* ocf-shellfuncs: log to stderr (we capture it), no syslog, no debug. */
    ocf_env_set(env, "HA_LOGFACILITY", "none");
    ocf_env_set(env, "HA_debug", "0");
    for (size_t i = 0; reskeys != NULL && i < reskeys->count; i++) {
        snprintf(buf, sizeof(buf), "OCF_RESKEY_%s", reskeys->items[i].key);
        ocf_env_set(env, buf, reskeys->items[i].value);
    }
    if (env->failed) {
        ocf_env_free(env);
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    return CLUS_OK;
}

void ocf_env_action(struct ocf_env *env, uint32_t timeout_ms, uint32_t interval_ms, int check_level)
{
    ocf_env_set_u32(env, "OCF_RESKEY_CRM_meta_timeout", timeout_ms);
    ocf_env_set_u32(env, "OCF_RESKEY_CRM_meta_interval", interval_ms);
    if (check_level >= 0)
        ocf_env_set_u32(env, "OCF_CHECK_LEVEL", (uint32_t)check_level);
}

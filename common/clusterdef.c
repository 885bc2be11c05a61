/*
 * clusterdef.c - the cluster definition from YAML (libfyaml), validated as a
 * whole: the first error found is reported with its FILE:LINE and nothing
 * is returned.
 */
#include "clusterdef.h"

#include "names.h"
#include "params.h"
#include "status.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const clus_builtin_types[] = {"dummy", "process", "volume", "ocf", NULL};

/* Parse context: where errors go. Only the first error is kept. */
struct dctx {
    const char *name;
    char *err;
    size_t errlen;
    uint32_t status;
    clus_clusterdef *def;
};

/* ------------------------------------------------------------ helpers */

/* The 1-based line of a node: a scalar's token; a collection's first item. */
static int node_line(struct fy_node *node)
{
    struct fy_token *token;
    const struct fy_mark *m;
    void *iter = NULL;

    if (node == NULL)
        return 0;
    if (fy_node_is_mapping(node)) {
        struct fy_node_pair *pair = fy_node_mapping_iterate(node, &iter);
        return pair ? node_line(fy_node_pair_key(pair)) : 0;
    }
    if (fy_node_is_sequence(node))
        return node_line(fy_node_sequence_iterate(node, &iter));
    token = fy_node_get_scalar_token(node);
    m = token ? fy_token_start_mark(token) : NULL;
    return m != NULL ? m->line + 1 : 0;
}

static bool failf(struct dctx *c, struct fy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error as "NAME:LINE: message"; returns false so that
 * callers can `return failf(...)`. */
static bool failf(struct dctx *c, struct fy_node *at, const char *fmt, ...)
{
    char message[400];
    va_list ap;

    if (c->status != CLUS_OK)
        return false;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%d: %s", c->name, node_line(at), message);
    c->status = CLUS_E_INVALID_PARAMETER;
    return false;
}

/* Text libfyaml must not see (names.h: clus_yaml_text_valid), by line and
 * column (1-based) of its first bad byte. */
static void text_refused(struct dctx *c, const char *text, size_t bad_at)
{
    size_t line = 1, column = 1;

    for (size_t i = 0; i < bad_at; i++) {
        column = text[i] == '\n' ? 1 : column + 1;
        line += text[i] == '\n';
    }
    snprintf(c->err, c->errlen,
             "%s:%zu: column %zu: a tab, a control character or bytes that are not UTF-8 "
             "(indent with spaces)",
             c->name, line, column);
    c->status = CLUS_E_INVALID_PARAMETER;
}

static const char *scalar(struct fy_node *node)
{
    return node != NULL && fy_node_is_scalar(node) ? fy_node_get_scalar0(node) : NULL;
}

static const char *key_text(struct fy_node_pair *pair)
{
    const char *k = scalar(fy_node_pair_key(pair));

    return k ? k : "";
}

/* A number of milliseconds (or a count) in [min, max]. */
static bool get_u32(struct dctx *c, struct fy_node *key, struct fy_node *value, uint32_t min,
                    uint32_t max, uint32_t *out)
{
    const char *text = scalar(value), *what = scalar(key);

    if (text != NULL && clus_parse_u32(text, max, out) && *out >= min)
        return true;
    return failf(c, key, "%s must be a whole number in %u..%u, not '%.40s'", what ? what : "value",
                 min, max, text ? text : "(not a scalar)");
}

static bool get_bool(struct dctx *c, struct fy_node *key, struct fy_node *value, bool *out)
{
    const char *text = scalar(value);

    if (text != NULL && clus_parse_bool(text, out))
        return true;
    return failf(c, key, "%s must be true or false, not '%.40s'", scalar(key),
                 text ? text : "(not a scalar)");
}

static char *dup_or_fail(struct dctx *c, struct fy_node *at, const char *text)
{
    char *copy = strdup(text);

    if (copy == NULL && c->status == CLUS_OK) {
        failf(c, at, "out of memory");
        c->status = CLUS_E_NOT_ENOUGH_MEMORY;
    }
    return copy;
}

static bool need_mapping(struct dctx *c, struct fy_node *key, struct fy_node *value)
{
    if (value != NULL && fy_node_is_mapping(value))
        return true;
    return failf(c, key, "%s must be a mapping (key: value ...)", scalar(key));
}

static bool need_sequence(struct dctx *c, struct fy_node *key, struct fy_node *value)
{
    if (value != NULL && fy_node_is_sequence(value))
        return true;
    return failf(c, key, "%s must be a list", scalar(key));
}

/* ------------------------------------------------------------ policy */

void clus_policy_defaults(clus_policy *p, size_t n_nodes)
{
    *p = (clus_policy){
        .restart_action = CLUS_RESTART_NOTIFY,
        .restart_threshold = 3,
        .restart_period_ms = 900000,
        .restart_delay_ms = 500,
        .retry_period_on_failure_ms = 3600000,
        .failover_threshold = n_nodes > 1 ? (uint32_t)(n_nodes - 1) : 1,
        .failover_period_ms = 21600000,
        .pending_timeout_ms = 180000,
        .looks_alive_ms = 5000,
        .is_alive_ms = 60000,
        .failback = false,
        .failback_window_start = -1,
        .failback_window_end = -1,
    };
}

struct u32_key {
    const char *name;
    size_t offset;
    uint32_t min, max;
};

#define POL(field, min, max)                                                                       \
    {                                                                                              \
#field, offsetof(clus_policy, field), min, max                                             \
    }
static const struct u32_key policy_keys[] = {
    POL(restart_action, 0, 2),
    POL(restart_threshold, 0, CLUS_POLICY_MAX_THRESHOLD),
    POL(restart_period_ms, 1, UINT32_MAX - 1),
    POL(restart_delay_ms, 0, 86400000),
    POL(failover_threshold, 0, CLUS_POLICY_MAX_THRESHOLD),
    POL(failover_period_ms, 1, 1193u * 3600000u),
    POL(pending_timeout_ms, 10, UINT32_MAX - 1),
    POL(looks_alive_ms, 10, UINT32_MAX - 1),
    POL(is_alive_ms, 10, UINT32_MAX - 1),
};
#undef POL

static bool policy_hour(struct dctx *c, struct fy_node *key, struct fy_node *value, int *out)
{
    uint32_t hour;

    if (!get_u32(c, key, value, 0, 23, &hour))
        return false;
    *out = (int)hour;
    return true;
}

static bool policy_retry(struct dctx *c, struct fy_node *key, struct fy_node *value, clus_policy *p)
{
    const char *text = scalar(value);

    if (text != NULL && strcmp(text, "never") == 0) {
        p->retry_period_on_failure_ms = CLUS_POLICY_NEVER;
        return true;
    }
    return get_u32(c, key, value, 1, UINT32_MAX, &p->retry_period_on_failure_ms);
}

static bool policy_one(struct dctx *c, struct fy_node *key, struct fy_node *value, clus_policy *p)
{
    const char *k = scalar(key);

    for (size_t i = 0; i < sizeof(policy_keys) / sizeof(policy_keys[0]); i++) {
        if (strcmp(k, policy_keys[i].name) == 0)
            return get_u32(c, key, value, policy_keys[i].min, policy_keys[i].max,
                           (uint32_t *)((char *)p + policy_keys[i].offset));
    }
    if (strcmp(k, "retry_period_on_failure_ms") == 0)
        return policy_retry(c, key, value, p);
    if (strcmp(k, "failback") == 0)
        return get_bool(c, key, value, &p->failback);
    if (strcmp(k, "failback_window_start") == 0)
        return policy_hour(c, key, value, &p->failback_window_start);
    if (strcmp(k, "failback_window_end") == 0)
        return policy_hour(c, key, value, &p->failback_window_end);
    return failf(c, key,
                 "unknown policy key '%.64s' (restart_action, restart_threshold, "
                 "restart_period_ms, restart_delay_ms, retry_period_on_failure_ms, "
                 "failover_threshold, failover_period_ms, pending_timeout_ms, looks_alive_ms, "
                 "is_alive_ms, failback, failback_window_start, failback_window_end)",
                 k);
}

static bool policy_check(struct dctx *c, struct fy_node *at, const clus_policy *p)
{
    if ((p->failback_window_start < 0) != (p->failback_window_end < 0))
        return failf(c, at, "failback_window_start and failback_window_end go together");
    if (p->retry_period_on_failure_ms != CLUS_POLICY_NEVER &&
        p->retry_period_on_failure_ms < p->restart_period_ms)
        return failf(c, at,
                     "retry_period_on_failure_ms (%u) must be at least restart_period_ms (%u)",
                     p->retry_period_on_failure_ms, p->restart_period_ms);
    return true;
}

static bool parse_policy(struct dctx *c, struct fy_node *key, struct fy_node *value, clus_policy *p)
{
    struct fy_node_pair *pair;
    void *iter = NULL;

    if (!need_mapping(c, key, value))
        return false;
    while ((pair = fy_node_mapping_iterate(value, &iter)) != NULL) {
        if (scalar(fy_node_pair_key(pair)) == NULL)
            return failf(c, value, "policy keys must be plain words");
        if (!policy_one(c, fy_node_pair_key(pair), fy_node_pair_value(pair), p))
            return false;
    }
    return policy_check(c, key, p);
}

/* ------------------------------------------------------------ params */

static const char *const reserved_params[] = {"pending_timeout_ms", "looks_alive_ms", "is_alive_ms",
                                              NULL};

static bool param_check(struct dctx *c, struct fy_node *key, const char *k, const char *v)
{
    if (!clus_param_key_valid(k))
        return failf(c, key, "'%.64s' is not a valid parameter name", k);
    for (size_t i = 0; reserved_params[i] != NULL; i++) {
        if (strcmp(k, reserved_params[i]) == 0)
            return failf(c, key, "%s belongs in the resource's policy, not in params", k);
    }
    if (v == NULL)
        return failf(c, key, "parameter %s must have a scalar value", k);
    if (strlen(v) > CLUS_PARAM_VALUE_MAX)
        return failf(c, key, "parameter %s is longer than %d bytes", k, CLUS_PARAM_VALUE_MAX);
    return true;
}

/* A mapping of scalar parameters into a new array. */
static bool parse_params(struct dctx *c, struct fy_node *key, struct fy_node *value,
                         clus_param **out, size_t *n_out)
{
    struct fy_node_pair *pair;
    void *iter = NULL;
    size_t n;

    if (!need_mapping(c, key, value))
        return false;
    n = (size_t)fy_node_mapping_item_count(value);
    if (n > CLUS_DEF_MAX_PARAMS)
        return failf(c, key, "at most %d parameters", CLUS_DEF_MAX_PARAMS);
    if ((*out = calloc(n + 1, sizeof(**out))) == NULL)
        return failf(c, key, "out of memory");
    *n_out = 0;
    while ((pair = fy_node_mapping_iterate(value, &iter)) != NULL) {
        const char *k = key_text(pair), *v = scalar(fy_node_pair_value(pair));
        clus_param *p = &(*out)[*n_out];
        if (!param_check(c, fy_node_pair_key(pair), k, v))
            return false;
        p->key = dup_or_fail(c, fy_node_pair_key(pair), k);
        p->value = dup_or_fail(c, fy_node_pair_key(pair), v);
        (*n_out)++;
        if (p->key == NULL || p->value == NULL)
            return false;
    }
    return true;
}

static void free_params(clus_param *params, size_t n)
{
    for (size_t i = 0; params != NULL && i < n; i++) {
        free((char *)params[i].key);
        free((char *)params[i].value);
    }
    free(params);
}

/* ------------------------------------------------------------ nodes */

static bool url_ok(const char *url)
{
    static const char *const schemes[] = {"tcp://", "tls+tcp://", "ipc://", "inproc://", NULL};

    if (strlen(url) > CLUS_DEF_URL_MAX)
        return false;
    for (size_t i = 0; schemes[i] != NULL; i++) {
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0 && url[strlen(schemes[i])] != '\0')
            return true;
    }
    return false;
}

static bool node_field(struct dctx *c, struct fy_node_pair *pair, clus_def_node *n)
{
    const char *k = key_text(pair), *v = scalar(fy_node_pair_value(pair));
    struct fy_node *key = fy_node_pair_key(pair);

    if (strcmp(k, "name") == 0) {
        if (v == NULL || !clus_name_valid(v))
            return failf(c, key,
                         "node name '%.64s' is not valid (1-%d characters of A-Z a-z 0-9 _ . -, "
                         "starting with a letter or digit)",
                         v ? v : "", CLUS_NAME_MAX);
        return (n->name = dup_or_fail(c, key, v)) != NULL;
    }
    if (strcmp(k, "agent") == 0) {
        if (v == NULL || !url_ok(v))
            return failf(c, key,
                         "agent must be a URL like tcp://127.0.0.1:7711 (tcp, tls+tcp, ipc), "
                         "not '%.80s'",
                         v ? v : "");
        return (n->agent = dup_or_fail(c, key, v)) != NULL;
    }
    return failf(c, key, "unknown node key '%.64s' (name, agent)", k);
}

static bool parse_node(struct dctx *c, struct fy_node *item, size_t index)
{
    clus_def_node *n = &c->def->nodes[index];
    struct fy_node_pair *pair;
    void *iter = NULL;

    n->line = node_line(item);
    if (!fy_node_is_mapping(item))
        return failf(c, item, "each node is a mapping with name and agent");
    while ((pair = fy_node_mapping_iterate(item, &iter)) != NULL) {
        if (!node_field(c, pair, n))
            return false;
    }
    if (n->name == NULL || n->agent == NULL)
        return failf(c, item, "a node needs both name and agent");
    for (size_t i = 0; i < index; i++) {
        if (strcmp(c->def->nodes[i].name, n->name) == 0)
            return failf(c, item, "duplicate node name '%s' (first on line %d)", n->name,
                         c->def->nodes[i].line);
        if (strcmp(c->def->nodes[i].agent, n->agent) == 0)
            return failf(c, item, "nodes %s and %s have the same agent URL %s",
                         c->def->nodes[i].name, n->name, n->agent);
    }
    return true;
}

static bool parse_nodes(struct dctx *c, struct fy_node *key, struct fy_node *value)
{
    void *iter = NULL;
    struct fy_node *item;
    size_t n;

    if (!need_sequence(c, key, value))
        return false;
    n = (size_t)fy_node_sequence_item_count(value);
    if (n == 0 || n > CLUS_DEF_MAX_NODES)
        return failf(c, key, "a cluster has 1..%d nodes, not %zu", CLUS_DEF_MAX_NODES, n);
    if ((c->def->nodes = calloc(n, sizeof(clus_def_node))) == NULL)
        return failf(c, key, "out of memory");
    while ((item = fy_node_sequence_iterate(value, &iter)) != NULL) {
        if (!parse_node(c, item, c->def->n_nodes++))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ resources */

/* A list of node names into node indices: every name known, none twice. */
static bool parse_node_list(struct dctx *c, struct fy_node *key, struct fy_node *value,
                            size_t **out, size_t *n_out)
{
    void *iter = NULL;
    struct fy_node *item;
    size_t n;

    if (!need_sequence(c, key, value))
        return false;
    n = (size_t)fy_node_sequence_item_count(value);
    if ((*out = calloc(n + 1, sizeof(size_t))) == NULL)
        return failf(c, key, "out of memory");
    *n_out = 0;
    while ((item = fy_node_sequence_iterate(value, &iter)) != NULL) {
        const char *name = scalar(item);
        int idx = name ? clus_clusterdef_node(c->def, name) : -1;
        if (idx < 0)
            return failf(c, item, "%s names an unknown node '%.64s'", scalar(key),
                         name ? name : "(not a scalar)");
        for (size_t i = 0; i < *n_out; i++) {
            if ((*out)[i] == (size_t)idx)
                return failf(c, item, "%s lists node %s twice", scalar(key), name);
        }
        (*out)[(*n_out)++] = (size_t)idx;
    }
    if (*n_out == 0)
        return failf(c, key, "%s is empty: the resource could run nowhere", scalar(key));
    return true;
}

static bool parse_overrides(struct dctx *c, struct fy_node *key, struct fy_node *value,
                            clus_def_resource *r)
{
    struct fy_node_pair *pair;
    void *iter = NULL;
    size_t n;

    if (!need_mapping(c, key, value))
        return false;
    n = (size_t)fy_node_mapping_item_count(value);
    if ((r->overrides = calloc(n + 1, sizeof(*r->overrides))) == NULL)
        return failf(c, key, "out of memory");
    while ((pair = fy_node_mapping_iterate(value, &iter)) != NULL) {
        clus_def_override *o = &r->overrides[r->n_overrides];
        int node = clus_clusterdef_node(c->def, key_text(pair));
        if (node < 0)
            return failf(c, fy_node_pair_key(pair), "node_params names an unknown node '%.64s'",
                         key_text(pair));
        o->node = (size_t)node;
        r->n_overrides++;
        if (!parse_params(c, fy_node_pair_key(pair), fy_node_pair_value(pair), &o->params,
                          &o->n_params))
            return false;
    }
    return true;
}

static bool type_known(const clus_clusterdef *def, const char *type)
{
    for (size_t i = 0; clus_builtin_types[i] != NULL; i++) {
        if (strcmp(clus_builtin_types[i], type) == 0)
            return true;
    }
    for (size_t i = 0; i < def->n_plugin_types; i++) {
        if (strcmp(def->plugin_types[i], type) == 0)
            return true;
    }
    return false;
}

struct res_nodes {
    struct fy_node *possible_key, *possible, *preferred_key, *preferred, *node_params_key,
        *node_params, *policy_key, *policy;
};

static bool resource_field(struct dctx *c, struct fy_node_pair *pair, clus_def_resource *r,
                           struct res_nodes *later)
{
    const char *k = key_text(pair), *v = scalar(fy_node_pair_value(pair));
    struct fy_node *key = fy_node_pair_key(pair), *value = fy_node_pair_value(pair);

    if (strcmp(k, "name") == 0) {
        if (v == NULL || !clus_name_valid(v))
            return failf(c, key,
                         "resource name '%.64s' is not valid (1-%d characters of "
                         "A-Z a-z 0-9 _ . -, starting with a letter or digit)",
                         v ? v : "", CLUS_NAME_MAX);
        return (r->name = dup_or_fail(c, key, v)) != NULL;
    }
    if (strcmp(k, "type") == 0) {
        if (v == NULL || !clus_name_valid(v))
            return failf(c, key, "type must be a type name");
        if (!type_known(c->def, v))
            return failf(c, key,
                         "unknown resource type '%.64s' (built-in: dummy, process, volume, ocf; "
                         "declare plug-in types in plugin_types)",
                         v);
        return (r->type = dup_or_fail(c, key, v)) != NULL;
    }
    if (strcmp(k, "params") == 0)
        return parse_params(c, key, value, &r->params, &r->n_params);
    /* These depend on each other: read after the loop. */
    struct {
        const char *name;
        struct fy_node **key, **value;
    } deferred[] = {
        {"possible_owners", &later->possible_key, &later->possible},
        {"preferred_owners", &later->preferred_key, &later->preferred},
        {"node_params", &later->node_params_key, &later->node_params},
        {"policy", &later->policy_key, &later->policy},
    };
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(k, deferred[i].name) == 0) {
            *deferred[i].key = key;
            *deferred[i].value = value;
            return true;
        }
    }
    return failf(c, key,
                 "unknown resource key '%.64s' (name, type, params, possible_owners, "
                 "preferred_owners, policy, node_params)",
                 k);
}

static bool all_nodes(struct dctx *c, struct fy_node *at, clus_def_resource *r)
{
    if ((r->possible = calloc(c->def->n_nodes + 1, sizeof(size_t))) == NULL)
        return failf(c, at, "out of memory");
    for (size_t i = 0; i < c->def->n_nodes; i++)
        r->possible[r->n_possible++] = i;
    return true;
}

static bool owners_check(struct dctx *c, struct res_nodes *later, clus_def_resource *r)
{
    for (size_t i = 0; i < r->n_preferred; i++) {
        if (!clus_def_possible(r, r->preferred[i]))
            return failf(c, later->preferred_key,
                         "preferred owner %s is not among the possible owners of %s",
                         c->def->nodes[r->preferred[i]].name, r->name);
    }
    for (size_t i = 0; i < r->n_overrides; i++) {
        clus_param merged[CLUS_DEF_MAX_PARAMS * 2];
        if (!clus_def_possible(r, r->overrides[i].node))
            return failf(c, later->node_params_key,
                         "node_params for %s, which is not a possible owner of %s",
                         c->def->nodes[r->overrides[i].node].name, r->name);
        if (clus_def_params_for(r, r->overrides[i].node, merged, CLUS_DEF_MAX_PARAMS * 2) >
            CLUS_DEF_MAX_PARAMS)
            return failf(c, later->node_params_key,
                         "%s has more than %d parameters on %s with its node_params", r->name,
                         CLUS_DEF_MAX_PARAMS, c->def->nodes[r->overrides[i].node].name);
    }
    return true;
}

static bool resource_owners(struct dctx *c, struct fy_node *item, struct res_nodes *later,
                            clus_def_resource *r)
{
    bool ok;

    if (later->possible != NULL)
        ok = parse_node_list(c, later->possible_key, later->possible, &r->possible, &r->n_possible);
    else
        ok = all_nodes(c, item, r);
    if (ok && later->preferred != NULL)
        ok = parse_node_list(c, later->preferred_key, later->preferred, &r->preferred,
                             &r->n_preferred);
    if (ok && later->preferred == NULL) {
        r->preferred = calloc(r->n_possible + 1, sizeof(size_t));
        if (r->preferred == NULL)
            return failf(c, item, "out of memory");
        memcpy(r->preferred, r->possible, r->n_possible * sizeof(size_t));
        r->n_preferred = r->n_possible;
    }
    if (ok && later->node_params != NULL)
        ok = parse_overrides(c, later->node_params_key, later->node_params, r);
    return ok && owners_check(c, later, r);
}

static bool parse_resource(struct dctx *c, struct fy_node *item, size_t index)
{
    clus_def_resource *r = &c->def->resources[index];
    struct res_nodes later = {0};
    struct fy_node_pair *pair;
    void *iter = NULL;

    r->line = node_line(item);
    clus_policy_defaults(&r->policy, c->def->n_nodes);
    if (!fy_node_is_mapping(item))
        return failf(c, item, "each resource is a mapping with at least name and type");
    while ((pair = fy_node_mapping_iterate(item, &iter)) != NULL) {
        if (!resource_field(c, pair, r, &later))
            return false;
    }
    if (r->name == NULL || r->type == NULL)
        return failf(c, item, "a resource needs both name and type");
    for (size_t i = 0; i < index; i++) {
        if (strcmp(c->def->resources[i].name, r->name) == 0)
            return failf(c, item, "duplicate resource name '%s' (first on line %d)", r->name,
                         c->def->resources[i].line);
    }
    if (later.policy != NULL && !parse_policy(c, later.policy_key, later.policy, &r->policy))
        return false;
    return resource_owners(c, item, &later, r);
}

static bool parse_resources(struct dctx *c, struct fy_node *key, struct fy_node *value)
{
    void *iter = NULL;
    struct fy_node *item;
    size_t n;

    if (!need_sequence(c, key, value))
        return false;
    n = (size_t)fy_node_sequence_item_count(value);
    if (n > CLUS_DEF_MAX_RESOURCES)
        return failf(c, key, "at most %d resources", CLUS_DEF_MAX_RESOURCES);
    if ((c->def->resources = calloc(n + 1, sizeof(clus_def_resource))) == NULL)
        return failf(c, key, "out of memory");
    while ((item = fy_node_sequence_iterate(value, &iter)) != NULL) {
        if (!parse_resource(c, item, c->def->n_resources++))
            return false;
    }
    return true;
}

static bool parse_plugin_types(struct dctx *c, struct fy_node *key, struct fy_node *value)
{
    void *iter = NULL;
    struct fy_node *item;
    size_t n;

    if (!need_sequence(c, key, value))
        return false;
    n = (size_t)fy_node_sequence_item_count(value);
    if (n > CLUS_DEF_MAX_PLUGINS)
        return failf(c, key, "at most %d plugin_types", CLUS_DEF_MAX_PLUGINS);
    if ((c->def->plugin_types = calloc(n + 1, sizeof(char *))) == NULL)
        return failf(c, key, "out of memory");
    while ((item = fy_node_sequence_iterate(value, &iter)) != NULL) {
        const char *name = scalar(item);
        if (name == NULL || !clus_name_valid(name))
            return failf(c, item, "plugin_types holds type names");
        if ((c->def->plugin_types[c->def->n_plugin_types++] = dup_or_fail(c, item, name)) == NULL)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ top level */

struct top_nodes {
    struct fy_node *nodes_key, *nodes, *resources_key, *resources, *plugins_key, *plugins;
    struct fy_node *lease_key, *renew_key, *margin_key;
    bool margin_set;
};

static bool top_field(struct dctx *c, struct fy_node_pair *pair, struct top_nodes *t)
{
    const char *k = key_text(pair);
    struct fy_node *key = fy_node_pair_key(pair), *value = fy_node_pair_value(pair);
    clus_clusterdef *def = c->def;

    if (strcmp(k, "lease_ms") == 0)
        return (t->lease_key = key), get_u32(c, key, value, 100, 600000, &def->lease_ms);
    if (strcmp(k, "renew_ms") == 0)
        return (t->renew_key = key), get_u32(c, key, value, 10, 600000, &def->renew_ms);
    if (strcmp(k, "lease_margin_ms") == 0) {
        t->margin_key = key;
        t->margin_set = true;
        return get_u32(c, key, value, 1, 600000, &def->lease_margin_ms);
    }
    if (strcmp(k, "nodes") == 0)
        return (t->nodes_key = key), (t->nodes = value), true;
    if (strcmp(k, "resources") == 0)
        return (t->resources_key = key), (t->resources = value), true;
    if (strcmp(k, "plugin_types") == 0)
        return (t->plugins_key = key), (t->plugins = value), true;
    return failf(c, key,
                 "unknown key '%.64s' (lease_ms, renew_ms, lease_margin_ms, plugin_types, "
                 "nodes, resources)",
                 k);
}

static bool top_check(struct dctx *c, struct fy_node *root, struct top_nodes *t)
{
    clus_clusterdef *def = c->def;

    if (def->renew_ms >= def->lease_ms)
        return failf(c,
                     t->renew_key   ? t->renew_key
                     : t->lease_key ? t->lease_key
                                    : root,
                     "renew_ms (%u) must be shorter than lease_ms (%u)", def->renew_ms,
                     def->lease_ms);
    if (!t->margin_set)
        def->lease_margin_ms = def->renew_ms;
    if (t->nodes == NULL)
        return failf(c, root, "the definition has no nodes");
    return true;
}

static bool parse_top(struct dctx *c, struct fy_node *root)
{
    struct top_nodes t = {0};
    struct fy_node_pair *pair;
    void *iter = NULL;

    if (root == NULL || !fy_node_is_mapping(root))
        return failf(c, root, "the top level must be a mapping (lease_ms, nodes, resources)");
    while ((pair = fy_node_mapping_iterate(root, &iter)) != NULL) {
        if (!top_field(c, pair, &t))
            return false;
    }
    if (!top_check(c, root, &t))
        return false;
    if (!parse_nodes(c, t.nodes_key, t.nodes))
        return false;
    if (t.plugins != NULL && !parse_plugin_types(c, t.plugins_key, t.plugins))
        return false;
    return t.resources == NULL || parse_resources(c, t.resources_key, t.resources);
}

/* A YAML syntax error: libfyaml's collected diagnostic, with its line. */
static void syntax_error(struct dctx *c, struct fy_diag *diag)
{
    struct fy_diag_error *e;
    void *iter = NULL;

    c->status = CLUS_E_INVALID_PARAMETER;
    e = diag ? fy_diag_errors_iterate(diag, &iter) : NULL;
    if (e != NULL)
        snprintf(c->err, c->errlen, "%s:%d:%d: invalid YAML: %s", c->name, e->line, e->column,
                 e->msg ? e->msg : "syntax error");
    else
        snprintf(c->err, c->errlen, "%s:1: invalid YAML", c->name);
}

static struct fy_diag *quiet_diag(void)
{
    struct fy_diag_cfg cfg;
    struct fy_diag *diag;

    fy_diag_cfg_default(&cfg);
    cfg.fp = NULL;
    cfg.output_fn = NULL;
    diag = fy_diag_create(&cfg);
    if (diag != NULL)
        fy_diag_set_collect_errors(diag, true);
    return diag;
}

uint32_t clus_clusterdef_parse(const char *text, size_t len, const char *name,
                               clus_clusterdef **out, char *err, size_t errlen)
{
    struct dctx c = {name, err, errlen, CLUS_OK, calloc(1, sizeof(clus_clusterdef))};
    struct fy_diag *diag = quiet_diag();
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG, .diag = diag};
    struct fy_document *doc = NULL;
    size_t bad_at = 0;

    *out = NULL;
    if (c.def == NULL || diag == NULL) {
        free(c.def);
        if (diag)
            fy_diag_unref(diag);
        snprintf(err, errlen, "%s: out of memory", name);
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    c.def->lease_ms = 3000;
    c.def->renew_ms = 1000;
    if (len > CLUS_DEF_MAX_FILE)
        failf(&c, NULL, "the definition is larger than %u bytes", CLUS_DEF_MAX_FILE);
    else if (!clus_yaml_text_valid(text, len, &bad_at))
        text_refused(&c, text, bad_at);
    else if ((doc = fy_document_build_from_string(&cfg, text, len)) == NULL)
        syntax_error(&c, diag);
    else
        parse_top(&c, fy_document_root(doc));
    if (doc != NULL)
        fy_document_destroy(doc);
    fy_diag_unref(diag);
    if (c.status != CLUS_OK) {
        clus_clusterdef_free(c.def);
        return c.status;
    }
    *out = c.def;
    return CLUS_OK;
}

uint32_t clus_clusterdef_load(const char *path, clus_clusterdef **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    char *text;
    size_t got;
    uint32_t status;

    *out = NULL;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
        status = clus_status_from_errno(errno);
        if (f)
            fclose(f);
        return status ? status : CLUS_E_FILE_NOT_FOUND;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > CLUS_DEF_MAX_FILE) {
        fclose(f);
        snprintf(err, errlen, "%s:1: not a regular file of at most %u bytes", path,
                 CLUS_DEF_MAX_FILE);
        return CLUS_E_INVALID_PARAMETER;
    }
    if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
        fclose(f);
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    got = fread(text, 1, (size_t)st.st_size, f);
    fclose(f);
    text[got] = '\0';
    status = clus_clusterdef_parse(text, got, path, out, err, errlen);
    free(text);
    return status;
}

/* ------------------------------------------------------------ queries */

void clus_clusterdef_free(clus_clusterdef *def)
{
    if (def == NULL)
        return;
    for (size_t i = 0; i < def->n_nodes; i++) {
        free(def->nodes[i].name);
        free(def->nodes[i].agent);
    }
    free(def->nodes);
    for (size_t i = 0; i < def->n_resources; i++) {
        clus_def_resource *r = &def->resources[i];
        free(r->name);
        free(r->type);
        free_params(r->params, r->n_params);
        free(r->possible);
        free(r->preferred);
        for (size_t j = 0; j < r->n_overrides; j++)
            free_params(r->overrides[j].params, r->overrides[j].n_params);
        free(r->overrides);
    }
    free(def->resources);
    for (size_t i = 0; i < def->n_plugin_types; i++)
        free(def->plugin_types[i]);
    free(def->plugin_types);
    free(def);
}

int clus_clusterdef_node(const clus_clusterdef *def, const char *name)
{
    for (size_t i = 0; name != NULL && i < def->n_nodes; i++) {
        if (def->nodes[i].name != NULL && strcmp(def->nodes[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

int clus_clusterdef_resource(const clus_clusterdef *def, const char *name)
{
    for (size_t i = 0; name != NULL && i < def->n_resources; i++) {
        if (def->resources[i].name != NULL && strcmp(def->resources[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

bool clus_def_possible(const clus_def_resource *r, size_t node)
{
    for (size_t i = 0; i < r->n_possible; i++) {
        if (r->possible[i] == node)
            return true;
    }
    return false;
}

size_t clus_def_params_for(const clus_def_resource *r, size_t node, clus_param *out, size_t max)
{
    const clus_def_override *o = NULL;
    size_t n = 0;

    for (size_t i = 0; i < r->n_overrides; i++) {
        if (r->overrides[i].node == node)
            o = &r->overrides[i];
    }
    for (size_t i = 0; i < r->n_params && n < max; i++) {
        bool replaced = false;
        for (size_t j = 0; o != NULL && j < o->n_params; j++)
            replaced = replaced || strcmp(o->params[j].key, r->params[i].key) == 0;
        if (!replaced)
            out[n++] = r->params[i];
    }
    for (size_t j = 0; o != NULL && j < o->n_params && n < max; j++)
        out[n++] = o->params[j];
    return n;
}

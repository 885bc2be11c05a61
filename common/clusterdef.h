/*
 * clusterdef.h - the cluster definition: nodes, resources, placement lists,
 * per-resource failure policy. Loaded from YAML (libfyaml) and validated
 * completely before anyone uses it; every error names FILE:LINE.
 *
 * Used by clus-coordinator (the definition it runs) and by clusctl
 * (`config validate FILE`, no daemon needed). Lives in common/ because both
 * need it and client/ may not depend on coordinator/.
 *
 * A loaded definition is immutable plain data: read the fields, never write
 * them. Node and resource references are indices into nodes[] / resources[].
 *
 * Format (times in milliseconds; keys not listed are refused):
 *
 *   lease_ms: 3000            # agent lease TTL (100..600000)
 *   renew_ms: 1000            # renewal period (< lease_ms)
 *   lease_margin_ms: 1000     # extra wait past a lost lease before re-homing
 *   plugin_types: [mytype]    # type names beyond the built-ins (optional)
 *   nodes:
 *     - name: n1
 *       agent: tcp://127.0.0.1:7711
 *   resources:
 *     - name: web
 *       type: dummy
 *       params: { online_delay_ms: 0 }
 *       possible_owners: [n1, n2]       # default: every node
 *       preferred_owners: [n1, n2]      # ordered; a subset of possible_owners
 *       policy: { restart_threshold: 1, restart_delay_ms: 0 }
 *       node_params: { n2: { fail_online: true } }
 */
#ifndef CLUS_CLUSTERDEF_H
#define CLUS_CLUSTERDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <clus/restype.h>

#define CLUS_DEF_MAX_NODES        128
#define CLUS_DEF_MAX_RESOURCES    16384
#define CLUS_DEF_MAX_PLUGINS      32
#define CLUS_DEF_MAX_FILE         (4u << 20) /* a larger file is refused */
#define CLUS_POLICY_MAX_THRESHOLD 100        /* bounds the counter windows */
#define CLUS_POLICY_NEVER         UINT32_MAX /* retry_period_on_failure_ms: never */
#define CLUS_DEF_URL_MAX          256
/* Parameters per resource and node (the agent takes 64, three of which are
 * the policy's pending_timeout_ms, looks_alive_ms and is_alive_ms). */
#define CLUS_DEF_MAX_PARAMS 61

/* RestartAction values of the model. */
enum clus_restart_action {
    CLUS_RESTART_NONE = 0,      /* ClusterResourceDontRestart */
    CLUS_RESTART_NO_NOTIFY = 1, /* restart; past the threshold stay Failed */
    CLUS_RESTART_NOTIFY = 2,    /* restart; past the threshold fail over */
};

/* The failure policy of one resource (wsfc-model.md 3.3-3.5). */
typedef struct clus_policy {
    uint32_t restart_action;             /* enum clus_restart_action; default 2 */
    uint32_t restart_threshold;          /* default 3 */
    uint32_t restart_period_ms;          /* default 900000 */
    uint32_t restart_delay_ms;           /* default 500 */
    uint32_t retry_period_on_failure_ms; /* default 3600000; CLUS_POLICY_NEVER */
    uint32_t failover_threshold;         /* default: nodes - 1 */
    uint32_t failover_period_ms;         /* default 21600000 (6 h) */
    uint32_t pending_timeout_ms;         /* default 180000 */
    uint32_t looks_alive_ms;             /* default 5000 */
    uint32_t is_alive_ms;                /* default 60000 */
    bool failback;                       /* AutoFailbackType 1; default off */
    int failback_window_start;           /* hour 0..23 local time; -1 = no window */
    int failback_window_end;
} clus_policy;

typedef struct clus_def_node {
    char *name;
    char *agent; /* the agent's URL */
    int line;
} clus_def_node;

/* Parameters replaced or added on one node. */
typedef struct clus_def_override {
    size_t node;
    clus_param *params;
    size_t n_params;
} clus_def_override;

typedef struct clus_def_resource {
    char *name;
    char *type;
    int line;
    clus_param *params;
    size_t n_params;
    size_t *possible; /* node indices, definition order */
    size_t n_possible;
    size_t *preferred; /* node indices, in preference order */
    size_t n_preferred;
    clus_policy policy;
    clus_def_override *overrides;
    size_t n_overrides;
} clus_def_resource;

typedef struct clus_clusterdef {
    uint32_t lease_ms;        /* default 3000 */
    uint32_t renew_ms;        /* default 1000 */
    uint32_t lease_margin_ms; /* default: renew_ms */
    clus_def_node *nodes;
    size_t n_nodes;
    clus_def_resource *resources;
    size_t n_resources;
    char **plugin_types;
    size_t n_plugin_types;
} clus_clusterdef;

/* Reads and validates path. Returns 0 and *out (free with
 * clus_clusterdef_free), or 87 (2 when the file cannot be read) with
 * "FILE:LINE: what is wrong" in err. Nothing is returned on error. */
uint32_t clus_clusterdef_load(const char *path, clus_clusterdef **out, char *err, size_t errlen);

/* The same from a string; name is what errors call the source. */
uint32_t clus_clusterdef_parse(const char *text, size_t len, const char *name,
                               clus_clusterdef **out, char *err, size_t errlen);

void clus_clusterdef_free(clus_clusterdef *def);

/* Index of a node / resource by name, or -1. */
int clus_clusterdef_node(const clus_clusterdef *def, const char *name);
int clus_clusterdef_resource(const clus_clusterdef *def, const char *name);

/* Whether node may host r. */
bool clus_def_possible(const clus_def_resource *r, size_t node);

/* The parameters r is opened with on node: its params with the node's
 * overrides applied. Fills out (pointers into def) and returns the count
 * (at most max). */
size_t clus_def_params_for(const clus_def_resource *r, size_t node, clus_param *out, size_t max);

/* The model's defaults; failover_threshold is nodes - 1 (at least 1). */
void clus_policy_defaults(clus_policy *policy, size_t n_nodes);

/* Built-in resource type names the agents have (NULL-terminated). */
extern const char *const clus_builtin_types[];

#endif

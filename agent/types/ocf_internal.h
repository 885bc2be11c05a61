/*
 * ocf_internal.h - the pieces of the `ocf` resource type (agent/types/ocf*.c).
 *
 * Internal to the type: the rest of the agent reaches it only through
 * clus_ocf_type_startup() (builtin.h). The unit tests call these directly.
 *
 *   ocf_codes.c   OCF exit codes -> Win32 status codes (the one table)
 *   ocf_meta.c    meta-data XML -> struct ocf_meta (libxml2), durations
 *   ocf_path.c    agent names, OCF_ROOT, resolving and listing agents
 *   ocf_env.c     the environment of an action (OCF_ROOT, OCF_RESKEY_*, ...)
 *   ocf_config.c  a resource's parameters: ours, the agent's, timeouts
 *   ocf_output.c  bounded capture of an action's stdout/stderr, log lines
 *   ocf_run.c     an action as a libuv child process (never blocks the loop)
 *   ocf_sync.c    a short, bounded, blocking run (Open-time only: see docs/ocf.md)
 *   ocf_cache.c   meta-data, run once per agent file and cached
 *   ocf_control.c type controls (agents found, parsed meta-data)
 *   ocf.c         the type: entry points and the per-resource state
 *
 * Threads: everything runs on the agent's loop thread (or a test's thread).
 * Strings are NUL-terminated; err/errlen pairs receive a sentence for people.
 */
#ifndef CLUS_AGENT_OCF_INTERNAL_H
#define CLUS_AGENT_OCF_INTERNAL_H

#include <clus/restype.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct uv_loop_s;

#define OCF_DEFAULT_ROOT        "/usr/lib/ocf"
#define OCF_PART_MAX            64           /* a provider or an agent (type) name */
#define OCF_PATH_MAX            1024         /* OCF_ROOT and agent paths */
#define OCF_META_MAX            (256 * 1024) /* meta-data output bound */
#define OCF_CAPTURE_MAX         (64 * 1024)  /* per stream, per action */
#define OCF_DEFAULT_TIMEOUT_MS  20000u       /* an action the meta-data gives no timeout */
#define OCF_TIMEOUT_MIN_MS      100u
#define OCF_TIMEOUT_MAX_MS      86400000u
#define OCF_SYNC_MAX_MS         2000u  /* default bound of an Open-time (blocking) run */
#define OCF_SYNC_LIMIT_MS       10000u /* the most validate_timeout_ms may ask for */
#define OCF_TERMINATE_STOP_MS   5000u  /* Terminate's stop, unless terminate_timeout_ms */
#define OCF_DEFAULT_INTERVAL_MS 5000u  /* background monitor, unless monitor_interval_ms */
#define OCF_DEFAULT_CHECK_LEVEL 10     /* IsAlive's OCF_CHECK_LEVEL, unless check_level */
#define OCF_PROGRESS_MS         1000u  /* progress reports while start/stop run */

/* ------------------------------------------------------------ exit codes */

/* What a monitor's exit code says about the resource. */
enum ocf_health { OCF_HEALTH_RUNNING, OCF_HEALTH_NOT_RUNNING, OCF_HEALTH_FAILED };

struct ocf_code {
    int rc;                 /* the OCF exit code */
    const char *name;       /* "OCF_ERR_ARGS" */
    uint32_t status;        /* the Win32 code when this exit fails an entry point */
    enum ocf_health health; /* meaning as a monitor's answer */
    const char *meaning;    /* a short sentence */
};

/* The table entry of rc; for codes outside the OCF standard an entry named
 * "OCF_UNKNOWN" (status 31). Never NULL. */
const struct ocf_code *ocf_code_lookup(int rc);
/* The whole table (for docs and tests), count in *n. */
const struct ocf_code *ocf_code_table(size_t *n);

/* ------------------------------------------------------------ meta-data */

struct ocf_meta_param {
    char *name;
    char *type;          /* content type ("string", "integer", ...), may be NULL */
    char *default_value; /* NULL when none is advertised */
    bool required, unique;
};

struct ocf_meta_action {
    char *name;
    uint32_t timeout_ms;  /* 0: not advertised */
    uint32_t interval_ms; /* 0: not advertised */
    int depth;            /* OCF_CHECK_LEVEL of a monitor (0 when not given) */
};

struct ocf_meta {
    char *name;      /* <resource-agent name=...> */
    char *version;   /* may be NULL */
    char *shortdesc; /* may be NULL */
    struct ocf_meta_param *params;
    size_t n_params;
    struct ocf_meta_action *actions;
    size_t n_actions;
};

#define OCF_META_PARAMS_MAX  256
#define OCF_META_ACTIONS_MAX 64

/* Parses the meta-data document (len bytes, not necessarily NUL-terminated).
 * 0 and *out (free with ocf_meta_free), or 1306 (not an OCF resource-agent
 * document: bad XML, wrong root, a parameter without a name, too many
 * entries), 122 (larger than OCF_META_MAX), 8 with a reason in err. */
uint32_t ocf_meta_parse(const char *xml, size_t len, struct ocf_meta **out, char *err,
                        size_t errlen);
void ocf_meta_free(struct ocf_meta *meta);
const struct ocf_meta_param *ocf_meta_param(const struct ocf_meta *meta, const char *name);
/* The action of that name (and depth, or the shallowest with depth -1). */
const struct ocf_meta_action *ocf_meta_action(const struct ocf_meta *meta, const char *name,
                                              int depth);

/* Pacemaker's durations: "20", "20s", "20sec", "500ms", "2m", "2min", "1h",
 * "1hr" (a bare number is seconds). false on anything else or above 24 h. */
bool ocf_duration_ms(const char *text, uint32_t *out);

/* ------------------------------------------------------------ paths */

/* A provider or agent name: 1..OCF_PART_MAX of [A-Za-z0-9_.+-], not
 * starting with '.' or '-', no "..". */
bool ocf_part_valid(const char *part);

/* Splits "provider:type" (87 with a reason for anything else, e.g. a '/',
 * "..", a missing part). provider and type hold OCF_PART_MAX + 1 bytes. */
uint32_t ocf_agent_split(const char *agent, char *provider, char *type, char *err, size_t errlen);

/* An OCF_ROOT: absolute, no "." or ".." component, at most OCF_PATH_MAX - 64
 * bytes, an existing directory. 87/2/ with a reason. */
uint32_t ocf_root_check(const char *root, char *err, size_t errlen);

/* The agent's default OCF_ROOT: $OCF_ROOT of the agent process when that is
 * a valid root, else /usr/lib/ocf. */
const char *ocf_default_root(void);

/* $root/resource.d/$provider/$type into path (OCF_PATH_MAX bytes); it must
 * be a regular file (after symlinks) that is executable: 2 (no such agent),
 * 5 (not a regular executable file), with a reason. */
uint32_t ocf_agent_resolve(const char *root, const char *provider, const char *type, char *path,
                           char *err, size_t errlen);

/* Calls fn for each executable agent under $root/resource.d (readdir and
 * stat only, at most max agents). Returns how many were found. */
typedef void (*ocf_agent_fn)(void *arg, const char *provider, const char *type, const char *path);
size_t ocf_agents_each(const char *root, size_t max, ocf_agent_fn fn, void *arg);

/* ------------------------------------------------------------ environment */

/* A list of "KEY=value" strings, NULL-terminated in vars. */
struct ocf_env {
    char **vars;
    size_t count, cap;
    bool failed; /* an allocation failed: the list is incomplete */
};

void ocf_env_init(struct ocf_env *env);
void ocf_env_free(struct ocf_env *env);
/* Sets (or replaces) key. */
void ocf_env_set(struct ocf_env *env, const char *key, const char *value);
void ocf_env_set_u32(struct ocf_env *env, const char *key, uint32_t value);
const char *ocf_env_get(const struct ocf_env *env, const char *key);
/* dst becomes a copy of src (dst initialized by the call). 0 or 8. */
uint32_t ocf_env_copy(struct ocf_env *dst, const struct ocf_env *src);

/* Who the action is for. */
struct ocf_identity {
    const char *root, *provider, *type;
    const char *instance;  /* the resource name (OCF_RESOURCE_INSTANCE); NULL for meta-data */
    const char *state_dir; /* HA_RSCTMP; NULL for meta-data runs */
};

/* The environment every action of a resource shares: PATH, OCF_ROOT,
 * OCF_FUNCTIONS_DIR, OCF_RA_VERSION_*, OCF_RESOURCE_*, HA_RSCTMP,
 * HA_LOGFACILITY=none, HA_debug=0 and OCF_RESKEY_<key> for each reskey.
 * 0 or 8 (the list is freed then). */
uint32_t ocf_env_base(struct ocf_env *env, const struct ocf_identity *id,
                      const clus_params *reskeys);

/* Adds what one action needs: OCF_RESKEY_CRM_meta_timeout (ms),
 * OCF_RESKEY_CRM_meta_interval (ms, 0 = a one-shot or a probe) and, for a
 * monitor (check_level >= 0), OCF_CHECK_LEVEL. */
void ocf_env_action(struct ocf_env *env, uint32_t timeout_ms, uint32_t interval_ms,
                    int check_level);

/* ------------------------------------------------------------ configuration */

enum ocf_timeout {
    OCF_T_START,
    OCF_T_STOP,
    OCF_T_MONITOR,
    OCF_T_VALIDATE,
    OCF_T_TERMINATE,
    OCF_T_COUNT
};

/* A resource's parameters, checked. Owns its strings. */
struct ocf_config {
    char agent[2 * OCF_PART_MAX + 2]; /* "provider:type" */
    char provider[OCF_PART_MAX + 1], type[OCF_PART_MAX + 1];
    char root[OCF_PATH_MAX];
    char path[OCF_PATH_MAX];
    uint32_t timeout_ms[OCF_T_COUNT];
    bool timeout_given[OCF_T_COUNT];
    uint32_t interval_ms;
    bool interval_given;
    int check_level;
    clus_param *reskeys; /* the agent's parameters, without OCF_RESKEY_ */
    size_t n_reskeys;
};

/* Reads params: our keys (agent, ocf_root, check_level, monitor_interval_ms,
 * {start,stop,monitor,validate,terminate}_timeout_ms) and the agent's own
 * (any other key, or OCF_RESKEY_<name> to pass a name that is one of ours).
 * Syntax only: the agent is not looked at. 87 or 8 with a reason; free
 * with ocf_config_free either way. */
uint32_t ocf_config_parse(const clus_params *params, struct ocf_config *cfg, char *err,
                          size_t errlen);
void ocf_config_free(struct ocf_config *cfg);
const char *ocf_config_reskey(const struct ocf_config *cfg, const char *name);

/* Checks the agent's parameters against its meta-data (unknown names,
 * required ones missing: 87 with a reason) and fills the timeouts and the
 * monitor interval the parameters did not give. */
uint32_t ocf_config_apply_meta(struct ocf_config *cfg, const struct ocf_meta *meta, char *err,
                               size_t errlen);

/* ------------------------------------------------------------ output */

/* The first `limit` bytes of a stream; the rest is counted, not kept. */
struct ocf_capture {
    char *buf;
    size_t len, limit;
    uint64_t dropped;
};

void ocf_capture_init(struct ocf_capture *cap, size_t limit);
void ocf_capture_add(struct ocf_capture *cap, const char *data, size_t n);
void ocf_capture_free(struct ocf_capture *cap);

#define OCF_LOG_LINE_MAX  400 /* bytes of one logged line */
#define OCF_LOG_LINES_MAX 256 /* lines logged per stream */

/* Calls fn for each line (without '\n', at most OCF_LOG_LINE_MAX bytes,
 * NUL-terminated; control bytes shown as '?'), at most OCF_LOG_LINES_MAX.
 * Returns the number of lines not given (beyond the bound). */
typedef void (*ocf_line_fn)(void *arg, const char *line);
size_t ocf_capture_lines(const struct ocf_capture *cap, ocf_line_fn fn, void *arg);

/* The last "ocf-exit-reason:" line of stderr, into out ("" when none). */
void ocf_exit_reason(const struct ocf_capture *err, char *out, size_t len);

/* ------------------------------------------------------------ results */

/* How an action ended. */
struct ocf_result {
    int rc;                /* exit code; -1 when it did not exit normally */
    int signal;            /* the signal that ended it, 0 if none */
    bool timed_out;        /* killed by us at its timeout */
    bool overflow;         /* output over the bound (sync runs that stop there) */
    uint32_t spawn_status; /* not started: why (Win32) */
    uint64_t elapsed_ms;
    pid_t pid;
    const struct ocf_capture *out, *err;
};

/* The Win32 status of a finished action: 0 when rc is 0, else the table's,
 * 1460 after a timeout, 995 after a signal, spawn_status if not started. */
uint32_t ocf_result_status(const struct ocf_result *r);
/* "exit 7 (OCF_NOT_RUNNING: not running)", "timed out after 20000 ms", ... */
void ocf_result_describe(const struct ocf_result *r, uint32_t timeout_ms, char *out, size_t len);

/* ------------------------------------------------------------ async run */

struct ocf_child;
typedef void (*ocf_child_done_fn)(void *arg, const struct ocf_result *result);

struct ocf_spawn {
    struct uv_loop_s *loop;
    const char *path;   /* the agent */
    const char *action; /* its only argument */
    char *const *env;   /* NULL-terminated; copied by libuv at spawn */
    uint32_t timeout_ms;
    const char *label; /* "<resource> <action>", for logs after a detach */
    ocf_child_done_fn done;
    void *arg;
};

/* Starts the action in a session (process group) of its own; its handles do
 * not keep the loop alive. done runs once, on the loop, when it has exited
 * (the result's captures are valid during the call only); the child frees
 * itself afterwards. On a timeout the whole group is killed (SIGKILL).
 * Returns 0 and *out, or why it could not start (then nothing runs and done
 * is never called). */
uint32_t ocf_child_start(const struct ocf_spawn *spawn, struct ocf_child **out);
/* Kills the child's process group now; done is never called. */
void ocf_child_abandon(struct ocf_child *child);
/* Lets it run to its end (or its timeout); done is never called, the
 * outcome goes to the agent's log under its label. */
void ocf_child_detach(struct ocf_child *child);
pid_t ocf_child_pid(const struct ocf_child *child);
/* Children started and not yet freed (for tests). */
size_t ocf_children_live(void);

/* ------------------------------------------------------------ sync run */

/* Runs the action and waits for it, blocking the calling thread, at most
 * timeout_ms (then the group is killed). Output beyond out_limit bytes on
 * stdout kills it too when stop_on_overflow. The result's captures belong to
 * result (free with ocf_sync_free). Returns 0 when it ran (whatever its exit
 * code), else why it could not start. */
struct ocf_sync {
    struct ocf_result result;
    struct ocf_capture out, err;
};
uint32_t ocf_run_sync(const char *path, const char *action, char *const *env, uint32_t timeout_ms,
                      size_t out_limit, bool stop_on_overflow, struct ocf_sync *sync);
void ocf_sync_free(struct ocf_sync *sync);

/* ------------------------------------------------------------ meta-data cache */

/* The parsed meta-data of the agent at path (provider:type under root), run
 * once per agent file (and again when the file changes) with a bounded,
 * blocking run. The pointers stay valid until the next call. 0, or the
 * error with a reason (not cached: the next call tries again). */
uint32_t ocf_meta_get(const char *root, const char *provider, const char *type, const char *path,
                      const struct ocf_meta **meta, const char **xml, size_t *xml_len, char *err,
                      size_t errlen);
/* Forgets every entry (tests). */
void ocf_meta_cache_clear(void);

/* ------------------------------------------------------------ type controls */

uint32_t ocf_type_control(const char *type_name, clus_control *ctl);

#endif

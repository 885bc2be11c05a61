/*
 * clus/restype.h - the resource-type ABI (the "resource DLL" of clus).
 *
 * A resource type is a table of entry points, modelled on the Windows
 * CLRES_FUNCTION_TABLE. The agent (the Resource Monitor) finds a type by
 * calling its startup function, which returns a versioned ops table:
 *
 *   uint32_t clus_startup(const char *type_name, uint32_t min_version,
 *                         uint32_t max_version,
 *                         const clus_monitor_callbacks *callbacks,
 *                         const clus_restype_ops **ops);
 *
 * Built-in types and .so plug-ins (dlopen'ed from --plugin-dir; the symbol is
 * CLUS_STARTUP_SYMBOL) go through the same function.
 *
 * Threads. A type whose table has CLUS_RESTYPE_F_LOOP is called on the agent's
 * event-loop thread and must never block; it may use callbacks->loop (a
 * uv_loop_t) for timers and child processes. Any other type is called on a
 * worker thread and may block: Online/Offline that take longer than the
 * agent's call bound are reported as pending (997) to the caller while the
 * worker runs on. Either way, entry points of one resource are serialized,
 * except Terminate, which may run while an Online, Offline, LooksAlive,
 * IsAlive or control call of the same resource is still running.
 *
 * Status. Every uint32_t result is a Win32 system error code (0 success,
 * 997 ERROR_IO_PENDING, ...). Every string is UTF-8 and NUL-terminated.
 */
#ifndef CLUS_RESTYPE_H
#define CLUS_RESTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ops-table versions (CLRES_VERSION_*). */
#define CLUS_RESTYPE_VERSION_1 0x100u

#define CLUS_STARTUP_SYMBOL "clus_startup"

/* CLUSTER_RESOURCE_STATE values. */
#define CLUS_STATE_UNKNOWN         (-1)
#define CLUS_STATE_INITIALIZING    1
#define CLUS_STATE_ONLINE          2
#define CLUS_STATE_OFFLINE         3
#define CLUS_STATE_FAILED          4
#define CLUS_STATE_ONLINE_PENDING  129
#define CLUS_STATE_OFFLINE_PENDING 130

/* OnlineV2 flags (CLUS_RESDLL_ONLINE_*). */
#define CLUS_ONLINE_RECOVER_MONITOR_STATE        0x01u
#define CLUS_ONLINE_IGNORE_RESOURCE_STATUS       0x02u
#define CLUS_ONLINE_RETURN_TO_SOURCE_NODE_ON_ERR 0x04u
#define CLUS_ONLINE_RESTORE_ONLINE_STATE         0x08u
#define CLUS_ONLINE_IGNORE_NETWORK_CONNECTIVITY  0x10u
#define CLUS_ONLINE_VALID_FLAGS                  0x1Fu

/* OfflineV2 flags (CLUS_RESDLL_OFFLINE_*). */
#define CLUS_OFFLINE_IGNORE_RESOURCE_STATUS          0x01u
#define CLUS_OFFLINE_RETURN_TO_SOURCE_NODE_ON_ERROR  0x02u
#define CLUS_OFFLINE_QUEUE_ENABLED                   0x04u
#define CLUS_OFFLINE_RETURNING_TO_SOURCE_NODE_ON_ERR 0x08u
#define CLUS_OFFLINE_DUE_TO_EMBEDDED_FAILURE         0x10u
#define CLUS_OFFLINE_IGNORE_NETWORK_CONNECTIVITY     0x20u
#define CLUS_OFFLINE_DO_NOT_UPDATE_PERSISTENT_STATE  0x40u
#define CLUS_OFFLINE_VALID_FLAGS                     0x7Fu

/* OpenV2 flags (CLUS_RESDLL_OPEN_*). */
#define CLUS_OPEN_RECOVER_MONITOR_STATE 0x1u
#define CLUS_OPEN_DONT_DELETE_TEMP_DISK 0x2u
#define CLUS_OPEN_VALID_FLAGS           0x3u

/* RESOURCE_EXIT_STATE: what set_status tells the type. */
#define CLUS_EXIT_CONTINUE  0u /* keep working */
#define CLUS_EXIT_TERMINATE 1u /* the operation was terminated: stop now */

/* LOG_LEVEL. */
#define CLUS_LOG_INFORMATION 0
#define CLUS_LOG_WARNING     1
#define CLUS_LOG_ERROR       2
#define CLUS_LOG_SEVERE      3

/* FAILURE_TYPE for signal_failure. */
#define CLUS_FAILURE_GENERAL      0u
#define CLUS_FAILURE_EMBEDDED     1u
#define CLUS_FAILURE_NETWORK_LOSS 2u

/* Control codes the agent itself understands (CLUSCTL_RESOURCE_*). */
#define CLUSCTL_RESOURCE_UNKNOWN                     0x01000000u
#define CLUSCTL_RESOURCE_GET_CHARACTERISTICS         0x01000005u
#define CLUSCTL_RESOURCE_GET_FLAGS                   0x01000009u
#define CLUSCTL_RESOURCE_GET_CLASS_INFO              0x0100000Du
#define CLUSCTL_RESOURCE_GET_NAME                    0x01000029u
#define CLUSCTL_RESOURCE_GET_RESOURCE_TYPE           0x0100002Du
#define CLUSCTL_RESOURCE_ENUM_COMMON_PROPERTIES      0x01000051u
#define CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES    0x01000055u
#define CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES       0x01000059u
#define CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES       0x0140005Eu
#define CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES  0x01000061u
#define CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES     0x01000079u
#define CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES   0x0100007Du
#define CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES      0x01000081u
#define CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES      0x01400086u
#define CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES 0x01000089u
#define CLUSCTL_RESOURCE_STATE_CHANGE_REASON         0x0150004Eu
#define CLUSCTL_RESOURCE_STORAGE_GET_DISK_INFO       0x01000191u
#define CLUSCTL_RESOURCE_TYPE_UNKNOWN                0x02000000u
#define CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS    0x02000005u
#define CLUSCTL_RESOURCE_TYPE_GET_ARB_TIMEOUT        0x02000015u
#define CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_PROPERTIES 0x02000081u
#define CLUSCTL_RESOURCE_TYPE_SET_PRIVATE_PROPERTIES 0x02400086u
#define CLUSCTL_RESOURCE_TYPE_VALIDATE_PRIVATE_PROPS 0x02000089u
/* clus's own codes (user bit 0x200000). */
#define CLUSCTL_RESOURCE_TYPE_GET_METADATA 0x02200005u /* OCF meta-data, parsed */
#define CLUSCTL_RESOURCE_TYPE_GET_INFO     0x02200009u /* facts for the types list */
#define CLUSCTL_RESOURCE_VOLUME_READ       0x01200005u /* props path, offset, length */
#define CLUSCTL_RESOURCE_VOLUME_WRITE      0x0160000Au /* props path, offset; in_buffer */
#define CLUSCTL_RESOURCE_VOLUME_GET_INFO   0x0120000Du /* device, loop, mount, ro, mark, holder */
#define CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE 0x01200011u /* property offline=true|false */

/* The agent's handle of one resource (RESOURCE_HANDLE). Opaque; valid from
 * open until close returns. Pass it back to the callbacks, nothing else. */
typedef struct clus_resource clus_resource;

/* A type's own instance (RESID): whatever open returned in *resid. */
typedef void *clus_resid;

typedef struct clus_param {
    const char *key;
    const char *value;
} clus_param;

/* A read-only list of parameters, valid for the duration of the call. */
typedef struct clus_params {
    const clus_param *items;
    size_t count;
} clus_params;

/* Looks up key in params; NULL when absent. */
static inline const char *clus_params_get(const clus_params *params, const char *key)
{
    for (size_t i = 0; params != NULL && i < params->count; i++) {
        const char *k = params->items[i].key;
        const char *a = key;
        while (*k != '\0' && *k == *a) {
            k++;
            a++;
        }
        if (*k == '\0' && *a == '\0')
            return params->items[i].value;
    }
    return NULL;
}

/* What the agent gives the type. Every callback is safe from any thread. */
typedef struct clus_monitor_callbacks {
    uint32_t size; /* sizeof(clus_monitor_callbacks) of the agent */

    /* Writes to the agent's log, prefixed "<type> <resource>:". */
    void (*log_event)(clus_resource *handle, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Reports progress or the end of a pending Online/Offline (after the entry
     * point returned 997, or while it is still running on a worker): state is
     * OnlinePending/OfflinePending with a rising checkpoint, or the final
     * Online, Offline or Failed (status: why it failed). Returns
     * CLUS_EXIT_TERMINATE when the operation was terminated: stop working. */
    uint32_t (*set_status)(clus_resource *handle, int state, uint32_t checkpoint, uint32_t status);

    /* The EventHandle: reports that an Online resource failed. The agent
     * checks with IsAlive at once; false means Failed and Terminate. */
    uint32_t (*signal_failure)(clus_resource *handle, uint32_t failure_type, uint32_t app_code);

    /* Declares locked mode: Online/Offline are refused (5960) unless the
     * caller passes IGNORE_RESOURCE_STATUS. */
    void (*set_locked_mode)(clus_resource *handle, bool locked, uint32_t reason);

    /* The agent's uv_loop_t, for CLUS_RESTYPE_F_LOOP types only (loop thread). */
    struct uv_loop_s *loop;

    /* Gives the sentence that goes with the status the running entry point
     * is about to return ("claimed by pid 4711"); the caller sees it in the
     * reply's message. Call it from inside the entry point, on its thread;
     * elsewhere it does nothing. */
    void (*set_reason)(clus_resource *handle, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
} clus_monitor_callbacks;

/* Open's arguments. Every pointer is valid only during the call. */
typedef struct clus_open_args {
    const char *name;          /* resource name */
    const char *type;          /* the type name it was opened as */
    const clus_params *params; /* type parameters (common ones removed) */
    const char *state_dir;     /* a directory of this resource's own, kept across
                                * agent restarts (pid files, offline marks) */
    uint32_t open_flags;       /* CLUS_OPEN_* */
    clus_resource *handle;     /* for the callbacks */
} clus_open_args;

/* Online/Offline arguments. */
typedef struct clus_online_args {
    uint32_t flags; /* CLUS_ONLINE_*; 0 for Online (V1) */
    const void *in_buffer;
    size_t in_size;
    bool event_handle; /* out: true if the type will call signal_failure
                        * (switches LooksAlive polling off) */
} clus_online_args;

typedef struct clus_offline_args {
    uint32_t flags;               /* CLUS_OFFLINE_* */
    const char *destination_node; /* NULL if none */
    const void *in_buffer;
    size_t in_size;
} clus_offline_args;

/* A control call. The type writes raw output into out (at most out_size
 * bytes, setting *bytes_returned; 234 with the size needed when too small) or
 * properties with add_property. */
typedef struct clus_control {
    uint32_t code;
    const void *in_buffer;
    size_t in_size;
    const clus_params *properties; /* SET/VALIDATE property list */
    const char *user;              /* *AsUser calls: the user acted for; else NULL */
    void *out;
    size_t out_size;
    size_t *bytes_returned;
    void (*add_property)(struct clus_control *ctl, const char *key, const char *value);
    void *sink; /* the agent's, for add_property */
} clus_control;

/* Called when a defended arbitration claim is lost (QuorumResourceLost). */
typedef void (*clus_quorum_lost_fn)(clus_resource *handle);

#define CLUS_RESTYPE_F_LOOP 0x1u /* entry points run on the loop thread */

typedef struct clus_restype_ops {
    uint32_t size;    /* sizeof(clus_restype_ops) the type was built with */
    uint32_t version; /* CLUS_RESTYPE_VERSION_1 */
    uint32_t flags;   /* CLUS_RESTYPE_F_* */

    /* Required. Creates an instance, left Offline (never starts anything).
     * 0 and *resid set, or an error (87 for bad parameters, with a log). */
    uint32_t (*open)(const clus_open_args *args, clus_resid *resid);
    /* Required. Frees the instance; the agent has terminated it if needed. */
    void (*close)(clus_resid resid);
    /* Required. 0 (Online), 997 (pending: report with set_status), or error. */
    uint32_t (*online)(clus_resid resid, clus_online_args *args);
    /* Required. 0 (Offline), 997 (pending), or error (the agent terminates). */
    uint32_t (*offline)(clus_resid resid, const clus_offline_args *args);
    /* Required. Stops everything at once; must not fail; should take < 300 ms.
     * After it returns, no set_status for the terminated operation. */
    void (*terminate)(clus_resid resid);
    /* Required. Cheap check: false means "maybe failed". */
    bool (*looks_alive)(clus_resid resid);
    /* Required. Thorough check: false means failed. */
    bool (*is_alive)(clus_resid resid);
    /* Optional (NULL: 1 ERROR_INVALID_FUNCTION). Take and defend an exclusive
     * claim: 0 won, 5006 held elsewhere. */
    uint32_t (*arbitrate)(clus_resid resid, clus_quorum_lost_fn lost);
    /* Optional. Give the claim up. */
    uint32_t (*release)(clus_resid resid);
    /* Optional (NULL or 1: the agent's default processing). */
    uint32_t (*resource_control)(clus_resid resid, clus_control *ctl);
    /* Optional. Type-wide control (no instance). */
    uint32_t (*type_control)(const char *type_name, clus_control *ctl);
    /* Optional. Cancel the running operation (CancelFlags reserved, 0). */
    uint32_t (*cancel)(clus_resid resid, uint32_t flags);

    /* Entries after this point are read only when size covers them: a type
     * built before they existed still loads. */

    /* Optional. Called just before close when the resource is closed for
     * good (the Close entry point), not when the agent stops and leaves its
     * resources as they are: let go of what would outlive the resource with
     * nobody left to clean it up (the volume type detaches the loop device of
     * an offline volume). Must not fail. */
    void (*retire)(clus_resid resid);
} clus_restype_ops;

/* The size of the first table (up to cancel): the smallest the agent takes. */
#define CLUS_RESTYPE_OPS_SIZE_1 offsetof(clus_restype_ops, retire)
/* Whether ops, of the size it says, has the entry named field set. */
#define CLUS_RESTYPE_HAS(ops, field)                                                               \
    ((ops)->size >= offsetof(clus_restype_ops, field) + sizeof((ops)->field) &&                    \
     (ops)->field != NULL)

typedef uint32_t (*clus_startup_fn)(const char *type_name, uint32_t min_version,
                                    uint32_t max_version, const clus_monitor_callbacks *callbacks,
                                    const clus_restype_ops **ops);

#ifdef __cplusplus
}
#endif

#endif

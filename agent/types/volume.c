/*
 * volume.c - the built-in `volume` resource type: libclus-volume behind the
 * resource-type ABI (include/clus/restype.h).
 *
 * Not a loop-native type: every entry point runs on an agent worker thread
 * and may block (mkfs, mount, umount). Entry points of one resource are
 * serialized by the agent except Terminate; the library's own lock plus its
 * "terminating" flag make Terminate safe against a running Online.
 *
 * Parameters: backend, image, device, mountpoint, fstype, mount_options, mkfs
 * (see volume/volume.h). SET_PRIVATE_PROPERTIES stores new values; they take
 * effect at the next Online (5024).
 *
 * Failure detection: Online returns an event handle (LooksAlive polling
 * stops) and a watcher thread runs the cheap check every second, calling
 * signal_failure when the device disappears or the mount goes away; the
 * agent then calls IsAlive, which mounts a lost mount again or fails.
 */
#include "clock.h"
#include "clus/restype.h"
#include "status.h"
#include "volume.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VOLUME_TYPE_NAME  "volume"
#define WATCH_INTERVAL_MS 1000
#define MSG_SIZE          1024

uint32_t clus_volume_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                                  const clus_monitor_callbacks *callbacks,
                                  const clus_restype_ops **ops);

enum param_id {
    P_BACKEND,
    P_IMAGE,
    P_DEVICE,
    P_MOUNTPOINT,
    P_FSTYPE,
    P_MOUNT_OPTIONS,
    P_MKFS,
    P_COUNT
};

static const char *const param_names[P_COUNT] = {
    "backend", "image", "device", "mountpoint", "fstype", "mount_options", "mkfs",
};

/* Parameter values; NULL = unset. Owned. */
typedef struct param_set {
    char *v[P_COUNT];
} param_set;

typedef struct volume_res {
    clus_resource *handle;
    char *state_dir;
    param_set params; /* the values the open volume was built from */
    param_set stored; /* SET while online: applied at the next Online */
    bool has_stored;

    /* vol is replaced only by Online (applying stored values) and read by
     * Terminate under vol_lock, so Terminate never sees a freed volume. */
    pthread_mutex_t vol_lock;
    clus_volume *vol;

    pthread_mutex_t watch_lock;
    pthread_cond_t watch_cond;
    pthread_t watcher;
    bool watching;
    bool watch_stop;

    clus_quorum_lost_fn lost;
    bool last_looks_alive;
} volume_res;

static const clus_monitor_callbacks *monitor;

#define LOG(r, level, ...) monitor->log_event((r)->handle, (level), __VA_ARGS__)
/* A failure: logged, and its sentence goes back to the caller. */
#define LOG_REASON(r, level, ...)                                                                  \
    do {                                                                                           \
        LOG(r, level, __VA_ARGS__);                                                                \
        monitor->set_reason((r)->handle, __VA_ARGS__);                                             \
    } while (0)

/* ---- parameters ---- */

static void params_free(param_set *p)
{
    for (int i = 0; i < P_COUNT; i++) {
        free(p->v[i]);
        p->v[i] = NULL;
    }
}

static int param_index(const char *key)
{
    for (int i = 0; i < P_COUNT; i++) {
        if (strcmp(key, param_names[i]) == 0)
            return i;
    }
    return -1;
}

static uint32_t params_copy(param_set *dst, const param_set *src)
{
    memset(dst, 0, sizeof(*dst));
    for (int i = 0; i < P_COUNT; i++) {
        if (src->v[i] != NULL && (dst->v[i] = strdup(src->v[i])) == NULL) {
            params_free(dst);
            return CLUS_E_NOT_ENOUGH_MEMORY;
        }
    }
    return CLUS_OK;
}

/* Overlays list on dst: a known key replaces the value ("" unsets it); an
 * unknown key is an error naming it. */
static uint32_t params_merge(param_set *dst, const clus_params *list, char *msg, size_t size)
{
    for (size_t i = 0; list != NULL && i < list->count; i++) {
        const clus_param *p = &list->items[i];
        int idx = p->key != NULL ? param_index(p->key) : -1;
        char *value = NULL;

        if (idx < 0) {
            snprintf(msg, size,
                     "unknown property '%s' (the volume type has backend, image, "
                     "device, mountpoint, fstype, mount_options, mkfs)",
                     p->key != NULL ? p->key : "");
            return CLUS_E_INVALID_PARAMETER;
        }
        if (p->value != NULL && p->value[0] != '\0' && (value = strdup(p->value)) == NULL)
            return CLUS_E_NOT_ENOUGH_MEMORY;
        free(dst->v[idx]);
        dst->v[idx] = value;
    }
    return CLUS_OK;
}

static clus_volume_config params_config(const param_set *p, const char *state_dir)
{
    clus_volume_config cfg = {
        .backend = p->v[P_BACKEND],
        .image = p->v[P_IMAGE],
        .device = p->v[P_DEVICE],
        .mountpoint = p->v[P_MOUNTPOINT],
        .fstype = p->v[P_FSTYPE],
        .mount_options = p->v[P_MOUNT_OPTIONS],
        .mkfs = p->v[P_MKFS],
        .state_dir = state_dir,
    };
    return cfg;
}

/* ---- the watcher: signal_failure when the device or the mount goes ---- */

static void watch_wait(volume_res *r)
{
    struct timespec until = clus_mono_deadline(WATCH_INTERVAL_MS);

    while (!r->watch_stop && pthread_cond_timedwait(&r->watch_cond, &r->watch_lock, &until) == 0)
        ;
}

static void *watch_main(void *arg)
{
    volume_res *r = arg;
    bool signalled = false;
    char msg[MSG_SIZE];

    pthread_mutex_lock(&r->watch_lock);
    for (;;) {
        bool alive;

        watch_wait(r);
        if (r->watch_stop)
            break;
        pthread_mutex_unlock(&r->watch_lock);
        /* An offline volume has nothing to watch (Terminate overtook us). */
        alive = clus_volume_is_offline(r->vol) || clus_volume_looks_alive(r->vol, msg, sizeof(msg));
        if (!alive && !signalled) {
            LOG(r, CLUS_LOG_WARNING, "volume failure detected: %s", msg);
            monitor->signal_failure(r->handle, CLUS_FAILURE_GENERAL, 0);
        }
        signalled = !alive;
        pthread_mutex_lock(&r->watch_lock);
    }
    pthread_mutex_unlock(&r->watch_lock);
    return NULL;
}

static void watch_start(volume_res *r)
{
    pthread_mutex_lock(&r->watch_lock);
    if (!r->watching) {
        r->watch_stop = false;
        r->watching = pthread_create(&r->watcher, NULL, watch_main, r) == 0;
        if (!r->watching)
            LOG(r, CLUS_LOG_WARNING, "cannot start the volume watcher: %s", strerror(errno));
    }
    pthread_mutex_unlock(&r->watch_lock);
}

static void watch_stop(volume_res *r)
{
    pthread_t t;
    bool join;

    pthread_mutex_lock(&r->watch_lock);
    join = r->watching;
    t = r->watcher;
    r->watching = false;
    r->watch_stop = true;
    pthread_cond_broadcast(&r->watch_cond);
    pthread_mutex_unlock(&r->watch_lock);
    if (!join)
        return;
    if (pthread_equal(t, pthread_self()))
        pthread_detach(t); /* called from signal_failure on the watcher itself */
    else
        pthread_join(t, NULL);
}

/* ---- open / close ---- */

static void res_free(volume_res *r)
{
    params_free(&r->params);
    params_free(&r->stored);
    free(r->state_dir);
    pthread_mutex_destroy(&r->vol_lock);
    pthread_mutex_destroy(&r->watch_lock);
    pthread_cond_destroy(&r->watch_cond);
    free(r);
}

static volume_res *res_alloc(const clus_open_args *args)
{
    volume_res *r = calloc(1, sizeof(*r));
    pthread_condattr_t attr;

    if (r == NULL)
        return NULL;
    r->handle = args->handle;
    r->last_looks_alive = true;
    pthread_mutex_init(&r->vol_lock, NULL);
    pthread_mutex_init(&r->watch_lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->watch_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (args->state_dir != NULL && (r->state_dir = strdup(args->state_dir)) == NULL) {
        res_free(r);
        return NULL;
    }
    return r;
}

static uint32_t volume_open(const clus_open_args *args, clus_resid *resid)
{
    char msg[MSG_SIZE] = "";
    clus_volume_config cfg;
    volume_res *r;
    uint32_t s;

    if (args == NULL || resid == NULL)
        return CLUS_E_INVALID_PARAMETER;
    r = res_alloc(args);
    if (r == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    s = params_merge(&r->params, args->params, msg, sizeof(msg));
    if (s == CLUS_OK) {
        cfg = params_config(&r->params, r->state_dir);
        s = clus_volume_open(&cfg, NULL, &r->vol, msg, sizeof(msg));
    }
    if (s != CLUS_OK) {
        monitor->log_event(args->handle, CLUS_LOG_ERROR, "open failed (%s): %s",
                           clus_status_name(s), msg);
        monitor->set_reason(args->handle, "%s", msg);
        res_free(r);
        return s;
    }
    if (msg[0] != '\0')
        LOG(r, CLUS_LOG_WARNING, "%s", msg);
    *resid = r;
    return CLUS_OK;
}

static void volume_retire(clus_resid resid)
{
    volume_res *r = resid;

    if (r != NULL)
        clus_volume_retire(r->vol);
}

static void volume_close(clus_resid resid)
{
    volume_res *r = resid;

    if (r == NULL)
        return;
    watch_stop(r);
    clus_volume_close(r->vol);
    res_free(r);
}

/* ---- online / offline / terminate ---- */

/* Progress of a slow online, reported as OnlinePending with the checkpoint. */
static int online_progress(void *arg, uint32_t checkpoint, const char *step)
{
    volume_res *r = arg;

    return monitor->set_status(r->handle, CLUS_STATE_ONLINE_PENDING, checkpoint, 0) ==
           CLUS_EXIT_TERMINATE;
}

/* Replaces the volume with one built from the stored properties, when it is
 * offline (an online volume keeps its values until the next Online after an
 * Offline). On error the previous volume stays, and so do the stored values,
 * so the error repeats until they are fixed. */
static uint32_t apply_stored(volume_res *r, char *msg, size_t size)
{
    clus_volume_config cfg = params_config(&r->stored, r->state_dir);
    clus_volume *fresh = NULL, *old;
    clus_volume_info *info;
    bool had_mark;
    uint32_t s;

    if (!r->has_stored || !clus_volume_is_offline(r->vol))
        return CLUS_OK;
    info = malloc(sizeof(*info));
    if (info == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus_volume_get_info(r->vol, info);
    had_mark = info->offline_mark;
    free(info);
    s = clus_volume_open(&cfg, NULL, &fresh, msg, size);
    if (s != CLUS_OK)
        return s;
    pthread_mutex_lock(&r->vol_lock);
    old = r->vol;
    r->vol = fresh;
    pthread_mutex_unlock(&r->vol_lock);
    clus_volume_close(old);
    /* The old volume's offline hold went with it; the new one may not have
     * got the device while the old held it: hold it again. */
    if (had_mark)
        clus_volume_offline(fresh, msg, size);
    params_free(&r->params);
    r->params = r->stored;
    memset(&r->stored, 0, sizeof(r->stored));
    r->has_stored = false;
    msg[0] = '\0';
    return CLUS_OK;
}

static uint32_t volume_online(clus_resid resid, clus_online_args *args)
{
    volume_res *r = resid;
    char msg[MSG_SIZE] = "";
    uint32_t s = apply_stored(r, msg, sizeof(msg));

    if (s != CLUS_OK) {
        LOG_REASON(r, CLUS_LOG_ERROR,
                   "online failed: the stored properties cannot be used (%s): %s",
                   clus_status_name(s), msg);
        return s;
    }
    clus_volume_set_progress(r->vol, online_progress, r);
    s = CLUS_E_NOT_FOUND;
    if (args != NULL && (args->flags & CLUS_ONLINE_RECOVER_MONITOR_STATE) != 0)
        s = clus_volume_adopt(r->vol, msg, sizeof(msg));
    if (s == CLUS_E_NOT_FOUND)
        s = clus_volume_online(r->vol, msg, sizeof(msg));
    if (s != CLUS_OK) {
        LOG_REASON(r, CLUS_LOG_ERROR, "online failed (%s): %s", clus_status_name(s), msg);
        return s;
    }
    LOG(r, CLUS_LOG_INFORMATION, "online%s%s", msg[0] != '\0' ? ": " : "", msg);
    if (args != NULL)
        args->event_handle = true;
    r->last_looks_alive = true;
    watch_start(r);
    return CLUS_OK;
}

static uint32_t volume_offline(clus_resid resid, const clus_offline_args *args)
{
    volume_res *r = resid;
    char msg[MSG_SIZE] = "";
    uint32_t s;

    watch_stop(r); /* the unmount must not look like a failure */
    s = clus_volume_offline(r->vol, msg, sizeof(msg));
    if (s != CLUS_OK) {
        LOG_REASON(r, CLUS_LOG_ERROR, "offline failed (%s): %s", clus_status_name(s), msg);
        if (!clus_volume_is_offline(r->vol))
            watch_start(r);
        return s;
    }
    LOG(r, CLUS_LOG_INFORMATION, "offline");
    return CLUS_OK;
}

static void volume_terminate(clus_resid resid)
{
    volume_res *r = resid;
    char msg[MSG_SIZE] = "";
    uint32_t s;

    watch_stop(r);
    pthread_mutex_lock(&r->vol_lock);
    s = clus_volume_terminate(r->vol, msg, sizeof(msg));
    pthread_mutex_unlock(&r->vol_lock);
    if (s != CLUS_OK || msg[0] != '\0')
        LOG(r, s != CLUS_OK ? CLUS_LOG_ERROR : CLUS_LOG_WARNING, "terminate: %s", msg);
}

/* ---- health ---- */

static bool volume_looks_alive(clus_resid resid)
{
    volume_res *r = resid;
    char msg[MSG_SIZE] = "";
    bool alive = clus_volume_looks_alive(r->vol, msg, sizeof(msg));

    if (!alive && r->last_looks_alive)
        LOG(r, CLUS_LOG_WARNING, "looks alive: no: %s", msg);
    r->last_looks_alive = alive;
    return alive;
}

static bool volume_is_alive(clus_resid resid)
{
    volume_res *r = resid;
    char msg[MSG_SIZE] = "";
    bool alive = clus_volume_is_alive(r->vol, msg, sizeof(msg));

    if (!alive)
        LOG(r, CLUS_LOG_ERROR, "is alive: no: %s", msg);
    else if (msg[0] != '\0')
        LOG(r, CLUS_LOG_WARNING, "is alive: %s", msg);
    return alive;
}

/* ---- arbitrate / release ---- */

static uint32_t volume_arbitrate(clus_resid resid, clus_quorum_lost_fn lost)
{
    volume_res *r = resid;
    char msg[MSG_SIZE] = "";
    uint32_t s = clus_volume_claim(r->vol, msg, sizeof(msg));

    if (s != CLUS_OK) {
        LOG_REASON(r, CLUS_LOG_WARNING, "arbitrate lost (%s): %s", clus_status_name(s), msg);
        return s;
    }
    r->lost = lost; /* an OFD lock is never taken away while we hold it */
    return CLUS_OK;
}

static uint32_t volume_release(clus_resid resid)
{
    volume_res *r = resid;
    char msg[MSG_SIZE] = "";
    uint32_t s = clus_volume_release(r->vol, msg, sizeof(msg));

    if (s != CLUS_OK)
        LOG_REASON(r, CLUS_LOG_WARNING, "release refused (%s): %s", clus_status_name(s), msg);
    else
        r->lost = NULL;
    return s;
}

/* ---- controls ---- */

static void add_bool(clus_control *ctl, const char *key, bool value)
{
    ctl->add_property(ctl, key, value ? "true" : "false");
}

static void add_long(clus_control *ctl, const char *key, long value)
{
    char text[32];

    snprintf(text, sizeof(text), "%ld", value);
    ctl->add_property(ctl, key, text);
}

static uint32_t ctl_get_private(volume_res *r, clus_control *ctl)
{
    const param_set *p = r->has_stored ? &r->stored : &r->params;

    for (int i = 0; i < P_COUNT; i++)
        ctl->add_property(ctl, param_names[i], p->v[i] != NULL ? p->v[i] : "");
    return CLUS_OK;
}

static uint32_t ctl_get_ro_private(volume_res *r, clus_control *ctl)
{
    clus_volume_info *info = malloc(sizeof(*info));

    if (info == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus_volume_get_info(r->vol, info);
    ctl->add_property(ctl, "loop_device", info->loop_device);
    add_bool(ctl, "mounted", info->mounted);
    ctl->add_property(ctl, "read_only",
                      info->read_only < 0 ? "unknown"
                      : info->read_only   ? "true"
                                          : "false");
    add_bool(ctl, "offline_mark", info->offline_mark);
    free(info);
    return CLUS_OK;
}

static uint32_t ctl_enum_private(volume_res *r, clus_control *ctl)
{
    for (int i = 0; i < P_COUNT; i++)
        ctl->add_property(ctl, param_names[i], "");
    return CLUS_OK;
}

/* The stored (or current) values with the control's properties laid over. */
static uint32_t merged_params(volume_res *r, const clus_control *ctl, param_set *out, char *msg,
                              size_t size)
{
    uint32_t s = params_copy(out, r->has_stored ? &r->stored : &r->params);

    if (s == CLUS_OK)
        s = params_merge(out, ctl->properties, msg, size);
    if (s != CLUS_OK)
        params_free(out);
    return s;
}

static uint32_t ctl_validate(volume_res *r, clus_control *ctl, bool store)
{
    char msg[MSG_SIZE] = "";
    clus_volume_config cfg;
    param_set merged;
    uint32_t s = merged_params(r, ctl, &merged, msg, sizeof(msg));

    if (s == CLUS_OK) {
        cfg = params_config(&merged, r->state_dir);
        s = clus_volume_validate(&cfg, NULL, msg, sizeof(msg));
    }
    if (s != CLUS_OK || !store) {
        if (s != CLUS_OK)
            LOG_REASON(r, CLUS_LOG_ERROR, "invalid properties (%s): %s", clus_status_name(s), msg);
        params_free(&merged);
        return s;
    }
    params_free(&r->stored);
    r->stored = merged;
    r->has_stored = true;
    LOG(r, CLUS_LOG_INFORMATION, "properties stored; they take effect at the next online");
    return CLUS_E_RESOURCE_PROPERTIES_STORED;
}

/* Parses a decimal property; absent gives dflt. */
static bool prop_u64(const clus_params *props, const char *key, uint64_t dflt, uint64_t *out)
{
    const char *text = clus_params_get(props, key);
    char *end;

    *out = dflt;
    if (text == NULL || text[0] == '\0')
        return true;
    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    *out = strtoull(text, &end, 10);
    return errno == 0 && *end == '\0';
}

static uint32_t ctl_read(volume_res *r, clus_control *ctl)
{
    char msg[MSG_SIZE] = "";
    uint64_t offset, length;
    size_t done = 0;
    uint32_t s;

    if (!prop_u64(ctl->properties, "offset", 0, &offset) ||
        !prop_u64(ctl->properties, "length", ctl->out_size, &length))
        return CLUS_E_INVALID_PARAMETER;
    if (length > ctl->out_size || (length > 0 && ctl->out == NULL)) {
        if (ctl->bytes_returned != NULL)
            *ctl->bytes_returned = (size_t)length;
        return CLUS_E_MORE_DATA;
    }
    s = clus_volume_read(r->vol, clus_params_get(ctl->properties, "path"), offset, ctl->out,
                         (size_t)length, &done, msg, sizeof(msg));
    if (s != CLUS_OK)
        LOG_REASON(r, CLUS_LOG_WARNING, "read failed (%s): %s", clus_status_name(s), msg);
    if (ctl->bytes_returned != NULL)
        *ctl->bytes_returned = done;
    return s;
}

static uint32_t ctl_write(volume_res *r, clus_control *ctl)
{
    char msg[MSG_SIZE] = "";
    uint64_t offset;
    size_t done = 0;
    uint32_t s;

    if (!prop_u64(ctl->properties, "offset", 0, &offset))
        return CLUS_E_INVALID_PARAMETER;
    s = clus_volume_write(r->vol, clus_params_get(ctl->properties, "path"), offset, ctl->in_buffer,
                          ctl->in_size, &done, msg, sizeof(msg));
    if (s != CLUS_OK)
        LOG_REASON(r, CLUS_LOG_WARNING, "write failed (%s): %s", clus_status_name(s), msg);
    if (ctl->bytes_returned != NULL)
        *ctl->bytes_returned = 0;
    add_long(ctl, "written", (long)done);
    return s;
}

static uint32_t ctl_get_info(volume_res *r, clus_control *ctl)
{
    clus_volume_info *info = malloc(sizeof(*info));

    if (info == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus_volume_get_info(r->vol, info);
    ctl->add_property(ctl, "backend", info->backend);
    ctl->add_property(ctl, "image", info->image);
    ctl->add_property(ctl, "device", info->device);
    ctl->add_property(ctl, "loop_device", info->loop_device);
    ctl->add_property(ctl, "mountpoint", info->mountpoint);
    ctl->add_property(ctl, "fstype", info->fstype);
    add_bool(ctl, "online", info->online);
    add_bool(ctl, "mounted", info->mounted);
    ctl->add_property(ctl, "read_only",
                      info->read_only < 0 ? "unknown"
                      : info->read_only   ? "true"
                                          : "false");
    add_bool(ctl, "offline_mark", info->offline_mark);
    add_bool(ctl, "held", info->held);
    add_bool(ctl, "claimed", info->claimed);
    if (info->holder_pid > 0)
        add_long(ctl, "holder", info->holder_pid);
    else
        ctl->add_property(ctl, "holder", "");
    free(info);
    return CLUS_OK;
}

/* While offline, every control that touches the volume or changes it gets 21
 * (IOCTL_VOLUME_OFFLINE semantics); the read-only queries still answer. */
/* While offline the volume itself answers nothing (21), but the resource's
 * configuration stays manageable: its properties can be read, checked and
 * changed (effective at the next Online), and its state asked. */
static bool allowed_offline(uint32_t code)
{
    return code == CLUSCTL_RESOURCE_VOLUME_GET_INFO || code == CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE ||
           code == CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES ||
           code == CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES ||
           code == CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES ||
           code == CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES ||
           code == CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES;
}

static bool handled(uint32_t code)
{
    switch (code) {
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
    case CLUSCTL_RESOURCE_VOLUME_READ:
    case CLUSCTL_RESOURCE_VOLUME_WRITE:
    case CLUSCTL_RESOURCE_VOLUME_GET_INFO:
    case CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE:
        return true;
    default:
        return false;
    }
}

static uint32_t volume_control(clus_resid resid, clus_control *ctl)
{
    volume_res *r = resid;
    bool offline;

    if (r == NULL || ctl == NULL)
        return CLUS_E_INVALID_PARAMETER;
    if (ctl->bytes_returned != NULL)
        *ctl->bytes_returned = 0;
    if (!handled(ctl->code))
        return CLUS_E_INVALID_FUNCTION;
    offline = clus_volume_is_offline(r->vol);
    if (offline && !allowed_offline(ctl->code))
        return CLUS_E_NOT_READY;
    switch (ctl->code) {
    case CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES:
        return ctl_get_private(r, ctl);
    case CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES:
        return ctl_get_ro_private(r, ctl);
    case CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES:
        return ctl_enum_private(r, ctl);
    case CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES:
        return ctl_validate(r, ctl, false);
    case CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES:
        return ctl_validate(r, ctl, true);
    case CLUSCTL_RESOURCE_VOLUME_READ:
        return ctl_read(r, ctl);
    case CLUSCTL_RESOURCE_VOLUME_WRITE:
        return ctl_write(r, ctl);
    case CLUSCTL_RESOURCE_VOLUME_GET_INFO:
        return ctl_get_info(r, ctl);
    default: /* CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE */
        add_bool(ctl, "offline", offline);
        return CLUS_OK;
    }
}

/* ---- startup ---- */

static const clus_restype_ops volume_ops = {
    .size = sizeof(clus_restype_ops),
    .version = CLUS_RESTYPE_VERSION_1,
    .flags = 0, /* worker threads: entry points block */
    .open = volume_open,
    .close = volume_close,
    .retire = volume_retire,
    .online = volume_online,
    .offline = volume_offline,
    .terminate = volume_terminate,
    .looks_alive = volume_looks_alive,
    .is_alive = volume_is_alive,
    .arbitrate = volume_arbitrate,
    .release = volume_release,
    .resource_control = volume_control,
    .type_control = NULL,
    .cancel = NULL,
};

uint32_t clus_volume_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                                  const clus_monitor_callbacks *callbacks,
                                  const clus_restype_ops **ops)
{
    if (type_name == NULL || strcmp(type_name, VOLUME_TYPE_NAME) != 0)
        return CLUS_E_RESNAME_NOT_FOUND;
    if (min_version > CLUS_RESTYPE_VERSION_1 || max_version < CLUS_RESTYPE_VERSION_1)
        return CLUS_E_REVISION_MISMATCH;
    if (callbacks == NULL || ops == NULL || callbacks->log_event == NULL ||
        callbacks->set_status == NULL || callbacks->signal_failure == NULL)
        return CLUS_E_INVALID_PARAMETER;
    monitor = callbacks;
    *ops = &volume_ops;
    return CLUS_OK;
}

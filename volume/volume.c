/*
 * volume.c - the public API: argument checks, the lock, the state rules that
 * every backend shares (I/O only online, offline is idempotent), and dispatch
 * to the backend's ops table.
 */
#include "vol_internal.h"

#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct vol_backend *backend_of(enum vol_kind kind)
{
    switch (kind) {
    case VOL_KIND_LOOP:
        return &vol_backend_loop;
    case VOL_KIND_BLOCK:
        return &vol_backend_block;
    default:
        return &vol_backend_image;
    }
}

static vol_msg msg_init(char *buf, size_t size)
{
    vol_msg m = {.buf = buf, .size = buf != NULL ? size : 0};

    if (m.size > 0)
        m.buf[0] = '\0';
    return m;
}

uint32_t clus_volume_validate(const clus_volume_config *cfg, const clus_volume_sys *sys, char *msg,
                              size_t msg_size)
{
    vol_msg m = msg_init(msg, msg_size);
    struct vol_config *parsed;
    uint32_t s;

    if (cfg == NULL)
        return vol_fail(&m, CLUS_E_INVALID_PARAMETER, "no configuration");
    parsed = malloc(sizeof(*parsed));
    if (parsed == NULL)
        return vol_fail(&m, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
    s = vol_config_parse(sys != NULL ? sys : clus_volume_sys_default(), cfg, parsed, &m);
    free(parsed);
    return s;
}

uint32_t clus_volume_open(const clus_volume_config *cfg, const clus_volume_sys *sys,
                          clus_volume **out, char *msg, size_t msg_size)
{
    vol_msg m = msg_init(msg, msg_size);
    clus_volume *v;
    uint32_t s;

    if (out == NULL || cfg == NULL)
        return vol_fail(&m, CLUS_E_INVALID_PARAMETER, "no configuration or no result pointer");
    *out = NULL;
    v = calloc(1, sizeof(*v));
    if (v == NULL)
        return vol_fail(&m, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
    v->sys = sys != NULL ? sys : clus_volume_sys_default();
    v->claim_fd = -1;
    v->hold_fd = -1;
    v->loop_index = -1;
    v->unfenced_loop = -1;
    v->state = VOL_OFFLINE;
    atomic_init(&v->terminating, false);
    s = vol_config_parse(v->sys, cfg, &v->cfg, &m);
    if (s != CLUS_OK) {
        free(v);
        return s;
    }
    v->be = backend_of(v->cfg.kind);
    if (v->cfg.kind == VOL_KIND_BLOCK) {
        snprintf(v->dev_path, sizeof(v->dev_path), "%s", v->cfg.device);
        v->dev_rdev = v->cfg.device_rdev;
    }
    snprintf(v->fstype, sizeof(v->fstype), "%s", v->cfg.fstype);
    s = v->be->open(v, &m);
    if (s != CLUS_OK) {
        v->be->close(v);
        free(v);
        return s;
    }
    pthread_mutex_init(&v->lock, NULL);
    *out = v;
    return CLUS_OK;
}

void clus_volume_close(clus_volume *v)
{
    if (v == NULL)
        return;
    pthread_mutex_lock(&v->lock);
    v->be->close(v);
    pthread_mutex_unlock(&v->lock);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

void clus_volume_retire(clus_volume *v)
{
    pthread_mutex_lock(&v->lock);
    if (v->be->retire != NULL)
        v->be->retire(v);
    pthread_mutex_unlock(&v->lock);
}

void clus_volume_set_progress(clus_volume *v, clus_volume_progress_fn fn, void *arg)
{
    pthread_mutex_lock(&v->lock);
    v->progress = fn;
    v->progress_arg = arg;
    pthread_mutex_unlock(&v->lock);
}

/* Runs one state-changing entry point under the lock. */
typedef uint32_t (*vol_op)(clus_volume *v, vol_msg *m);

static uint32_t run_locked(clus_volume *v, vol_op op, char *msg, size_t msg_size)
{
    vol_msg m = msg_init(msg, msg_size);
    uint32_t s;

    if (v == NULL)
        return vol_fail(&m, CLUS_E_INVALID_HANDLE, "no volume");
    pthread_mutex_lock(&v->lock);
    s = op(v, &m);
    pthread_mutex_unlock(&v->lock);
    return s;
}

/* Says where a failed online or offline left the volume, when the backend
 * did not already. */
static void note_state(clus_volume *v, uint32_t s, vol_msg *m)
{
    if (s == CLUS_OK || m->buf == NULL || strstr(m->buf, "undo failed") != NULL ||
        strstr(m->buf, "stays o") != NULL || strstr(m->buf, "left online") != NULL)
        return;
    vol_msg_add(m, v->state == VOL_ONLINE ? "the volume stays online" : "the volume stays offline");
}

static uint32_t op_online(clus_volume *v, vol_msg *m)
{
    uint32_t s;

    v->checkpoint = 0;
    s = vol_check_terminating(v, m);
    if (s == CLUS_OK)
        s = v->be->online(v, m);
    note_state(v, s, m);
    return s;
}

uint32_t clus_volume_online(clus_volume *v, char *msg, size_t msg_size)
{
    return run_locked(v, op_online, msg, msg_size);
}

static uint32_t op_adopt(clus_volume *v, vol_msg *m)
{
    if (v->state == VOL_ONLINE)
        return CLUS_OK;
    return v->be->adopt(v, m);
}

uint32_t clus_volume_adopt(clus_volume *v, char *msg, size_t msg_size)
{
    return run_locked(v, op_adopt, msg, msg_size);
}

static uint32_t op_offline(clus_volume *v, vol_msg *m)
{
    uint32_t s = v->be->offline(v, m);

    note_state(v, s, m);
    return s;
}

uint32_t clus_volume_offline(clus_volume *v, char *msg, size_t msg_size)
{
    return run_locked(v, op_offline, msg, msg_size);
}

static uint32_t op_terminate(clus_volume *v, vol_msg *m)
{
    uint32_t s = v->be->terminate(v, m);

    atomic_store(&v->terminating, false);
    return s;
}

uint32_t clus_volume_terminate(clus_volume *v, char *msg, size_t msg_size)
{
    if (v != NULL)
        atomic_store(&v->terminating, true); /* a running online stops at its next step */
    return run_locked(v, op_terminate, msg, msg_size);
}

bool clus_volume_is_offline(clus_volume *v)
{
    bool offline;

    pthread_mutex_lock(&v->lock);
    offline = v->state != VOL_ONLINE;
    pthread_mutex_unlock(&v->lock);
    return offline;
}

bool clus_volume_looks_alive(clus_volume *v, char *msg, size_t msg_size)
{
    vol_msg m = msg_init(msg, msg_size);
    bool alive = false;

    pthread_mutex_lock(&v->lock);
    if (v->state != VOL_ONLINE)
        vol_msg_set(&m, "the volume is offline");
    else
        alive = v->be->looks_alive(v, &m);
    pthread_mutex_unlock(&v->lock);
    return alive;
}

bool clus_volume_is_alive(clus_volume *v, char *msg, size_t msg_size)
{
    vol_msg m = msg_init(msg, msg_size);
    bool alive = false;

    pthread_mutex_lock(&v->lock);
    if (v->state != VOL_ONLINE)
        vol_msg_set(&m, "the volume is offline");
    else
        alive = v->be->is_alive(v, &m);
    pthread_mutex_unlock(&v->lock);
    return alive;
}

static uint32_t op_claim(clus_volume *v, vol_msg *m)
{
    return v->be->claim(v, m);
}

uint32_t clus_volume_claim(clus_volume *v, char *msg, size_t msg_size)
{
    return run_locked(v, op_claim, msg, msg_size);
}

static uint32_t op_release(clus_volume *v, vol_msg *m)
{
    if (v->state == VOL_ONLINE)
        return vol_fail(m, CLUS_E_RESOURCE_ONLINE,
                        "the claim of an online volume cannot be released: take it offline");
    v->be->unclaim(v);
    return CLUS_OK;
}

uint32_t clus_volume_release(clus_volume *v, char *msg, size_t msg_size)
{
    return run_locked(v, op_release, msg, msg_size);
}

/* Checks shared by read and write: online, and a path the backend accepts. */
static uint32_t io_precheck(clus_volume *v, const char *path, const void *buf, size_t length,
                            vol_msg *m)
{
    if (v->state != VOL_ONLINE)
        return vol_fail(m, CLUS_E_NOT_READY, "the volume is offline");
    if (buf == NULL && length > 0)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "no buffer");
    if (v->cfg.kind == VOL_KIND_IMAGE) {
        if (path != NULL && path[0] != '\0')
            return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                            "the image backend has no files: leave path empty");
    } else if (!vol_path_is_clean_relative(path)) {
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "path '%s' must be relative to the mount point, without '..'",
                        path != NULL ? path : "");
    }
    return CLUS_OK;
}

uint32_t clus_volume_read(clus_volume *v, const char *path, uint64_t offset, void *buf,
                          size_t length, size_t *done, char *msg, size_t msg_size)
{
    vol_msg m = msg_init(msg, msg_size);
    size_t n = 0;
    uint32_t s;

    pthread_mutex_lock(&v->lock);
    s = io_precheck(v, path, buf, length, &m);
    if (s == CLUS_OK)
        s = v->be->read(v, path, offset, buf, length, &n, &m);
    pthread_mutex_unlock(&v->lock);
    if (done != NULL)
        *done = n;
    return s;
}

uint32_t clus_volume_write(clus_volume *v, const char *path, uint64_t offset, const void *buf,
                           size_t length, size_t *done, char *msg, size_t msg_size)
{
    vol_msg m = msg_init(msg, msg_size);
    size_t n = 0;
    uint32_t s;

    pthread_mutex_lock(&v->lock);
    s = io_precheck(v, path, buf, length, &m);
    if (s == CLUS_OK && v->cfg.read_only)
        s = vol_fail(&m, CLUS_E_WRITE_PROTECT, "the volume is mounted read-only");
    if (s == CLUS_OK)
        s = v->be->write(v, path, offset, buf, length, &n, &m);
    pthread_mutex_unlock(&v->lock);
    if (done != NULL)
        *done = n;
    return s;
}

void clus_volume_get_info(clus_volume *v, clus_volume_info *info)
{
    memset(info, 0, sizeof(*info));
    info->read_only = -1;
    pthread_mutex_lock(&v->lock);
    snprintf(info->backend, sizeof(info->backend), "%s", v->be->name);
    snprintf(info->image, sizeof(info->image), "%s", v->cfg.image);
    snprintf(info->mountpoint, sizeof(info->mountpoint), "%s", v->cfg.mountpoint);
    snprintf(info->fstype, sizeof(info->fstype), "%s", v->fstype);
    info->online = v->state == VOL_ONLINE;
    info->offline_mark = v->mark;
    info->claimed = v->be->claimed(v);
    v->be->info(v, info);
    pthread_mutex_unlock(&v->lock);
}

/*
 * vol_util.c - messages, the offline mark, progress steps and the image
 * claim (an OFD write lock), shared by the backends.
 */
#include "vol_internal.h"

#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void msg_vformat(vol_msg *m, size_t at, const char *fmt, va_list ap)
{
    if (m == NULL || m->buf == NULL || m->size == 0 || at >= m->size)
        return;
    vsnprintf(m->buf + at, m->size - at, fmt, ap);
}

void vol_msg_set(vol_msg *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vformat(m, 0, fmt, ap);
    va_end(ap);
}

void vol_msg_add(vol_msg *m, const char *fmt, ...)
{
    va_list ap;
    size_t len;

    if (m == NULL || m->buf == NULL || m->size == 0)
        return;
    len = strnlen(m->buf, m->size);
    if (len > 0 && len + 2 < m->size) {
        memcpy(m->buf + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    msg_vformat(m, len, fmt, ap);
    va_end(ap);
}

uint32_t vol_fail_errno(vol_msg *m, int err, const char *fmt, ...)
{
    char what[PATH_MAX + 128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    vol_msg_set(m, "%s: %s", what, strerror(err));
    return clus_status_from_errno(err);
}

uint32_t vol_fail(vol_msg *m, uint32_t status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vformat(m, 0, fmt, ap);
    va_end(ap);
    return status;
}

void vol_undo_failed(vol_msg *m, int err, const char *what)
{
    vol_msg_add(m, "undo failed: %s: %s", what, strerror(err));
}

void vol_close(const clus_volume_sys *sys, int *fd)
{
    if (*fd >= 0) {
        sys->close(sys, *fd);
        *fd = -1;
    }
}

/* Makes the directory entry of the mark durable. Failure is reported: a mark
 * that may vanish at power loss is not a persisted mark. */
static uint32_t mark_sync_dir(clus_volume *v, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    char dir[PATH_MAX];
    char *slash;
    int fd;

    snprintf(dir, sizeof(dir), "%s", v->cfg.mark_path);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        return CLUS_OK;
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    fd = sys->open(sys, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return vol_fail_errno(m, errno, "cannot open state directory %s", dir);
    if (sys->fsync(sys, fd) < 0) {
        int err = errno;
        vol_close(sys, &fd);
        return vol_fail_errno(m, err, "cannot sync state directory %s", dir);
    }
    vol_close(sys, &fd);
    return CLUS_OK;
}

uint32_t vol_mark_write(clus_volume *v, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    char text[96];
    ssize_t n;
    uint32_t st;
    int fd, len, err;

    if (v->cfg.mark_path[0] == '\0') {
        v->mark = true;
        return CLUS_OK;
    }
    fd = sys->open(sys, v->cfg.mark_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return vol_fail_errno(m, errno, "cannot create the offline mark %s", v->cfg.mark_path);
    len = snprintf(text, sizeof(text), "offline since %lld\n", (long long)time(NULL));
    n = sys->pwrite(sys, fd, text, (size_t)len, 0);
    if (n != len || sys->fsync(sys, fd) < 0) {
        err = n != len && n >= 0 ? EIO : errno;
        vol_close(sys, &fd);
        sys->unlink(sys, v->cfg.mark_path);
        return vol_fail_errno(m, err, "cannot write the offline mark %s", v->cfg.mark_path);
    }
    vol_close(sys, &fd);
    st = mark_sync_dir(v, m);
    if (st != CLUS_OK) {
        sys->unlink(sys, v->cfg.mark_path);
        return st;
    }
    v->mark = true;
    return CLUS_OK;
}

uint32_t vol_mark_remove(clus_volume *v, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;

    if (v->cfg.mark_path[0] != '\0' && sys->unlink(sys, v->cfg.mark_path) < 0 && errno != ENOENT)
        return vol_fail_errno(m, errno, "cannot remove the offline mark %s", v->cfg.mark_path);
    v->mark = false;
    return CLUS_OK;
}

uint32_t vol_mark_exists(clus_volume *v, bool *exists, vol_msg *m)
{
    struct stat st;

    *exists = v->mark;
    if (v->cfg.mark_path[0] == '\0')
        return CLUS_OK;
    *exists = false;
    if (v->sys->stat(v->sys, v->cfg.mark_path, &st) == 0)
        *exists = true;
    else if (errno != ENOENT)
        return vol_fail_errno(m, errno, "cannot look for the offline mark %s", v->cfg.mark_path);
    return CLUS_OK;
}

uint32_t vol_check_terminating(clus_volume *v, vol_msg *m)
{
    if (atomic_load(&v->terminating))
        return vol_fail(m, CLUS_E_OPERATION_ABORTED, "stopped: the volume is being terminated");
    return CLUS_OK;
}

uint32_t vol_step(clus_volume *v, const char *step, vol_msg *m)
{
    uint32_t st = vol_check_terminating(v, m);

    if (st != CLUS_OK)
        return st;
    v->checkpoint++;
    if (v->progress != NULL && v->progress(v->progress_arg, v->checkpoint, step) != 0)
        return vol_fail(m, CLUS_E_OPERATION_ABORTED, "stopped by the caller before: %s", step);
    return CLUS_OK;
}

uint32_t vol_image_claim(clus_volume *v, vol_msg *m)
{
    const clus_volume_sys *sys = v->sys;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    struct stat st;
    int fd, err;

    if (v->claim_fd >= 0)
        return CLUS_OK;
    fd = sys->open(sys, v->cfg.image, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return vol_fail_errno(m, errno, "cannot open image %s to claim it", v->cfg.image);
    if (sys->fstat(sys, fd, &st) < 0) {
        err = errno;
        vol_close(sys, &fd);
        return vol_fail_errno(m, err, "cannot stat image %s", v->cfg.image);
    }
    if (st.st_dev != v->cfg.image_dev || st.st_ino != v->cfg.image_ino) {
        vol_close(sys, &fd);
        return vol_fail(m, CLUS_E_FILE_NOT_FOUND,
                        "image %s was replaced by another file since the volume was opened",
                        v->cfg.image);
    }
    if (sys->fcntl_lock(sys, fd, F_OFD_SETLK, &fl) < 0) {
        err = errno;
        vol_close(sys, &fd);
        if (err == EAGAIN || err == EACCES) {
            long pid = vol_find_lock_holder(sys, v->cfg.image_dev, v->cfg.image_ino);
            if (pid > 0)
                return vol_fail(m, CLUS_E_RESOURCE_NOT_AVAILABLE,
                                "image %s is claimed by another holder (pid %ld)", v->cfg.image,
                                pid);
            return vol_fail(m, CLUS_E_RESOURCE_NOT_AVAILABLE,
                            "image %s is claimed by another holder", v->cfg.image);
        }
        return vol_fail_errno(m, err, "cannot lock image %s", v->cfg.image);
    }
    v->claim_fd = fd;
    return CLUS_OK;
}

void vol_image_unclaim(clus_volume *v)
{
    /* Closing the only descriptor of the open file description drops the
     * OFD lock; nothing else references it (the loop device has its own). */
    vol_close(v->sys, &v->claim_fd);
}

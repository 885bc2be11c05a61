/*
 * backend_image.c - a plain file: no loop device, no mount, no root. Online
 * is the claim (an OFD write lock on the file) and I/O goes through the
 * claim's descriptor; offline is the persisted mark with the claim released.
 */
#include "vol_internal.h"

#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static uint32_t image_open(clus_volume *v, vol_msg *m)
{
    bool exists = false;
    uint32_t s = vol_mark_exists(v, &exists, m);

    v->mark = exists;
    return s;
}

static void image_close(clus_volume *v)
{
    vol_image_unclaim(v);
}

static bool image_claimed(clus_volume *v)
{
    return v->claim_fd >= 0;
}

static uint32_t image_adopt(clus_volume *v, vol_msg *m)
{
    return vol_fail(m, CLUS_E_NOT_FOUND, "nothing to adopt: the image backend mounts nothing");
}

static uint32_t image_online(clus_volume *v, vol_msg *m)
{
    bool had_claim = v->claim_fd >= 0;
    uint32_t s = vol_image_claim(v, m);

    if (s == CLUS_OK)
        s = vol_mark_remove(v, m);
    if (s != CLUS_OK) {
        if (!had_claim)
            vol_image_unclaim(v);
        return s;
    }
    v->state = VOL_ONLINE;
    return CLUS_OK;
}

static uint32_t image_offline(clus_volume *v, vol_msg *m)
{
    uint32_t s;

    if (v->state != VOL_ONLINE)
        return v->mark ? CLUS_OK : vol_mark_write(v, m);
    if (v->sys->fsync(v->sys, v->claim_fd) < 0)
        return vol_fail_errno(m, errno, "cannot flush image %s; the volume stays online",
                              v->cfg.image);
    s = vol_mark_write(v, m);
    if (s != CLUS_OK) {
        vol_msg_add(m, "the volume stays online");
        return s;
    }
    vol_image_unclaim(v);
    v->state = VOL_OFFLINE;
    return CLUS_OK;
}

static uint32_t image_terminate(clus_volume *v, vol_msg *m)
{
    if (v->state == VOL_ONLINE) {
        vol_image_unclaim(v);
        v->state = VOL_OFFLINE;
    }
    return CLUS_OK;
}

static bool image_looks_alive(clus_volume *v, vol_msg *m)
{
    struct stat st;

    if (v->sys->fstat(v->sys, v->claim_fd, &st) < 0) {
        vol_fail_errno(m, errno, "cannot stat image %s", v->cfg.image);
        return false;
    }
    if (st.st_nlink == 0) {
        vol_msg_set(m, "image %s was deleted", v->cfg.image);
        return false;
    }
    if (v->sys->stat(v->sys, v->cfg.image, &st) < 0 || st.st_dev != v->cfg.image_dev ||
        st.st_ino != v->cfg.image_ino) {
        vol_msg_set(m, "image %s was deleted or replaced", v->cfg.image);
        return false;
    }
    return true;
}

static bool image_is_alive(clus_volume *v, vol_msg *m)
{
    char block[512];

    if (!image_looks_alive(v, m))
        return false;
    if (v->sys->pread(v->sys, v->claim_fd, block, sizeof(block), 0) < 0) {
        vol_fail_errno(m, errno, "cannot read image %s", v->cfg.image);
        return false;
    }
    if (v->sys->fsync(v->sys, v->claim_fd) < 0) {
        vol_fail_errno(m, errno, "cannot flush image %s", v->cfg.image);
        return false;
    }
    return true;
}

static uint32_t image_read(clus_volume *v, const char *path, uint64_t off, void *buf, size_t len,
                           size_t *done, vol_msg *m)
{
    while (*done < len) {
        ssize_t n = v->sys->pread(v->sys, v->claim_fd, (char *)buf + *done, len - *done,
                                  (off_t)(off + *done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vol_fail_errno(m, errno, "cannot read image %s", v->cfg.image);
        if (n == 0)
            break;
        *done += (size_t)n;
    }
    return CLUS_OK;
}

static uint32_t image_write(clus_volume *v, const char *path, uint64_t off, const void *buf,
                            size_t len, size_t *done, vol_msg *m)
{
    while (*done < len) {
        ssize_t n = v->sys->pwrite(v->sys, v->claim_fd, (const char *)buf + *done, len - *done,
                                   (off_t)(off + *done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vol_fail_errno(m, n < 0 ? errno : EIO, "cannot write image %s", v->cfg.image);
        *done += (size_t)n;
    }
    if (v->sys->fsync(v->sys, v->claim_fd) < 0)
        return vol_fail_errno(m, errno, "cannot flush image %s", v->cfg.image);
    return CLUS_OK;
}

static void image_info(clus_volume *v, clus_volume_info *info)
{
    if (info->claimed)
        info->holder_pid = (long)getpid();
    else
        info->holder_pid = vol_find_lock_holder(v->sys, v->cfg.image_dev, v->cfg.image_ino);
}

const struct vol_backend vol_backend_image = {
    .name = "image",
    .kind = VOL_KIND_IMAGE,
    .open = image_open,
    .close = image_close,
    .claim = vol_image_claim,
    .unclaim = vol_image_unclaim,
    .claimed = image_claimed,
    .adopt = image_adopt,
    .online = image_online,
    .offline = image_offline,
    .terminate = image_terminate,
    .looks_alive = image_looks_alive,
    .is_alive = image_is_alive,
    .read = image_read,
    .write = image_write,
    .info = image_info,
    .dev = NULL,
};

/*
 * test_volume.c - libclus-volume against a simulated kernel.
 *
 * The fake below implements the clus_volume_sys seam over a small model of
 * the kernel objects the library touches: files (with OFD locks), block
 * devices (loop binding, read-only flag, O_EXCL holder, open count), a file
 * system per image or disk (type, a few files, shutdown), mounts (with busy
 * files and lazy unmounts), /proc/self/mountinfo and the sysfs loop
 * attributes. Every seam call counts, and any numbered call can be made to
 * fail with a chosen errno. That lets the tests fail each system call of
 * online, offline and terminate in turn and check that the volume is left in
 * a defined, reported state with nothing half-done - without root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "status.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* ioctl numbers as the library uses them (linux/fs.h is not includable with
 * sys/mount.h). */
#define T_BLKROSET     _IO(0x12, 93)
#define T_BLKROGET     _IO(0x12, 94)
#define T_BLKFLSBUF    _IO(0x12, 97)
#define T_BLKGETSIZE64 _IOR(0x12, 114, size_t)
#define T_FS_SHUTDOWN  _IOR('X', 125, uint32_t)

/* ======================================================================
 * The simulated kernel
 * ====================================================================== */

#define FK_NODES    16
#define FK_DEVS     8
#define FK_MOUNTS   8
#define FK_FDS      64
#define FK_FD_BASE  1000
#define FK_FILES    6
#define FK_DATA     256
#define FK_FOREIGN  (-2) /* held by another process */
#define FK_ROOT_DEV makedev(254, 1)

struct fk_file {
    bool used;
    char name[64];
    char data[FK_DATA];
    size_t size;
};

/* A file system: lives with an image file (loop) or a disk (block). */
struct fk_fs {
    char type[16]; /* "" = none */
    struct fk_file files[FK_FILES];
};

struct fk_node {
    bool used;
    bool dir;
    char path[128];
    ino_t ino;
    bool deleted;
    char data[FK_DATA]; /* contents of small files (marks, image backend) */
    size_t size;
    off_t stat_size; /* what stat reports */
    int lock;        /* fd holding the OFD write lock, -1, FK_FOREIGN */
    struct fk_fs fs;
};

struct fk_dev {
    char name[16];
    dev_t rdev;
    bool loop;
    int bound; /* loop: backing node, -1 */
    bool autoclear;
    int ro;
    int excl; /* fd holding O_EXCL, -1, FK_FOREIGN */
    int opens;
    char sysfs[64];
    struct fk_fs own_fs; /* block devices */
    int busy;            /* files open on its mounted file system */
    bool shutdown;
    bool lazy; /* lazily unmounted, still busy */
};

struct fk_mount {
    bool used;
    int dev;
    char target[128];
    int order;
};

enum { FD_NODE = 1, FD_DEV, FD_CTL, FD_VIRT, FD_MNTFILE };

struct fk_fd {
    int kind; /* 0 = free */
    int node, dev, file;
    int mount_dev; /* a directory fd opened on a mount point: its device */
    char *virt;
    size_t virt_len;
};

typedef struct fake {
    clus_volume_sys sys; /* first: the library hands us back &sys */
    int calls;
    int fail_at[4];
    int fail_errno;
    char failed_call[32];
    int mounts_done, umounts_done, runs;
    int mkfs_exit;
    bool no_shutdown;    /* the file system has no shutdown ioctl */
    int unmounted_opens; /* files opened under a mount point with nothing mounted */
    struct fk_node nodes[FK_NODES];
    struct fk_dev devs[FK_DEVS];
    int ndevs;
    struct fk_mount mounts[FK_MOUNTS];
    int mount_order;
    struct fk_fd fds[FK_FDS];
    ino_t next_ino;
} fake;

static fake *fk_of(const clus_volume_sys *s)
{
    return (fake *)(void *)s;
}

/* Counts the call; true (errno set) when this call is to fail. */
static bool fk_fail(fake *f, const char *name)
{
    f->calls++;
    for (int i = 0; i < 4; i++) {
        if (f->fail_at[i] != 0 && f->fail_at[i] == f->calls) {
            snprintf(f->failed_call, sizeof(f->failed_call), "%s", name);
            errno = f->fail_errno;
            return true;
        }
    }
    return false;
}

static struct fk_node *fk_node(fake *f, const char *path)
{
    for (int i = 0; i < FK_NODES; i++) {
        if (f->nodes[i].used && !f->nodes[i].deleted && strcmp(f->nodes[i].path, path) == 0)
            return &f->nodes[i];
    }
    return NULL;
}

static struct fk_node *fk_add_node(fake *f, const char *path, bool dir)
{
    for (int i = 0; i < FK_NODES; i++) {
        struct fk_node *n = &f->nodes[i];
        if (!n->used) {
            memset(n, 0, sizeof(*n));
            n->used = true;
            n->dir = dir;
            snprintf(n->path, sizeof(n->path), "%s", path);
            n->ino = ++f->next_ino;
            n->lock = -1;
            return n;
        }
    }
    fail_msg("fake: out of nodes");
    return NULL;
}

static struct fk_dev *fk_dev_path(fake *f, const char *path)
{
    if (strncmp(path, "/dev/", 5) != 0)
        return NULL;
    for (int i = 0; i < f->ndevs; i++) {
        if (strcmp(f->devs[i].name, path + 5) == 0)
            return &f->devs[i];
    }
    return NULL;
}

static struct fk_fs *fk_dev_fs(fake *f, struct fk_dev *d)
{
    if (!d->loop)
        return &d->own_fs;
    return d->bound >= 0 ? &f->nodes[d->bound].fs : NULL;
}

static int fk_mount_top(fake *f, const char *target)
{
    int top = -1;

    for (int i = 0; i < FK_MOUNTS; i++) {
        if (f->mounts[i].used && strcmp(f->mounts[i].target, target) == 0 &&
            (top < 0 || f->mounts[i].order > f->mounts[top].order))
            top = i;
    }
    return top;
}

static bool fk_dev_mounted(fake *f, int dev)
{
    for (int i = 0; i < FK_MOUNTS; i++) {
        if (f->mounts[i].used && f->mounts[i].dev == dev)
            return true;
    }
    return false;
}

static int fk_dev_index(fake *f, struct fk_dev *d)
{
    return (int)(d - f->devs);
}

static void fk_unbind(struct fk_dev *d)
{
    d->bound = -1;
    d->autoclear = false;
    d->ro = 0;
}

/* A loop device with autoclear goes when its last user goes. */
static void fk_maybe_autoclear(fake *f, struct fk_dev *d)
{
    if (d->loop && d->bound >= 0 && d->autoclear && d->opens == 0 &&
        !fk_dev_mounted(f, fk_dev_index(f, d)) && !d->lazy)
        fk_unbind(d);
}

static int fk_alloc_fd(fake *f)
{
    for (int i = 0; i < FK_FDS; i++) {
        if (f->fds[i].kind == 0) {
            memset(&f->fds[i], 0, sizeof(f->fds[i]));
            f->fds[i].node = f->fds[i].dev = f->fds[i].file = f->fds[i].mount_dev = -1;
            return i;
        }
    }
    errno = EMFILE;
    return -1;
}

static struct fk_fd *fk_fd(fake *f, int fd)
{
    int i = fd - FK_FD_BASE;

    if (i < 0 || i >= FK_FDS || f->fds[i].kind == 0)
        return NULL;
    return &f->fds[i];
}

static int fk_open_fds(fake *f)
{
    int n = 0;

    for (int i = 0; i < FK_FDS; i++)
        n += f->fds[i].kind != 0;
    return n;
}

/* ---- virtual files ---- */

static char *fk_mountinfo(fake *f)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);

    len += (size_t)snprintf(buf + len, cap - len, "1 0 %u:%u / / rw,relatime - ext4 /dev/vda1 rw\n",
                            major(FK_ROOT_DEV), minor(FK_ROOT_DEV));
    for (int o = 1; o <= f->mount_order; o++) {
        for (int i = 0; i < FK_MOUNTS; i++) {
            struct fk_mount *m = &f->mounts[i];
            struct fk_dev *d;
            struct fk_fs *fs;
            if (!m->used || m->order != o)
                continue;
            d = &f->devs[m->dev];
            fs = fk_dev_fs(f, d);
            len += (size_t)snprintf(buf + len, cap - len, "%d 1 %u:%u / %s rw - %s /dev/%s rw\n",
                                    10 + o, major(d->rdev), minor(d->rdev), m->target,
                                    fs != NULL ? fs->type : "?", d->name);
        }
    }
    return buf;
}

/* The text of a virtual file, or NULL (ENOENT). */
static char *fk_virtual(fake *f, const char *path)
{
    char name[16], attr[32];

    if (strcmp(path, "/proc/self/mountinfo") == 0)
        return fk_mountinfo(f);
    if (strcmp(path, "/proc/filesystems") == 0)
        return strdup("nodev\tproc\n\text4\n\txfs\n");
    if (sscanf(path, "/sys/block/%15[^/]/loop/%31s", name, attr) == 2) {
        for (int i = 0; i < f->ndevs; i++) {
            struct fk_dev *d = &f->devs[i];
            char text[160];
            if (!d->loop || strcmp(d->name, name) != 0 || d->bound < 0)
                continue;
            if (strcmp(attr, "backing_file") == 0)
                snprintf(text, sizeof(text), "%s%s\n", f->nodes[d->bound].path,
                         f->nodes[d->bound].deleted ? " (deleted)" : "");
            else if (strcmp(attr, "autoclear") == 0)
                snprintf(text, sizeof(text), "%d\n", d->autoclear ? 1 : 0);
            else
                return NULL;
            return strdup(text);
        }
    }
    return NULL;
}

/* ---- the seam ---- */

static int fk_open_dev(fake *f, int slot, struct fk_dev *d, int flags)
{
    if ((flags & O_EXCL) && (d->excl != -1 || fk_dev_mounted(f, fk_dev_index(f, d)) || d->lazy)) {
        errno = EBUSY;
        return -1;
    }
    f->fds[slot].kind = FD_DEV;
    f->fds[slot].dev = fk_dev_index(f, d);
    d->opens++;
    if (flags & O_EXCL)
        d->excl = FK_FD_BASE + slot;
    return FK_FD_BASE + slot;
}

static int fk_sys_open(const clus_volume_sys *s, const char *path, int flags, mode_t mode)
{
    fake *f = fk_of(s);
    struct fk_dev *d;
    struct fk_node *n;
    char *virt;
    int slot;

    if (fk_fail(f, "open"))
        return -1;
    slot = fk_alloc_fd(f);
    if (slot < 0)
        return -1;
    if (strcmp(path, "/dev/loop-control") == 0) {
        f->fds[slot].kind = FD_CTL;
        return FK_FD_BASE + slot;
    }
    if ((d = fk_dev_path(f, path)) != NULL)
        return fk_open_dev(f, slot, d, flags);
    if ((virt = fk_virtual(f, path)) != NULL) {
        f->fds[slot].kind = FD_VIRT;
        f->fds[slot].virt = virt;
        f->fds[slot].virt_len = strlen(virt);
        return FK_FD_BASE + slot;
    }
    n = fk_node(f, path);
    if (n == NULL && (flags & O_CREAT)) {
        char parent[128], *slash;
        snprintf(parent, sizeof(parent), "%s", path);
        slash = strrchr(parent, '/');
        if (slash != NULL)
            *(slash == parent ? slash + 1 : slash) = '\0';
        if (fk_node(f, parent) == NULL || !fk_node(f, parent)->dir) {
            errno = ENOENT;
            return -1;
        }
        n = fk_add_node(f, path, false);
    }
    if (n == NULL) {
        errno = ENOENT;
        return -1;
    }
    if (n->dir && (flags & O_ACCMODE) != O_RDONLY) {
        errno = EISDIR;
        return -1;
    }
    if (!n->dir && (flags & O_TRUNC))
        n->size = 0;
    f->fds[slot].kind = FD_NODE;
    f->fds[slot].node = (int)(n - f->nodes);
    if (n->dir) {
        int top = fk_mount_top(f, path);
        f->fds[slot].mount_dev = top >= 0 ? f->mounts[top].dev : -1;
    }
    return FK_FD_BASE + slot;
}

static int fk_sys_open_beneath(const clus_volume_sys *s, const char *root, const char *rel,
                               int flags, mode_t mode)
{
    fake *f = fk_of(s);
    struct fk_dev *d;
    struct fk_fs *fs;
    int top, slot, file = -1;

    if (fk_fail(f, "open_beneath"))
        return -1;
    top = fk_mount_top(f, root);
    if (top < 0) {
        f->unmounted_opens++;
        errno = ENOENT;
        return -1;
    }
    d = &f->devs[f->mounts[top].dev];
    fs = fk_dev_fs(f, d);
    if (d->shutdown) {
        errno = EIO;
        return -1;
    }
    for (int i = 0; i < FK_FILES; i++) {
        if (fs->files[i].used && strcmp(fs->files[i].name, rel) == 0)
            file = i;
    }
    for (int i = 0; file < 0 && (flags & O_CREAT) && i < FK_FILES; i++) {
        if (!fs->files[i].used) {
            memset(&fs->files[i], 0, sizeof(fs->files[i]));
            fs->files[i].used = true;
            snprintf(fs->files[i].name, sizeof(fs->files[i].name), "%s", rel);
            file = i;
        }
    }
    if (file < 0) {
        errno = (flags & O_CREAT) ? ENOSPC : ENOENT;
        return -1;
    }
    if (flags & O_TRUNC)
        fs->files[file].size = 0;
    slot = fk_alloc_fd(f);
    if (slot < 0)
        return -1;
    f->fds[slot].kind = FD_MNTFILE;
    f->fds[slot].dev = f->mounts[top].dev;
    f->fds[slot].file = file;
    d->busy++;
    return FK_FD_BASE + slot;
}

static void fk_release(fake *f, struct fk_fd *x, int fd)
{
    if (x->kind == FD_DEV) {
        struct fk_dev *d = &f->devs[x->dev];
        d->opens--;
        if (d->excl == fd)
            d->excl = -1;
        fk_maybe_autoclear(f, d);
    } else if (x->kind == FD_NODE) {
        if (f->nodes[x->node].lock == fd)
            f->nodes[x->node].lock = -1;
    } else if (x->kind == FD_MNTFILE) {
        struct fk_dev *d = &f->devs[x->dev];
        if (--d->busy == 0 && d->lazy) {
            d->lazy = false;
            fk_maybe_autoclear(f, d);
        }
    }
    free(x->virt);
    memset(x, 0, sizeof(*x));
}

static int fk_sys_close(const clus_volume_sys *s, int fd)
{
    fake *f = fk_of(s);
    bool failed = fk_fail(f, "close");
    struct fk_fd *x = fk_fd(f, fd);

    if (x == NULL) {
        errno = EBADF;
        return -1;
    }
    fk_release(f, x, fd); /* like Linux: the descriptor is gone even on error */
    if (failed) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static int fk_loop_bind(fake *f, struct fk_dev *d, int backing_fd, uint32_t flags)
{
    struct fk_fd *b = fk_fd(f, backing_fd);

    if (!d->loop) {
        errno = ENOTTY;
        return -1;
    }
    if (d->bound >= 0) {
        errno = EBUSY;
        return -1;
    }
    if (b == NULL || b->kind != FD_NODE || f->nodes[b->node].dir) {
        errno = EBADF;
        return -1;
    }
    d->bound = b->node;
    d->autoclear = (flags & LO_FLAGS_AUTOCLEAR) != 0;
    d->ro = (flags & LO_FLAGS_READ_ONLY) != 0;
    return 0;
}

static int fk_loop_ioctl(fake *f, struct fk_dev *d, unsigned long req, void *arg)
{
    if (req == LOOP_CONFIGURE) {
        struct loop_config *cfg = arg;
        return fk_loop_bind(f, d, (int)cfg->fd, cfg->info.lo_flags);
    }
    if (req == LOOP_SET_FD)
        return fk_loop_bind(f, d, (int)(intptr_t)arg, 0);
    if (d->bound < 0) {
        errno = ENXIO;
        return -1;
    }
    if (req == LOOP_CLR_FD) {
        if (d->opens > 1 || fk_dev_mounted(f, fk_dev_index(f, d)) || d->lazy)
            d->autoclear = true; /* deferred to the last close */
        else
            fk_unbind(d);
        return 0;
    }
    if (req == LOOP_GET_STATUS64) {
        struct loop_info64 *info = arg;
        dev_t root = FK_ROOT_DEV;
        memset(info, 0, sizeof(*info));
        info->lo_device =
            (minor(root) & 0xffu) | (major(root) << 8) | ((minor(root) & ~0xffu) << 12);
        info->lo_inode = f->nodes[d->bound].ino;
        info->lo_flags = d->autoclear ? LO_FLAGS_AUTOCLEAR : 0;
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

static int fk_dev_ioctl(fake *f, struct fk_dev *d, unsigned long req, void *arg)
{
    switch (req) {
    case T_BLKROSET:
        d->ro = *(int *)arg;
        return 0;
    case T_BLKROGET:
        *(int *)arg = d->ro;
        return 0;
    case T_BLKFLSBUF:
        return 0;
    case T_BLKGETSIZE64:
        *(uint64_t *)arg = (d->loop && d->bound < 0) ? 0 : 64u << 20;
        return 0;
    default:
        return fk_loop_ioctl(f, d, req, arg);
    }
}

static int fk_sys_ioctl(const clus_volume_sys *s, int fd, unsigned long req, void *arg)
{
    fake *f = fk_of(s);
    struct fk_fd *x;

    if (fk_fail(f, "ioctl"))
        return -1;
    if ((x = fk_fd(f, fd)) == NULL) {
        errno = EBADF;
        return -1;
    }
    if (x->kind == FD_CTL && req == LOOP_CTL_GET_FREE) {
        for (int i = 0; i < f->ndevs; i++) {
            if (f->devs[i].loop && f->devs[i].bound < 0)
                return atoi(f->devs[i].name + 4);
        }
        errno = ENOSPC;
        return -1;
    }
    if (x->kind == FD_DEV)
        return fk_dev_ioctl(f, &f->devs[x->dev], req, arg);
    if (x->kind == FD_NODE && req == T_FS_SHUTDOWN && x->mount_dev >= 0) {
        if (f->no_shutdown) {
            errno = EOPNOTSUPP;
            return -1;
        }
        f->devs[x->mount_dev].shutdown = true;
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

static int fk_sys_mount(const clus_volume_sys *s, const char *source, const char *target,
                        const char *fstype, unsigned long flags, const char *data)
{
    fake *f = fk_of(s);
    struct fk_dev *d;
    struct fk_fs *fs;
    struct fk_node *t;
    int idx;

    if (fk_fail(f, "mount"))
        return -1;
    if ((d = fk_dev_path(f, source)) == NULL) {
        errno = ENOTBLK;
        return -1;
    }
    idx = fk_dev_index(f, d);
    if ((fs = fk_dev_fs(f, d)) == NULL) {
        errno = ENXIO;
        return -1;
    }
    if (fs->type[0] == '\0' || strcmp(fs->type, fstype) != 0) {
        errno = EINVAL;
        return -1;
    }
    if (d->excl != -1 || fk_dev_mounted(f, idx) || d->lazy) {
        errno = EBUSY;
        return -1;
    }
    if (d->ro && !(flags & MS_RDONLY)) {
        errno = EACCES;
        return -1;
    }
    if ((t = fk_node(f, target)) == NULL || !t->dir) {
        errno = ENOENT;
        return -1;
    }
    for (int i = 0; i < FK_MOUNTS; i++) {
        if (!f->mounts[i].used) {
            f->mounts[i].used = true;
            f->mounts[i].dev = idx;
            f->mounts[i].order = ++f->mount_order;
            snprintf(f->mounts[i].target, sizeof(f->mounts[i].target), "%s", target);
            d->shutdown = false;
            f->mounts_done++;
            return 0;
        }
    }
    errno = ENOMEM;
    return -1;
}

static int fk_sys_umount2(const clus_volume_sys *s, const char *target, int flags)
{
    fake *f = fk_of(s);
    struct fk_dev *d;
    int top;

    if (fk_fail(f, "umount2"))
        return -1;
    top = fk_mount_top(f, target);
    if (top < 0) {
        errno = EINVAL;
        return -1;
    }
    d = &f->devs[f->mounts[top].dev];
    if (!(flags & MNT_DETACH) && d->busy > 0) {
        errno = EBUSY;
        return -1;
    }
    f->mounts[top].used = false;
    d->lazy = d->busy > 0;
    f->umounts_done++;
    return 0;
}

static int fk_sys_syncfs(const clus_volume_sys *s, int fd)
{
    fake *f = fk_of(s);

    if (fk_fail(f, "syncfs"))
        return -1;
    return fk_fd(f, fd) != NULL ? 0 : (errno = EBADF, -1);
}

static int fk_sys_fsync(const clus_volume_sys *s, int fd)
{
    fake *f = fk_of(s);
    struct fk_fd *x;

    if (fk_fail(f, "fsync"))
        return -1;
    if ((x = fk_fd(f, fd)) == NULL) {
        errno = EBADF;
        return -1;
    }
    if (x->kind == FD_MNTFILE && f->devs[x->dev].shutdown) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* The bytes behind a descriptor: a small file, or NULL for devices. */
static char *fk_data(fake *f, struct fk_fd *x, size_t **size)
{
    if (x->kind == FD_NODE && !f->nodes[x->node].dir) {
        *size = &f->nodes[x->node].size;
        return f->nodes[x->node].data;
    }
    if (x->kind == FD_MNTFILE) {
        struct fk_file *file = &fk_dev_fs(f, &f->devs[x->dev])->files[x->file];
        *size = &file->size;
        return file->data;
    }
    return NULL;
}

static ssize_t fk_sys_pread(const clus_volume_sys *s, int fd, void *buf, size_t count, off_t off)
{
    fake *f = fk_of(s);
    struct fk_fd *x;
    size_t *size;
    char *data;

    if (fk_fail(f, "pread"))
        return -1;
    if ((x = fk_fd(f, fd)) == NULL) {
        errno = EBADF;
        return -1;
    }
    if (x->kind == FD_VIRT) {
        size_t n = (size_t)off >= x->virt_len ? 0 : x->virt_len - (size_t)off;
        n = n < count ? n : count;
        memcpy(buf, x->virt + off, n);
        return (ssize_t)n;
    }
    if (x->kind == FD_DEV) {
        struct fk_dev *d = &f->devs[x->dev];
        if (d->loop && d->bound < 0)
            return 0;
        memset(buf, 0, count);
        return (ssize_t)count;
    }
    if (x->kind == FD_MNTFILE && f->devs[x->dev].shutdown) {
        errno = EIO;
        return -1;
    }
    if ((data = fk_data(f, x, &size)) == NULL) {
        errno = EISDIR;
        return -1;
    }
    if ((size_t)off >= *size)
        return 0;
    count = count < *size - (size_t)off ? count : *size - (size_t)off;
    memcpy(buf, data + off, count);
    return (ssize_t)count;
}

static ssize_t fk_sys_pwrite(const clus_volume_sys *s, int fd, const void *buf, size_t count,
                             off_t off)
{
    fake *f = fk_of(s);
    struct fk_fd *x;
    size_t *size;
    char *data;

    if (fk_fail(f, "pwrite"))
        return -1;
    if ((x = fk_fd(f, fd)) == NULL) {
        errno = EBADF;
        return -1;
    }
    if (x->kind == FD_DEV) {
        if (f->devs[x->dev].ro) {
            errno = EPERM;
            return -1;
        }
        return (ssize_t)count;
    }
    if (x->kind == FD_MNTFILE && f->devs[x->dev].shutdown) {
        errno = EIO;
        return -1;
    }
    if ((data = fk_data(f, x, &size)) == NULL) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)off + count > FK_DATA) {
        errno = ENOSPC;
        return -1;
    }
    memcpy(data + off, buf, count);
    if ((size_t)off + count > *size)
        *size = (size_t)off + count;
    return (ssize_t)count;
}

static int fk_sys_fcntl_lock(const clus_volume_sys *s, int fd, int cmd, struct flock *fl)
{
    fake *f = fk_of(s);
    struct fk_fd *x;
    struct fk_node *n;

    if (fk_fail(f, "fcntl_lock"))
        return -1;
    if ((x = fk_fd(f, fd)) == NULL || x->kind != FD_NODE) {
        errno = EBADF;
        return -1;
    }
    n = &f->nodes[x->node];
    if (cmd == F_OFD_GETLK) {
        fl->l_type = (n->lock == -1 || n->lock == fd) ? F_UNLCK : F_WRLCK;
        fl->l_pid = -1;
        return 0;
    }
    if (fl->l_type == F_UNLCK) {
        if (n->lock == fd)
            n->lock = -1;
        return 0;
    }
    if (n->lock != -1 && n->lock != fd) {
        errno = EAGAIN;
        return -1;
    }
    n->lock = fd;
    return 0;
}

static void fk_stat_node(const struct fk_node *n, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_mode = n->dir ? S_IFDIR | 0755 : S_IFREG | 0644;
    st->st_dev = FK_ROOT_DEV;
    st->st_ino = n->ino;
    st->st_nlink = n->deleted ? 0 : 1;
    st->st_size = n->stat_size > 0 ? n->stat_size : (off_t)n->size;
}

static int fk_sys_stat(const clus_volume_sys *s, const char *path, struct stat *st)
{
    fake *f = fk_of(s);
    struct fk_dev *d;
    struct fk_node *n;
    char *virt;
    unsigned maj, min;

    if (fk_fail(f, "stat"))
        return -1;
    memset(st, 0, sizeof(*st));
    if ((d = fk_dev_path(f, path)) != NULL) {
        st->st_mode = S_IFBLK | 0600;
        st->st_rdev = d->rdev;
        return 0;
    }
    if (sscanf(path, "/sys/dev/block/%u:%u", &maj, &min) == 2) {
        for (int i = 0; i < f->ndevs; i++) {
            if (f->devs[i].rdev == makedev(maj, min)) {
                st->st_mode = S_IFDIR | 0755;
                return 0;
            }
        }
    }
    if ((n = fk_node(f, path)) != NULL) {
        fk_stat_node(n, st);
        return 0;
    }
    if ((virt = fk_virtual(f, path)) != NULL) {
        free(virt);
        st->st_mode = S_IFREG | 0444;
        return 0;
    }
    errno = ENOENT;
    return -1;
}

static int fk_sys_fstat(const clus_volume_sys *s, int fd, struct stat *st)
{
    fake *f = fk_of(s);
    struct fk_fd *x;

    if (fk_fail(f, "fstat"))
        return -1;
    if ((x = fk_fd(f, fd)) == NULL) {
        errno = EBADF;
        return -1;
    }
    memset(st, 0, sizeof(*st));
    if (x->kind == FD_NODE) {
        fk_stat_node(&f->nodes[x->node], st);
    } else if (x->kind == FD_DEV) {
        st->st_mode = S_IFBLK | 0600;
        st->st_rdev = f->devs[x->dev].rdev;
    } else {
        st->st_mode = S_IFREG | 0644;
    }
    return 0;
}

static int fk_sys_unlink(const clus_volume_sys *s, const char *path)
{
    fake *f = fk_of(s);
    struct fk_node *n;

    if (fk_fail(f, "unlink"))
        return -1;
    for (int i = 0; i < FK_MOUNTS; i++) {
        size_t len = strlen(f->mounts[i].target);
        if (f->mounts[i].used && strncmp(path, f->mounts[i].target, len) == 0 && path[len] == '/') {
            struct fk_fs *fs = fk_dev_fs(f, &f->devs[f->mounts[i].dev]);
            for (int j = 0; j < FK_FILES; j++) {
                if (fs->files[j].used && strcmp(fs->files[j].name, path + len + 1) == 0) {
                    fs->files[j].used = false;
                    return 0;
                }
            }
        }
    }
    if ((n = fk_node(f, path)) == NULL) {
        errno = ENOENT;
        return -1;
    }
    n->deleted = true;
    return 0;
}

static char *fk_sys_realpath(const clus_volume_sys *s, const char *path, char *resolved)
{
    fake *f = fk_of(s);
    unsigned maj, min;

    if (fk_fail(f, "realpath"))
        return NULL;
    if (sscanf(path, "/sys/dev/block/%u:%u", &maj, &min) == 2) {
        for (int i = 0; i < f->ndevs; i++) {
            if (f->devs[i].rdev == makedev(maj, min)) {
                snprintf(resolved, PATH_MAX, "%s", f->devs[i].sysfs);
                return resolved;
            }
        }
    }
    if (fk_node(f, path) != NULL || fk_dev_path(f, path) != NULL) {
        snprintf(resolved, PATH_MAX, "%s", path);
        return resolved;
    }
    errno = ENOENT;
    return NULL;
}

static int fk_sys_list_dir(const clus_volume_sys *s, const char *path,
                           int (*each)(void *arg, const char *name), void *arg)
{
    fake *f = fk_of(s);

    if (fk_fail(f, "list_dir"))
        return -1;
    if (strcmp(path, "/sys/block") == 0) {
        for (int i = 0; i < f->ndevs; i++) {
            if (each(arg, f->devs[i].name) != 0)
                break;
        }
        return 0;
    }
    if (strcmp(path, "/proc") == 0)
        return 0; /* no other processes to look at */
    errno = ENOENT;
    return -1;
}

static int fk_sys_probe(const clus_volume_sys *s, const char *path, char *fstype, size_t size)
{
    fake *f = fk_of(s);
    struct fk_dev *d;
    struct fk_fs *fs;

    if (fk_fail(f, "probe"))
        return -1;
    if ((d = fk_dev_path(f, path)) == NULL) {
        errno = ENOENT;
        return -1;
    }
    if ((fs = fk_dev_fs(f, d)) == NULL || fs->type[0] == '\0')
        return 0;
    snprintf(fstype, size, "%s", fs->type);
    return 1;
}

static int fk_sys_run(const clus_volume_sys *s, const char *const argv[], char *out,
                      size_t out_size, int *exit_code, const atomic_bool *cancel)
{
    fake *f = fk_of(s);
    struct fk_dev *d;
    int last = 0;

    if (fk_fail(f, "run"))
        return -1;
    f->runs++;
    while (argv[last + 1] != NULL)
        last++;
    d = fk_dev_path(f, argv[last]);
    if (strncmp(argv[0], "mkfs.", 5) != 0 || d == NULL) {
        errno = ENOENT;
        return -1;
    }
    if (f->mkfs_exit != 0 || d->excl != -1) {
        *exit_code = f->mkfs_exit != 0 ? f->mkfs_exit : 1;
        snprintf(out, out_size, "%s: cannot format %s", argv[0], argv[last]);
        return 0;
    }
    snprintf(fk_dev_fs(f, d)->type, sizeof(fk_dev_fs(f, d)->type), "%s", argv[0] + 5);
    *exit_code = 0;
    return 0;
}

static struct fk_dev *fk_add_dev(fake *f, const char *name, unsigned maj, unsigned min,
                                 const char *sysfs)
{
    struct fk_dev *d = &f->devs[f->ndevs++];

    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->rdev = makedev(maj, min);
    d->loop = strncmp(name, "loop", 4) == 0;
    d->bound = -1;
    d->excl = -1;
    snprintf(d->sysfs, sizeof(d->sysfs), "%s", sysfs);
    return d;
}

/*
 * The world every test starts from: directories /mnt/a, /mnt/b, /state; an
 * ext4 image /img (64 MiB), an empty image /img2, a small file /file; loop0-3
 * free; the disk vda with the root partition vda1; a spare disk sdb (ext4).
 */
static void fake_init(fake *f)
{
    struct fk_node *n;

    memset(f, 0, sizeof(*f));
    f->sys = (clus_volume_sys){
        .open = fk_sys_open,
        .open_beneath = fk_sys_open_beneath,
        .close = fk_sys_close,
        .ioctl = fk_sys_ioctl,
        .mount = fk_sys_mount,
        .umount2 = fk_sys_umount2,
        .syncfs = fk_sys_syncfs,
        .fsync = fk_sys_fsync,
        .pread = fk_sys_pread,
        .pwrite = fk_sys_pwrite,
        .fcntl_lock = fk_sys_fcntl_lock,
        .stat = fk_sys_stat,
        .fstat = fk_sys_fstat,
        .unlink = fk_sys_unlink,
        .realpath = fk_sys_realpath,
        .list_dir = fk_sys_list_dir,
        .probe = fk_sys_probe,
        .run = fk_sys_run,
    };
    fk_add_node(f, "/", true);
    fk_add_node(f, "/mnt", true);
    fk_add_node(f, "/mnt/a", true);
    fk_add_node(f, "/mnt/b", true);
    fk_add_node(f, "/state", true);
    n = fk_add_node(f, "/img", false);
    n->stat_size = 64 << 20;
    snprintf(n->fs.type, sizeof(n->fs.type), "ext4");
    n = fk_add_node(f, "/img2", false);
    n->stat_size = 64 << 20;
    fk_add_node(f, "/file", false)->stat_size = 10;
    for (int i = 0; i < 4; i++) {
        char name[16], sysfs[64];
        snprintf(name, sizeof(name), "loop%d", i);
        snprintf(sysfs, sizeof(sysfs), "/sys/devices/virtual/block/loop%d", i);
        fk_add_dev(f, name, 7, (unsigned)i, sysfs);
    }
    fk_add_dev(f, "vda", 254, 0, "/sys/devices/pci0000:00/virtio1/block/vda");
    fk_add_dev(f, "vda1", 254, 1, "/sys/devices/pci0000:00/virtio1/block/vda/vda1");
    snprintf(fk_add_dev(f, "sdb", 8, 16, "/sys/devices/pci0000:00/sdb")->own_fs.type, 16, "ext4");
}

static void fake_free(fake *f)
{
    for (int i = 0; i < FK_FDS; i++)
        free(f->fds[i].virt);
}

/* ---- what the tests look at ---- */

static struct fk_dev *dev_named(fake *f, const char *name)
{
    for (int i = 0; i < f->ndevs; i++) {
        if (strcmp(f->devs[i].name, name) == 0)
            return &f->devs[i];
    }
    return NULL;
}

static int loops_bound(fake *f)
{
    int n = 0;

    for (int i = 0; i < f->ndevs; i++)
        n += f->devs[i].loop && f->devs[i].bound >= 0;
    return n;
}

static int mounts_on(fake *f, const char *target)
{
    int n = 0;

    for (int i = 0; i < FK_MOUNTS; i++)
        n += f->mounts[i].used && strcmp(f->mounts[i].target, target) == 0;
    return n;
}

static bool mark_exists(fake *f)
{
    return fk_node(f, "/state/volume.offline") != NULL;
}

/* A comparable picture of everything the library may change. */
struct snapshot {
    struct {
        int bound, autoclear, ro, held, opens;
        char fstype[16];
    } dev[FK_DEVS];
    struct {
        int dev;
        char target[128];
    } mounts[FK_MOUNTS];
    int locks[FK_NODES]; /* 0 free, 1 held here, 2 foreign */
    int open_fds;
    bool mark;
};

static void snap(fake *f, struct snapshot *s)
{
    int m = 0;

    memset(s, 0, sizeof(*s));
    for (int i = 0; i < f->ndevs; i++) {
        struct fk_fs *fs = fk_dev_fs(f, &f->devs[i]);
        s->dev[i].bound = f->devs[i].bound;
        s->dev[i].autoclear = f->devs[i].autoclear;
        s->dev[i].ro = f->devs[i].ro;
        s->dev[i].held = f->devs[i].excl == -1 ? 0 : f->devs[i].excl == FK_FOREIGN ? 2 : 1;
        s->dev[i].opens = f->devs[i].opens;
        snprintf(s->dev[i].fstype, sizeof(s->dev[i].fstype), "%s", fs != NULL ? fs->type : "-");
    }
    for (int o = 1; o <= f->mount_order; o++) {
        for (int i = 0; i < FK_MOUNTS; i++) {
            if (f->mounts[i].used && f->mounts[i].order == o) {
                s->mounts[m].dev = f->mounts[i].dev;
                snprintf(s->mounts[m].target, sizeof(s->mounts[m].target), "%s",
                         f->mounts[i].target);
                m++;
            }
        }
    }
    for (int i = 0; i < FK_NODES; i++) {
        if (f->nodes[i].used && !f->nodes[i].deleted)
            s->locks[i] = f->nodes[i].lock == -1 ? 0 : f->nodes[i].lock == FK_FOREIGN ? 2 : 1;
    }
    s->open_fds = fk_open_fds(f);
    s->mark = mark_exists(f);
}

static void assert_same(fake *f, const struct snapshot *before, int k)
{
    struct snapshot after;

    snap(f, &after);
    for (int i = 0; i < f->ndevs; i++) {
        if (memcmp(&before->dev[i], &after.dev[i], sizeof(after.dev[i])) != 0)
            fail_msg("call %d (%s) failed: %s changed (bound %d->%d ro %d->%d held %d->%d "
                     "opens %d->%d autoclear %d->%d fs %s->%s)",
                     k, f->failed_call, f->devs[i].name, before->dev[i].bound, after.dev[i].bound,
                     before->dev[i].ro, after.dev[i].ro, before->dev[i].held, after.dev[i].held,
                     before->dev[i].opens, after.dev[i].opens, before->dev[i].autoclear,
                     after.dev[i].autoclear, before->dev[i].fstype, after.dev[i].fstype);
    }
    if (memcmp(before->mounts, after.mounts, sizeof(after.mounts)) != 0)
        fail_msg("call %d (%s) failed: the mounts changed", k, f->failed_call);
    if (memcmp(before->locks, after.locks, sizeof(after.locks)) != 0)
        fail_msg("call %d (%s) failed: a lock changed", k, f->failed_call);
    if (before->open_fds != after.open_fds)
        fail_msg("call %d (%s) failed: %d descriptors open, %d before", k, f->failed_call,
                 after.open_fds, before->open_fds);
    if (before->mark != after.mark)
        fail_msg("call %d (%s) failed: the offline mark changed", k, f->failed_call);
}

/* ======================================================================
 * Helpers
 * ====================================================================== */

static char msg[1024];

static clus_volume_config loop_cfg(void)
{
    return (clus_volume_config){
        .backend = "loop", .image = "/img", .mountpoint = "/mnt/a", .state_dir = "/state"};
}

static clus_volume *open_ok(fake *f, const clus_volume_config *cfg)
{
    clus_volume *v = NULL;
    uint32_t s = clus_volume_open(cfg, &f->sys, &v, msg, sizeof(msg));

    if (s != CLUS_OK)
        fail_msg("open failed: %u %s", s, msg);
    return v;
}

static void online_ok(clus_volume *v)
{
    uint32_t s = clus_volume_online(v, msg, sizeof(msg));

    if (s != CLUS_OK)
        fail_msg("online failed: %u %s", s, msg);
}

static void offline_ok(clus_volume *v)
{
    uint32_t s = clus_volume_offline(v, msg, sizeof(msg));

    if (s != CLUS_OK)
        fail_msg("offline failed: %u %s", s, msg);
}

/* Online, mounted, writable, claimed, no hold, no mark. */
static void assert_online_state(fake *f, clus_volume *v, const char *devname, int k)
{
    struct fk_dev *d = dev_named(f, devname);

    if (clus_volume_is_offline(v))
        fail_msg("call %d (%s): online reported but the volume is offline", k, f->failed_call);
    assert_int_equal(mounts_on(f, "/mnt/a"), 1);
    assert_int_equal(d->ro, 0);
    assert_int_equal(d->excl, -1);
    assert_false(mark_exists(f));
    if (d->loop)
        assert_true(d->bound >= 0 && f->nodes[d->bound].lock >= FK_FD_BASE);
}

/* Offline: unmounted, read-only, held, marked, claim released (loop). */
static void assert_offline_state(fake *f, clus_volume *v, const char *devname)
{
    struct fk_dev *d = dev_named(f, devname);

    assert_true(clus_volume_is_offline(v));
    assert_int_equal(mounts_on(f, "/mnt/a"), 0);
    assert_int_equal(d->ro, 1);
    assert_true(d->excl >= FK_FD_BASE);
    assert_true(mark_exists(f));
    if (d->loop)
        assert_int_equal(f->nodes[d->bound].lock, -1);
}

/* ======================================================================
 * Tests: configuration
 * ====================================================================== */

struct bad_case {
    clus_volume_config cfg;
    uint32_t status;
    const char *words; /* expected in the message */
};

static void test_bad_input(void **state)
{
    static const struct bad_case cases[] = {
        {{.backend = "nfs", .image = "/img", .mountpoint = "/mnt/a"}, 87, "unknown backend"},
        {{.image = "/img", .mountpoint = "/mnt/a"}, 87, "backend parameter is required"},
        {{.backend = "loop", .image = "/nope", .mountpoint = "/mnt/a"}, 2, "does not exist"},
        {{.backend = "loop", .mountpoint = "/mnt/a"}, 87, "needs the image"},
        {{.backend = "loop", .image = "img", .mountpoint = "/mnt/a"}, 87, "absolute"},
        {{.backend = "loop", .image = "/mnt/../img", .mountpoint = "/mnt/a"}, 87, ".."},
        {{.backend = "loop", .image = "/mnt/a", .mountpoint = "/mnt/b"}, 87, "not a regular file"},
        {{.backend = "loop", .image = "/file", .mountpoint = "/mnt/a"}, 87, "too small"},
        {{.backend = "loop", .image = "/img", .mountpoint = "mnt/a"}, 87, "absolute"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/a/.."}, 87, ".."},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/zz"}, 2, "does not exist"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/file"}, 87, "not a directory"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/"}, 87, "root directory"},
        {{.backend = "loop", .image = "/img"}, 87, "mountpoint parameter is required"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/a", .fstype = "zfs9"},
         87,
         "unknown file system type"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/a", .fstype = "Ext4;"},
         87,
         "unknown file system type"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/a", .mkfs = "yes"},
         87,
         "mkfs needs fstype"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/a", .mkfs = "maybe"},
         87,
         "true or false"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/a", .mount_options = "bind"},
         87,
         "not allowed"},
        {{.backend = "loop", .image = "/img", .mountpoint = "/mnt/a", .mount_options = "a b"},
         87,
         "invalid characters"},
        {{.backend = "loop", .image = "/img", .device = "/dev/sdb", .mountpoint = "/mnt/a"},
         87,
         "takes image, not device"},
        {{.backend = "block", .device = "/file", .mountpoint = "/mnt/a"}, 87, "not a block device"},
        {{.backend = "block", .device = "/dev/nope", .mountpoint = "/mnt/a"}, 2, "does not exist"},
        {{.backend = "block", .mountpoint = "/mnt/a"}, 87, "needs the device"},
        {{.backend = "image", .image = "/img", .mountpoint = "/mnt/a"}, 87, "mounts nothing"},
        {{.backend = "image", .image = "/img", .state_dir = "state"}, 87, "state directory"},
        {{.backend = "image", .image = "/img", .state_dir = "/nostate"}, 2, "state directory"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake f;
        struct snapshot before;
        clus_volume *v = NULL;
        uint32_t s;

        fake_init(&f);
        snap(&f, &before);
        s = clus_volume_open(&cases[i].cfg, &f.sys, &v, msg, sizeof(msg));
        if (s != cases[i].status || strstr(msg, cases[i].words) == NULL)
            fail_msg("case %zu: got %u '%s', want %u '...%s...'", i, s, msg, cases[i].status,
                     cases[i].words);
        assert_null(v);
        assert_int_equal(clus_volume_validate(&cases[i].cfg, &f.sys, msg, sizeof(msg)),
                         cases[i].status);
        assert_same(&f, &before, 0); /* nothing attached, mounted, held or left open */
        assert_int_equal(f.mounts_done + f.runs, 0);
        fake_free(&f);
    }
}

static void test_mountpoint_in_use(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v = NULL;

    fake_init(&f);
    /* sdb is mounted on /mnt/a by someone else */
    f.mounts[0] = (struct fk_mount){.used = true, .dev = 6, .order = ++f.mount_order};
    snprintf(f.mounts[0].target, sizeof(f.mounts[0].target), "/mnt/a");
    assert_int_equal(clus_volume_open(&cfg, &f.sys, &v, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_non_null(strstr(msg, "already in use"));
    assert_int_equal(loops_bound(&f), 0);
    fake_free(&f);
}

static void test_system_volume_refused(void **state)
{
    static const char *const devices[] = {"/dev/vda1", "/dev/vda"};

    for (size_t i = 0; i < 2; i++) {
        fake f;
        clus_volume_config cfg = {.backend = "block", .device = devices[i], .mountpoint = "/mnt/a"};
        clus_volume *v = NULL;

        fake_init(&f);
        assert_int_equal(clus_volume_open(&cfg, &f.sys, &v, msg, sizeof(msg)),
                         CLUS_E_ACCESS_DENIED);
        assert_non_null(strstr(msg, "system volume /"));
        assert_int_equal(clus_volume_validate(&cfg, &f.sys, msg, sizeof(msg)),
                         CLUS_E_ACCESS_DENIED);
        assert_int_equal(fk_open_fds(&f), 0);
        fake_free(&f);
    }
}

/* ======================================================================
 * Tests: the normal life of a loop volume
 * ====================================================================== */

static void test_loop_cycle(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;
    clus_volume_info info;
    char buf[32] = "";
    size_t n = 0;

    fake_init(&f);
    v = open_ok(&f, &cfg);
    assert_true(clus_volume_is_offline(v));
    assert_int_equal(clus_volume_read(v, "a.txt", 0, buf, 4, &n, msg, sizeof(msg)),
                     CLUS_E_NOT_READY);

    online_ok(v);
    assert_online_state(&f, v, "loop0", 0);
    assert_int_equal(fk_open_fds(&f), 1); /* the claim */
    assert_int_equal(clus_volume_write(v, "a.txt", 0, "data", 4, &n, msg, sizeof(msg)), 0);
    assert_int_equal(n, 4);
    assert_true(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg)));
    clus_volume_get_info(v, &info);
    assert_string_equal(info.loop_device, "/dev/loop0");
    assert_string_equal(info.fstype, "ext4");
    assert_true(info.online && info.mounted && info.claimed);
    assert_int_equal(info.read_only, 0);

    offline_ok(v);
    assert_offline_state(&f, v, "loop0");
    assert_int_equal(clus_volume_read(v, "a.txt", 0, buf, 4, &n, msg, sizeof(msg)),
                     CLUS_E_NOT_READY);
    assert_int_equal(clus_volume_write(v, "a.txt", 0, "xx", 2, &n, msg, sizeof(msg)),
                     CLUS_E_NOT_READY);
    assert_false(clus_volume_is_alive(v, msg, sizeof(msg)));
    assert_int_equal(mounts_on(&f, "/mnt/a"), 0); /* an offline volume is never remounted */
    clus_volume_get_info(v, &info);
    assert_true(!info.online && info.offline_mark && info.held && !info.claimed);
    assert_int_equal(info.read_only, 1);

    online_ok(v); /* the held loop device is reused */
    assert_online_state(&f, v, "loop0", 0);
    assert_int_equal(loops_bound(&f), 1);
    assert_int_equal(clus_volume_read(v, "a.txt", 0, buf, sizeof(buf), &n, msg, sizeof(msg)), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "data", 4);

    assert_int_equal(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_int_equal(loops_bound(&f), 0);
    assert_int_equal(mounts_on(&f, "/mnt/a"), 0);
    assert_int_equal(fk_node(&f, "/img")->lock, -1);
    clus_volume_close(v);
    assert_int_equal(fk_open_fds(&f), 0);
    fake_free(&f);
}

static void test_offline_twice_and_mark_without_state_dir(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    fake_init(&f);
    cfg.state_dir = NULL;
    v = open_ok(&f, &cfg);
    offline_ok(v); /* offline of an offline volume: fine, nothing to hold */
    online_ok(v);
    offline_ok(v);
    offline_ok(v);
    assert_true(clus_volume_is_offline(v));
    assert_false(mark_exists(&f));
    clus_volume_close(v);
    fake_free(&f);
}

static void test_online_twice_and_remount_on_next_use(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;
    char buf[8];
    size_t n;

    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    online_ok(v);
    assert_int_equal(f.mounts_done, 1);
    assert_int_equal(clus_volume_write(v, "f", 0, "x", 1, &n, msg, sizeof(msg)), 0);

    /* someone unmounts it behind our back */
    assert_int_equal(fk_sys_umount2(&f.sys, "/mnt/a", 0), 0);
    assert_false(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "not mounted"));
    assert_int_equal(clus_volume_read(v, "f", 0, buf, 1, &n, msg, sizeof(msg)), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mounts_on(&f, "/mnt/a"), 1);
    assert_int_equal(f.unmounted_opens, 0);

    assert_int_equal(fk_sys_umount2(&f.sys, "/mnt/a", 0), 0);
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "mounted again"));
    assert_int_equal(mounts_on(&f, "/mnt/a"), 1);
    assert_int_equal(f.mounts_done, 3);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_mkfs_only_when_empty(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    /* an image without a file system and mkfs unset: 87, nothing left */
    fake_init(&f);
    cfg.image = "/img2";
    v = open_ok(&f, &cfg);
    assert_int_equal(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "no file system"));
    assert_int_equal(loops_bound(&f), 0);
    assert_int_equal(fk_node(&f, "/img2")->lock, -1);
    clus_volume_close(v);
    fake_free(&f);

    /* mkfs set: formatted once */
    fake_init(&f);
    cfg.fstype = "ext4";
    cfg.mkfs = "true";
    v = open_ok(&f, &cfg);
    online_ok(v);
    assert_int_equal(f.runs, 1);
    assert_string_equal(fk_node(&f, "/img2")->fs.type, "ext4");
    offline_ok(v);
    online_ok(v);
    assert_int_equal(f.runs, 1); /* it has a file system now */
    clus_volume_close(v);
    fake_free(&f);

    /* mkfs set but the image holds another file system: never formatted */
    fake_init(&f);
    cfg.image = "/img";
    cfg.fstype = "xfs";
    v = open_ok(&f, &cfg);
    assert_int_equal(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "holds ext4, not the configured fstype xfs"));
    assert_int_equal(f.runs, 0);
    assert_int_equal(loops_bound(&f), 0);
    clus_volume_close(v);
    fake_free(&f);

    /* mkfs fails: its output is in the message, nothing left */
    fake_init(&f);
    cfg.image = "/img2";
    cfg.fstype = "ext4";
    f.mkfs_exit = 1;
    v = open_ok(&f, &cfg);
    assert_int_equal(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_GEN_FAILURE);
    assert_non_null(strstr(msg, "mkfs.ext4 /dev/loop0 failed (exit 1)"));
    assert_int_equal(loops_bound(&f), 0);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_umount_busy(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;
    struct snapshot before;

    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    dev_named(&f, "loop0")->busy = 1; /* a process has a file open there */
    snap(&f, &before);
    assert_int_equal(clus_volume_offline(v, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_non_null(strstr(msg, "busy"));
    assert_non_null(strstr(msg, "stays online"));
    assert_same(&f, &before, 0);
    assert_online_state(&f, v, "loop0", 0);
    dev_named(&f, "loop0")->busy = 0;
    offline_ok(v);
    assert_offline_state(&f, v, "loop0");
    clus_volume_close(v);
    fake_free(&f);
}

static void test_two_claimants(void **state)
{
    fake f;
    clus_volume_config a = loop_cfg(), b = loop_cfg();
    clus_volume *va, *vb;
    struct snapshot before;

    fake_init(&f);
    b.mountpoint = "/mnt/b";
    b.state_dir = NULL;
    va = open_ok(&f, &a);
    vb = open_ok(&f, &b);
    assert_int_equal(clus_volume_claim(va, msg, sizeof(msg)), 0);
    assert_int_equal(clus_volume_claim(vb, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    snap(&f, &before);
    assert_int_equal(clus_volume_online(vb, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_non_null(strstr(msg, "claimed by another holder"));
    assert_same(&f, &before, 0);

    online_ok(va);
    assert_int_equal(clus_volume_release(va, msg, sizeof(msg)), CLUS_E_RESOURCE_ONLINE);
    offline_ok(va); /* offline gives the claim up */
    online_ok(vb);
    assert_int_equal(mounts_on(&f, "/mnt/b"), 1);
    assert_int_equal(loops_bound(&f), 2); /* va's offline hold and vb's device */
    /* va cannot come back while vb has it */
    assert_int_equal(clus_volume_online(va, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_true(clus_volume_is_offline(va));
    assert_int_equal(dev_named(&f, "loop0")->ro, 1);
    assert_true(dev_named(&f, "loop0")->excl >= FK_FD_BASE);
    assert_int_equal(mounts_on(&f, "/mnt/a"), 0);
    clus_volume_close(va);
    clus_volume_close(vb);
    fake_free(&f);
}

static void test_foreign_claim_and_mount_elsewhere(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    fake_init(&f);
    v = open_ok(&f, &cfg);
    fk_node(&f, "/img")->lock = FK_FOREIGN;
    assert_int_equal(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_int_equal(loops_bound(&f), 0);
    fk_node(&f, "/img")->lock = -1;

    /* the image is already mounted elsewhere through loop2 (no lock: a
     * killed holder): refused, never mounted twice */
    dev_named(&f, "loop2")->bound = (int)(fk_node(&f, "/img") - f.nodes);
    f.mounts[0] = (struct fk_mount){.used = true, .dev = 2, .order = ++f.mount_order};
    snprintf(f.mounts[0].target, sizeof(f.mounts[0].target), "/mnt/b");
    assert_int_equal(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_non_null(strstr(msg, "already mounted through /dev/loop2 on /mnt/b"));
    assert_int_equal(loops_bound(&f), 1);
    assert_int_equal(fk_node(&f, "/img")->lock, -1);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_adopt(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;
    int img = 0;

    /* nothing mounted: 1168, nothing claimed */
    fake_init(&f);
    v = open_ok(&f, &cfg);
    assert_int_equal(clus_volume_adopt(v, msg, sizeof(msg)), CLUS_E_NOT_FOUND);
    assert_int_equal(fk_node(&f, "/img")->lock, -1);
    clus_volume_close(v);
    fake_free(&f);

    /* a previous agent left loop1 mounted on /mnt/a */
    fake_init(&f);
    img = (int)(fk_node(&f, "/img") - f.nodes);
    dev_named(&f, "loop1")->bound = img;
    f.mounts[0] = (struct fk_mount){.used = true, .dev = 1, .order = ++f.mount_order};
    snprintf(f.mounts[0].target, sizeof(f.mounts[0].target), "/mnt/a");
    v = open_ok(&f, &cfg);
    assert_int_equal(clus_volume_adopt(v, msg, sizeof(msg)), 0);
    assert_non_null(strstr(msg, "adopted"));
    assert_false(clus_volume_is_offline(v));
    assert_int_equal(f.mounts_done, 0);
    assert_int_equal(f.nodes[img].lock != -1, 1);
    assert_true(clus_volume_looks_alive(v, msg, sizeof(msg)));
    offline_ok(v);
    assert_offline_state(&f, v, "loop1");
    clus_volume_close(v);
    fake_free(&f);

    /* terminate before any adoption still stops what the previous agent left */
    fake_init(&f);
    img = (int)(fk_node(&f, "/img") - f.nodes);
    dev_named(&f, "loop1")->bound = img;
    f.mounts[0] = (struct fk_mount){.used = true, .dev = 1, .order = ++f.mount_order};
    snprintf(f.mounts[0].target, sizeof(f.mounts[0].target), "/mnt/a");
    v = open_ok(&f, &cfg);
    assert_int_equal(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_non_null(strstr(msg, "not adopted"));
    assert_int_equal(mounts_on(&f, "/mnt/a"), 0);
    assert_int_equal(loops_bound(&f), 0);
    assert_true(clus_volume_is_offline(v));
    assert_int_equal(fk_node(&f, "/img")->lock, -1);
    clus_volume_close(v);
    fake_free(&f);

    /* plain online adopts as well instead of failing on a busy mount point */
    fake_init(&f);
    img = (int)(fk_node(&f, "/img") - f.nodes);
    dev_named(&f, "loop1")->bound = img;
    f.mounts[0] = (struct fk_mount){.used = true, .dev = 1, .order = ++f.mount_order};
    snprintf(f.mounts[0].target, sizeof(f.mounts[0].target), "/mnt/a");
    v = open_ok(&f, &cfg);
    online_ok(v);
    assert_int_equal(f.mounts_done, 0);
    clus_volume_close(v);
    fake_free(&f);
}

/* Retire (the resource's Close) detaches the offline volume's loop device;
 * an online volume is left alone. */
static void test_retire_detaches_offline(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    (void)state;
    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    clus_volume_retire(v); /* online: nothing */
    assert_int_equal(loops_bound(&f), 1);
    offline_ok(v);
    assert_int_equal(loops_bound(&f), 1); /* offline keeps its hold */
    clus_volume_retire(v);
    assert_int_equal(loops_bound(&f), 0);
    assert_int_equal(dev_named(&f, "loop0")->excl, -1);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_rehold_after_restart(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    offline_ok(v);
    clus_volume_close(v); /* the agent goes away: the hold goes with it */
    assert_int_equal(dev_named(&f, "loop0")->excl, -1);
    assert_int_equal(loops_bound(&f), 1);
    dev_named(&f, "loop0")->ro = 0; /* and someone flipped the flag meanwhile */

    v = open_ok(&f, &cfg); /* the mark is there: hold it again */
    assert_offline_state(&f, v, "loop0");
    online_ok(v);
    assert_online_state(&f, v, "loop0", 0);
    assert_int_equal(loops_bound(&f), 1);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_stale_loop_reused(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    fake_init(&f);
    dev_named(&f, "loop3")->bound = (int)(fk_node(&f, "/img") - f.nodes); /* left by a crash */
    v = open_ok(&f, &cfg);
    online_ok(v);
    assert_int_equal(loops_bound(&f), 1);
    assert_int_equal(mounts_on(&f, "/mnt/a"), 1);
    assert_int_equal(f.mounts[0].dev, 3);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_looks_alive_detects_loss(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    /* the image is deleted */
    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    fk_node(&f, "/img")->deleted = true;
    assert_false(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "deleted"));
    assert_false(clus_volume_is_alive(v, msg, sizeof(msg)));
    clus_volume_close(v);
    fake_free(&f);

    /* the loop device is detached (losetup -d on a mounted device) */
    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    dev_named(&f, "loop0")->autoclear = true;
    assert_false(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "detach"));
    assert_int_equal(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_int_equal(loops_bound(&f), 0);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_terminate_with_open_files(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;

    /* the file system shuts down: files fail, the claim can go */
    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    dev_named(&f, "loop0")->busy = 1;
    assert_int_equal(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_true(dev_named(&f, "loop0")->shutdown);
    assert_int_equal(mounts_on(&f, "/mnt/a"), 0);
    assert_true(dev_named(&f, "loop0")->autoclear); /* detach waits for the last file */
    assert_int_equal(dev_named(&f, "loop0")->ro, 1);
    assert_int_equal(fk_node(&f, "/img")->lock, -1);
    assert_true(clus_volume_is_offline(v));
    dev_named(&f, "loop0")->busy = 0;
    dev_named(&f, "loop0")->lazy = false;
    fk_maybe_autoclear(&f, dev_named(&f, "loop0"));
    assert_int_equal(loops_bound(&f), 0);
    online_ok(v);
    clus_volume_close(v);
    fake_free(&f);

    /* no shutdown ioctl: the claim stays and online waits for the old instance */
    fake_init(&f);
    f.no_shutdown = true;
    v = open_ok(&f, &cfg);
    online_ok(v);
    dev_named(&f, "loop0")->busy = 1;
    assert_int_equal(clus_volume_terminate(v, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_non_null(strstr(msg, "claim is kept"));
    assert_int_equal(fk_node(&f, "/img")->lock != -1, 1);
    assert_int_equal(clus_volume_online(v, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_non_null(strstr(msg, "/dev/loop0 still serves"));
    dev_named(&f, "loop0")->busy = 0;
    dev_named(&f, "loop0")->lazy = false;
    fk_maybe_autoclear(&f, dev_named(&f, "loop0"));
    online_ok(v);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_block_cycle(void **state)
{
    fake f;
    clus_volume_config cfg = {.backend = "block",
                              .device = "/dev/sdb",
                              .mountpoint = "/mnt/a",
                              .state_dir = "/state",
                              .mount_options = "noatime,data=ordered"};
    clus_volume_config other = cfg;
    clus_volume *v, *w;

    fake_init(&f);
    other.mountpoint = "/mnt/b";
    other.state_dir = NULL;
    v = open_ok(&f, &cfg);
    w = open_ok(&f, &other);
    online_ok(v);
    assert_online_state(&f, v, "sdb", 0);
    assert_int_equal(clus_volume_online(w, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_non_null(strstr(msg, "mounted on /mnt/a"));
    offline_ok(v);
    assert_offline_state(&f, v, "sdb");
    /* the offline hold is the claim of a block volume */
    assert_int_equal(clus_volume_online(w, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    online_ok(v);
    assert_int_equal(clus_volume_terminate(v, msg, sizeof(msg)), 0);
    assert_int_equal(mounts_on(&f, "/mnt/a"), 0);
    assert_int_equal(dev_named(&f, "sdb")->ro, 1);
    online_ok(w);
    clus_volume_close(v);
    clus_volume_close(w);
    fake_free(&f);
}

static void test_image_backend(void **state)
{
    fake f;
    clus_volume_config cfg = {.backend = "image", .image = "/img2", .state_dir = "/state"};
    clus_volume_config other = {.backend = "image", .image = "/img2"};
    clus_volume *v, *w;
    char buf[8] = "";
    size_t n;

    fake_init(&f);
    v = open_ok(&f, &cfg);
    w = open_ok(&f, &other);
    assert_int_equal(clus_volume_write(v, NULL, 0, "abc", 3, &n, msg, sizeof(msg)), 21);
    online_ok(v);
    assert_int_equal(clus_volume_online(w, msg, sizeof(msg)), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_int_equal(clus_volume_write(v, NULL, 2, "abc", 3, &n, msg, sizeof(msg)), 0);
    assert_int_equal(clus_volume_write(v, "x", 0, "abc", 3, &n, msg, sizeof(msg)), 87);
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg)));
    offline_ok(v);
    assert_true(mark_exists(&f));
    assert_int_equal(clus_volume_read(v, NULL, 0, buf, 5, &n, msg, sizeof(msg)), 21);
    online_ok(w);
    assert_int_equal(clus_volume_read(w, "", 2, buf, 8, &n, msg, sizeof(msg)), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(clus_volume_adopt(w, msg, sizeof(msg)), 0); /* online already */
    fk_node(&f, "/img2")->deleted = true;
    assert_false(clus_volume_looks_alive(w, msg, sizeof(msg)));
    assert_int_equal(clus_volume_terminate(w, msg, sizeof(msg)), 0);
    assert_true(clus_volume_is_offline(w));
    clus_volume_close(v);
    clus_volume_close(w);
    assert_int_equal(fk_open_fds(&f), 0);
    fake_free(&f);
}

static void test_mount_stacked_over_volume(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;
    int top = -1;

    fake_init(&f);
    v = open_ok(&f, &cfg);
    online_ok(v);
    /* someone mounts sdb over our mount point */
    for (int i = 0; i < FK_MOUNTS && top < 0; i++) {
        if (!f.mounts[i].used)
            top = i;
    }
    f.mounts[top] = (struct fk_mount){.used = true, .dev = 6, .order = ++f.mount_order};
    snprintf(f.mounts[top].target, sizeof(f.mounts[top].target), "/mnt/a");
    assert_false(clus_volume_looks_alive(v, msg, sizeof(msg)));
    assert_int_equal(clus_volume_offline(v, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_non_null(strstr(msg, "mounted over"));
    assert_int_equal(mounts_on(&f, "/mnt/a"), 2); /* the other mount was not touched */
    /* terminate cannot reach it either: the claim stays */
    assert_int_equal(clus_volume_terminate(v, msg, sizeof(msg)), CLUS_E_BUSY);
    assert_int_equal(mounts_on(&f, "/mnt/a"), 2);
    assert_true(fk_node(&f, "/img")->lock >= FK_FD_BASE);
    clus_volume_close(v);
    fake_free(&f);
}

static void test_read_only_volume(void **state)
{
    fake f;
    clus_volume_config cfg = loop_cfg();
    clus_volume *v;
    clus_volume_info info;
    size_t n;

    fake_init(&f);
    cfg.mount_options = "ro,noatime";
    v = open_ok(&f, &cfg);
    online_ok(v);
    assert_int_equal(dev_named(&f, "loop0")->ro, 1);
    assert_int_equal(clus_volume_write(v, "a", 0, "x", 1, &n, msg, sizeof(msg)),
                     CLUS_E_WRITE_PROTECT);
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg))); /* no probe write */
    clus_volume_get_info(v, &info);
    assert_int_equal(info.read_only, 1);
    offline_ok(v);
    online_ok(v);
    clus_volume_close(v);
    fake_free(&f);
}

/* ======================================================================
 * Tests: a failure at every system call
 * ====================================================================== */

/* Brings the volume into the state an operation starts from. */
typedef clus_volume *(*setup_fn)(fake *f);

static clus_volume *setup_never_online(fake *f)
{
    clus_volume_config cfg = loop_cfg();

    return open_ok(f, &cfg);
}

static clus_volume *setup_offline_held(fake *f)
{
    clus_volume_config cfg = loop_cfg();
    clus_volume *v = open_ok(f, &cfg);

    online_ok(v);
    offline_ok(v);
    return v;
}

static clus_volume *setup_mkfs(fake *f)
{
    clus_volume_config cfg = loop_cfg();

    cfg.image = "/img2";
    cfg.fstype = "ext4";
    cfg.mkfs = "1";
    return open_ok(f, &cfg);
}

static clus_volume *setup_block_offline(fake *f)
{
    clus_volume_config cfg = {
        .backend = "block", .device = "/dev/sdb", .mountpoint = "/mnt/a", .state_dir = "/state"};
    clus_volume *v = open_ok(f, &cfg);

    online_ok(v);
    offline_ok(v);
    return v;
}

static clus_volume *setup_online(fake *f)
{
    clus_volume *v = setup_never_online(f);

    online_ok(v);
    return v;
}

static clus_volume *setup_block_online(fake *f)
{
    clus_volume *v = setup_block_offline(f);

    online_ok(v);
    return v;
}

/* How many seam calls op makes from the state setup leaves. */
static int count_calls(setup_fn setup, uint32_t (*op)(clus_volume *, char *, size_t))
{
    fake f;
    clus_volume *v;
    int base;

    fake_init(&f);
    v = setup(&f);
    base = f.calls;
    if (op(v, msg, sizeof(msg)) != CLUS_OK)
        fail_msg("the clean run failed: %s", msg);
    base = f.calls - base;
    clus_volume_close(v);
    fake_free(&f);
    return base;
}

/* Online from setup's state with call k failing: either it succeeded (a
 * failure the library may tolerate, like an unreadable sysfs entry of an
 * unrelated device) and the volume is fully online, or it failed with a
 * message and nothing at all changed. */
static void online_faults(setup_fn setup, const char *dev, int err)
{
    int total = count_calls(setup, clus_volume_online);

    assert_true(total > 10);
    for (int k = 1; k <= total; k++) {
        struct snapshot before;
        fake f;
        clus_volume *v;
        uint32_t s;

        fake_init(&f);
        v = setup(&f);
        snap(&f, &before);
        f.fail_at[0] = f.calls + k;
        f.fail_errno = err;
        s = clus_volume_online(v, msg, sizeof(msg));
        if (getenv("CLUS_TEST_VERBOSE") != NULL)
            print_message("online  call %2d/%d %-12s -> %4u %s\n", k, total, f.failed_call, s, msg);
        if (s == CLUS_OK) {
            assert_online_state(&f, v, dev, k);
        } else {
            if (!clus_volume_is_offline(v))
                fail_msg("call %d (%s) failed, online returned %u but left it online", k,
                         f.failed_call, s);
            if (msg[0] == '\0')
                fail_msg("call %d (%s) failed without a message", k, f.failed_call);
            assert_same(&f, &before, k);
            f.fail_at[0] = 0;
            online_ok(v); /* and it still works afterwards */
        }
        clus_volume_close(v);
        fake_free(&f);
    }
}

static void test_online_faults_fresh(void **state)
{
    online_faults(setup_never_online, "loop0", EIO);
    online_faults(setup_never_online, "loop0", EBUSY);
}

static void test_online_faults_from_offline_hold(void **state)
{
    online_faults(setup_offline_held, "loop0", EIO);
    online_faults(setup_offline_held, "loop0", ENXIO);
}

static void test_online_faults_mkfs(void **state)
{
    online_faults(setup_mkfs, "loop0", EIO);
}

static void test_online_faults_block(void **state)
{
    online_faults(setup_block_offline, "sdb", EIO);
}

/* Offline with call k failing: either fully offline, or an error with a
 * message and the volume exactly as online as before. */
static void offline_faults(setup_fn setup, const char *dev, int err)
{
    int total = count_calls(setup, clus_volume_offline);

    assert_true(total > 5);
    for (int k = 1; k <= total; k++) {
        struct snapshot before;
        fake f;
        clus_volume *v;
        uint32_t s;

        fake_init(&f);
        v = setup(&f);
        snap(&f, &before);
        f.fail_at[0] = f.calls + k;
        f.fail_errno = err;
        s = clus_volume_offline(v, msg, sizeof(msg));
        if (getenv("CLUS_TEST_VERBOSE") != NULL)
            print_message("offline call %2d/%d %-12s -> %4u %s\n", k, total, f.failed_call, s, msg);
        if (s == CLUS_OK) {
            assert_offline_state(&f, v, dev);
        } else {
            if (msg[0] == '\0')
                fail_msg("call %d (%s) failed without a message", k, f.failed_call);
            assert_online_state(&f, v, dev, k);
            assert_same(&f, &before, k);
            f.fail_at[0] = 0;
            offline_ok(v);
            assert_offline_state(&f, v, dev);
        }
        clus_volume_close(v);
        fake_free(&f);
    }
}

static void test_offline_faults(void **state)
{
    offline_faults(setup_online, "loop0", EIO);
    offline_faults(setup_online, "loop0", EBUSY);
    offline_faults(setup_block_online, "sdb", EIO);
}

/* When even the undo fails the state is still defined and reported. */
static void test_offline_undo_fails(void **state)
{
    fake f;
    clus_volume *v;
    int total = count_calls(setup_online, clus_volume_offline);
    int mark_open = 0, remount;

    /* find the offline's open of the mark file: the last open before the end */
    for (int k = 1; k <= total && mark_open == 0; k++) {
        fake_init(&f);
        v = setup_online(&f);
        f.fail_at[0] = f.calls + k;
        f.fail_errno = EROFS;
        if (clus_volume_offline(v, msg, sizeof(msg)) == CLUS_E_WRITE_PROTECT &&
            strstr(msg, "offline mark") != NULL)
            mark_open = k;
        clus_volume_close(v);
        fake_free(&f);
    }
    assert_true(mark_open > 0);

    fake_init(&f);
    v = setup_online(&f);
    remount = f.calls + mark_open + 3; /* BLKROSET undo, close of the hold, then mount */
    f.fail_at[0] = f.calls + mark_open;
    f.fail_at[1] = remount;
    f.fail_errno = EROFS;
    assert_int_equal(clus_volume_offline(v, msg, sizeof(msg)), CLUS_E_WRITE_PROTECT);
    assert_string_equal(f.failed_call, "mount");
    assert_non_null(strstr(msg, "online but not mounted"));
    assert_false(clus_volume_is_offline(v));
    assert_int_equal(mounts_on(&f, "/mnt/a"), 0);
    assert_int_equal(dev_named(&f, "loop0")->excl, -1);
    f.fail_at[0] = f.fail_at[1] = 0;
    assert_true(clus_volume_is_alive(v, msg, sizeof(msg))); /* mounted again */
    assert_int_equal(mounts_on(&f, "/mnt/a"), 1);
    clus_volume_close(v);
    fake_free(&f);
}

/* Terminate with call k failing: always offline afterwards, and the claim is
 * never given up while an unfenced file system may still be mounted. */
static void terminate_faults(setup_fn setup, int busy)
{
    fake f;
    clus_volume *v;
    int total;

    fake_init(&f);
    v = setup(&f);
    dev_named(&f, "loop0")->busy = busy;
    total = f.calls;
    clus_volume_terminate(v, msg, sizeof(msg));
    total = f.calls - total;
    clus_volume_close(v);
    fake_free(&f);

    for (int k = 1; k <= total; k++) {
        struct fk_dev *d;

        fake_init(&f);
        v = setup(&f);
        d = dev_named(&f, "loop0");
        d->busy = busy;
        f.fail_at[0] = f.calls + k;
        f.fail_errno = EIO;
        clus_volume_terminate(v, msg, sizeof(msg));
        assert_true(clus_volume_is_offline(v));
        if (fk_node(&f, "/img")->lock == -1 && (fk_dev_mounted(&f, 0) || d->lazy) && !d->shutdown)
            fail_msg("call %d (%s) failed: the claim was released while an unfenced file "
                     "system is still in use",
                     k, f.failed_call);
        clus_volume_close(v);
        assert_int_equal(fk_open_fds(&f), 0);
        fake_free(&f);
    }
}

static void test_terminate_faults(void **state)
{
    terminate_faults(setup_online, 0);
    terminate_faults(setup_online, 1);
}

/* The progress callback (the agent's set_status) can stop an online at
 * every step; the volume is then left as it was. */
static int stop_at;

static int progress_stop(void *arg, uint32_t checkpoint, const char *step)
{
    int *seen = arg;

    *seen = (int)checkpoint;
    return (int)checkpoint == stop_at;
}

static void test_online_stopped_at_each_step(void **state)
{
    for (stop_at = 1; stop_at <= 6; stop_at++) {
        fake f;
        struct snapshot before;
        clus_volume *v;
        int seen = 0;
        uint32_t s;

        fake_init(&f);
        v = setup_mkfs(&f);
        clus_volume_set_progress(v, progress_stop, &seen);
        snap(&f, &before);
        s = clus_volume_online(v, msg, sizeof(msg));
        if (stop_at <= 5) {
            assert_int_equal(s, CLUS_E_OPERATION_ABORTED);
            assert_int_equal(seen, stop_at);
            assert_same(&f, &before, stop_at);
        } else {
            assert_int_equal(s, CLUS_OK); /* 5 steps: claim attach probe mkfs mount */
            assert_int_equal(seen, 5);
        }
        clus_volume_close(v);
        fake_free(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_mountpoint_in_use),
        cmocka_unit_test(test_system_volume_refused),
        cmocka_unit_test(test_loop_cycle),
        cmocka_unit_test(test_offline_twice_and_mark_without_state_dir),
        cmocka_unit_test(test_online_twice_and_remount_on_next_use),
        cmocka_unit_test(test_mkfs_only_when_empty),
        cmocka_unit_test(test_umount_busy),
        cmocka_unit_test(test_two_claimants),
        cmocka_unit_test(test_foreign_claim_and_mount_elsewhere),
        cmocka_unit_test(test_adopt),
        cmocka_unit_test(test_rehold_after_restart),
        cmocka_unit_test(test_retire_detaches_offline),
        cmocka_unit_test(test_stale_loop_reused),
        cmocka_unit_test(test_looks_alive_detects_loss),
        cmocka_unit_test(test_terminate_with_open_files),
        cmocka_unit_test(test_block_cycle),
        cmocka_unit_test(test_image_backend),
        cmocka_unit_test(test_mount_stacked_over_volume),
        cmocka_unit_test(test_read_only_volume),
        cmocka_unit_test(test_online_faults_fresh),
        cmocka_unit_test(test_online_faults_from_offline_hold),
        cmocka_unit_test(test_online_faults_mkfs),
        cmocka_unit_test(test_online_faults_block),
        cmocka_unit_test(test_offline_faults),
        cmocka_unit_test(test_offline_undo_fails),
        cmocka_unit_test(test_terminate_faults),
        cmocka_unit_test(test_online_stopped_at_each_step),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

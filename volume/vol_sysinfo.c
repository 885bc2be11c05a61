/*
 * vol_sysinfo.c - facts read from the system: mounts (/proc/self/mountinfo,
 * read through the sys table and parsed by libmount),
 * loop devices bound to an image (/sys/block/loop*), the device behind / and
 * /boot, and who holds a lock (/proc/PID/fdinfo).
 */
#include "vol_internal.h"

#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MOUNTINFO_PATH "/proc/self/mountinfo"
#define MOUNTINFO_MAX  (16u << 20) /* refuse to read more than 16 MiB */

/* Reads a whole file into a malloc'ed, NUL-terminated buffer. */
static int read_all(const clus_volume_sys *sys, const char *path, char **out, size_t max)
{
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    int fd, err;

    if (buf == NULL)
        return -1;
    fd = sys->open(sys, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
        free(buf);
        errno = err;
        return -1;
    }
    for (;;) {
        ssize_t n;

        if (len + 1 >= cap) {
            char *bigger = cap * 2 <= max ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL) {
                free(buf);
                vol_close(sys, &fd);
                errno = ENOMEM;
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        n = sys->pread(sys, fd, buf + len, cap - len - 1, (off_t)len);
        if (n < 0) {
            err = errno;
            free(buf);
            vol_close(sys, &fd);
            errno = err;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    vol_close(sys, &fd);
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int vol_read_text(const clus_volume_sys *sys, const char *path, char *buf, size_t size)
{
    int fd = sys->open(sys, path, O_RDONLY | O_CLOEXEC, 0);
    ssize_t n;
    int err;

    if (fd < 0)
        return -1;
    n = sys->pread(sys, fd, buf, size - 1, 0);
    err = errno;
    vol_close(sys, &fd);
    if (n < 0) {
        errno = err;
        return -1;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

/* One libmount entry into mnt (strings copied; target and source come
 * unescaped). False when out of memory. */
static bool mount_from_fs(struct libmnt_fs *fs, struct vol_mount *mnt)
{
    dev_t devno = mnt_fs_get_devno(fs);
    const char *target = mnt_fs_get_target(fs), *fstype = mnt_fs_get_fstype(fs);
    const char *source = mnt_fs_get_source(fs), *vfs = mnt_fs_get_vfs_options(fs);

    mnt->major = major(devno);
    mnt->minor = minor(devno);
    mnt->target = strdup(target != NULL ? target : "");
    mnt->fstype = strdup(fstype != NULL ? fstype : "");
    mnt->source = strdup(source != NULL ? source : "");
    mnt->read_only = vfs != NULL && mnt_optstr_get_option(vfs, "ro", NULL, NULL) == 0;
    if (mnt->target == NULL || mnt->fstype == NULL || mnt->source == NULL) {
        free(mnt->target);
        free(mnt->fstype);
        free(mnt->source);
        return false;
    }
    return true;
}

/* A line libmount cannot parse (the kernel writes none) is skipped. */
static int mountinfo_bad_line(struct libmnt_table *tb, const char *filename, int line)
{
    (void)tb;
    (void)filename;
    (void)line;
    return 1;
}

/* Parses the mountinfo text with libmount into mt (which must be empty). */
static uint32_t mounts_parse(char *text, struct vol_mounts *mt, vol_msg *m)
{
    struct libmnt_table *tb = mnt_new_table();
    struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
    struct libmnt_fs *fs;
    FILE *stream = text[0] != '\0' ? fmemopen(text, strlen(text), "r") : NULL;
    uint32_t status = CLUS_OK;

    if (tb == NULL || it == NULL || (text[0] != '\0' && stream == NULL)) {
        status = vol_fail(m, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory reading %s", MOUNTINFO_PATH);
        goto out;
    }
    mnt_table_set_parser_errcb(tb, mountinfo_bad_line);
    if (stream != NULL && mnt_table_parse_stream(tb, stream, MOUNTINFO_PATH) != 0) {
        status = vol_fail(m, CLUS_E_GEN_FAILURE, "libmount cannot parse %s", MOUNTINFO_PATH);
        goto out;
    }
    mt->items = calloc((size_t)mnt_table_get_nents(tb) + 1, sizeof(*mt->items));
    if (mt->items == NULL) {
        status = vol_fail(m, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory reading %s", MOUNTINFO_PATH);
        goto out;
    }
    while (mnt_table_next_fs(tb, it, &fs) == 0) {
        if (!mount_from_fs(fs, &mt->items[mt->count])) {
            vol_mounts_free(mt);
            status =
                vol_fail(m, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory reading %s", MOUNTINFO_PATH);
            goto out;
        }
        mt->count++;
    }
out:
    if (stream != NULL)
        fclose(stream);
    mnt_free_iter(it);
    mnt_unref_table(tb);
    return status;
}

uint32_t vol_mounts_load(const clus_volume_sys *sys, struct vol_mounts *mt, vol_msg *m)
{
    char *text = NULL;
    uint32_t status;

    mt->items = NULL;
    mt->count = 0;
    if (read_all(sys, MOUNTINFO_PATH, &text, MOUNTINFO_MAX) < 0)
        return vol_fail_errno(m, errno, "cannot read %s", MOUNTINFO_PATH);
    status = mounts_parse(text, mt, m);
    free(text);
    return status;
}

void vol_mounts_free(struct vol_mounts *mt)
{
    for (size_t i = 0; i < mt->count; i++) {
        free(mt->items[i].target);
        free(mt->items[i].fstype);
        free(mt->items[i].source);
    }
    free(mt->items);
    mt->items = NULL;
    mt->count = 0;
}

const struct vol_mount *vol_mounts_top(const struct vol_mounts *mt, const char *target)
{
    const struct vol_mount *top = NULL;

    for (size_t i = 0; i < mt->count; i++) {
        if (strcmp(mt->items[i].target, target) == 0)
            top = &mt->items[i];
    }
    return top;
}

static bool mount_is_dev(const struct vol_mount *mnt, dev_t rdev)
{
    return rdev != 0 && mnt->major == major(rdev) && mnt->minor == minor(rdev);
}

const struct vol_mount *vol_mounts_find(const struct vol_mounts *mt, dev_t rdev, const char *target)
{
    const struct vol_mount *top = vol_mounts_top(mt, target);

    return top != NULL && mount_is_dev(top, rdev) ? top : NULL;
}

bool vol_mounts_buried(const struct vol_mounts *mt, dev_t rdev, const char *target)
{
    for (size_t i = 0; i < mt->count; i++) {
        if (mount_is_dev(&mt->items[i], rdev) && strcmp(mt->items[i].target, target) == 0)
            return vol_mounts_find(mt, rdev, target) == NULL;
    }
    return false;
}

const struct vol_mount *vol_mounts_any(const struct vol_mounts *mt, dev_t rdev)
{
    for (size_t i = 0; i < mt->count; i++) {
        if (mount_is_dev(&mt->items[i], rdev))
            return &mt->items[i];
    }
    return NULL;
}

/* True when the sysfs node of part is below the one of disk: part is a
 * partition of disk (/sys/devices/.../vda/vda1 below .../vda). */
static bool is_partition_of(const clus_volume_sys *sys, dev_t part, dev_t disk)
{
    char link[64], part_path[PATH_MAX], disk_path[PATH_MAX];
    size_t len;

    snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(part), minor(part));
    if (sys->realpath(sys, link, part_path) == NULL)
        return false;
    snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(disk), minor(disk));
    if (sys->realpath(sys, link, disk_path) == NULL)
        return false;
    len = strlen(disk_path);
    return strncmp(part_path, disk_path, len) == 0 && part_path[len] == '/';
}

/* Does the device mounted on target (or named as its source) equal rdev or
 * live on it? */
static bool backs(const clus_volume_sys *sys, const struct vol_mount *mnt, dev_t rdev)
{
    dev_t candidates[2];
    int n = 0;
    struct stat st;

    if (mnt->major != 0)
        candidates[n++] = makedev(mnt->major, mnt->minor);
    /* btrfs and friends show an anonymous 0:N; their source names the device. */
    if (strncmp(mnt->source, "/dev/", 5) == 0 && sys->stat(sys, mnt->source, &st) == 0 &&
        S_ISBLK(st.st_mode))
        candidates[n++] = st.st_rdev;
    for (int i = 0; i < n; i++) {
        if (candidates[i] == rdev || is_partition_of(sys, candidates[i], rdev))
            return true;
    }
    return false;
}

uint32_t vol_check_not_system(const clus_volume_sys *sys, const struct vol_mounts *mt, dev_t rdev,
                              const char *dev_path, vol_msg *m)
{
    static const char *const system_targets[] = {"/", "/boot", "/boot/efi"};

    if (rdev == 0)
        return CLUS_OK;
    for (size_t i = 0; i < sizeof(system_targets) / sizeof(system_targets[0]); i++) {
        const struct vol_mount *mnt = vol_mounts_top(mt, system_targets[i]);

        if (mnt != NULL && backs(sys, mnt, rdev))
            return vol_fail(m, CLUS_E_ACCESS_DENIED,
                            "refused: %s (%u:%u) backs the system volume %s; clus never "
                            "takes the system or boot volume offline",
                            dev_path, major(rdev), minor(rdev), system_targets[i]);
    }
    return CLUS_OK;
}

/* ---- who holds the OFD lock: /proc/PID/fd + fdinfo ---- */

struct holder_scan {
    const clus_volume_sys *sys;
    dev_t dev;
    ino_t ino;
    long pid;   /* the process being scanned */
    long found; /* the holder, 0 until found */
};

static bool fdinfo_has_ofd_write(const clus_volume_sys *sys, long pid, const char *fd)
{
    char path[96], text[2048];

    snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s", pid, fd);
    if (vol_read_text(sys, path, text, sizeof(text)) < 0)
        return false;
    for (char *line = strstr(text, "lock:"); line != NULL; line = strstr(line + 5, "lock:")) {
        char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);

        if (memmem(line, len, "OFDLCK", 6) != NULL && memmem(line, len, "WRITE", 5) != NULL)
            return true;
    }
    return false;
}

static int scan_fd(void *arg, const char *name)
{
    struct holder_scan *hs = arg;
    char path[96];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/%ld/fd/%s", hs->pid, name);
    if (hs->sys->stat(hs->sys, path, &st) < 0 || st.st_dev != hs->dev || st.st_ino != hs->ino)
        return 0;
    if (fdinfo_has_ofd_write(hs->sys, hs->pid, name)) {
        hs->found = hs->pid;
        return 1;
    }
    return 0;
}

static int scan_pid(void *arg, const char *name)
{
    struct holder_scan *hs = arg;
    char path[64], *end;
    long pid = strtol(name, &end, 10);

    if (*end != '\0' || pid <= 0)
        return 0;
    hs->pid = pid;
    snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
    hs->sys->list_dir(hs->sys, path, scan_fd, hs);
    return hs->found != 0;
}

long vol_find_lock_holder(const clus_volume_sys *sys, dev_t dev, ino_t ino)
{
    struct holder_scan hs = {.sys = sys, .dev = dev, .ino = ino};

    sys->list_dir(sys, "/proc", scan_pid, &hs);
    return hs.found;
}

/* ---- loop devices bound to a file ---- */

struct loop_scan {
    const clus_volume_sys *sys;
    dev_t dev;
    ino_t ino;
    struct vol_loop *out;
    int max;
    int found;
};

/* lo_device is the kernel's huge_encode_dev() of the backing file's st_dev. */
static dev_t decode_huge_dev(uint64_t v)
{
    unsigned int maj = (unsigned int)((v & 0xfff00u) >> 8);
    unsigned int min = (unsigned int)((v & 0xffu) | ((v >> 12) & 0xfff00u));

    return makedev(maj, min);
}

bool vol_loop_backs(uint64_t lo_device, uint64_t lo_inode, dev_t dev, ino_t ino)
{
    return decode_huge_dev(lo_device) == dev && (ino_t)lo_inode == ino;
}

/* Checks one /sys/block entry: a bound loop device whose backing file is ours. */
static int scan_loop(void *arg, const char *name)
{
    struct loop_scan *ls = arg;
    const clus_volume_sys *sys = ls->sys;
    struct loop_info64 info;
    char path[128], backing[PATH_MAX];
    struct stat st;
    char *end;
    long index;
    int fd;

    if (strncmp(name, "loop", 4) != 0)
        return 0;
    index = strtol(name + 4, &end, 10);
    if (*end != '\0' || end == name + 4 || index < 0)
        return 0;
    snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", name);
    if (vol_read_text(sys, path, backing, sizeof(backing)) < 0)
        return 0; /* not bound */
    snprintf(path, sizeof(path), "/dev/%s", name);
    fd = sys->open(sys, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    memset(&info, 0, sizeof(info));
    if (sys->ioctl(sys, fd, LOOP_GET_STATUS64, &info) == 0 && sys->fstat(sys, fd, &st) == 0 &&
        vol_loop_backs(info.lo_device, info.lo_inode, ls->dev, ls->ino)) {
        if (ls->found < ls->max) {
            struct vol_loop *l = &ls->out[ls->found];
            l->index = (int)index;
            snprintf(l->path, sizeof(l->path), "/dev/%s", name);
            l->rdev = st.st_rdev;
            l->autoclear = (info.lo_flags & LO_FLAGS_AUTOCLEAR) != 0;
        }
        ls->found++;
    }
    vol_close(sys, &fd);
    return 0;
}

uint32_t vol_loops_bound(const clus_volume_sys *sys, dev_t dev, ino_t ino, struct vol_loop *out,
                         int max, int *count, vol_msg *m)
{
    struct loop_scan ls = {.sys = sys, .dev = dev, .ino = ino, .out = out, .max = max};

    *count = 0;
    if (sys->list_dir(sys, "/sys/block", scan_loop, &ls) < 0)
        return vol_fail_errno(m, errno, "cannot list /sys/block");
    *count = ls.found;
    return CLUS_OK;
}

/*
 * vol_config.c - validation of a volume's parameters. Reads the system
 * (stat, realpath, mountinfo, /sys/block) but never changes it.
 */
#include "vol_internal.h"

#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>

static bool is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Walks the '/'-separated components of path; true when none is "..". */
static bool no_dotdot(const char *path)
{
    const char *p = path;

    while (*p != '\0') {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += len;
        while (*p == '/')
            p++;
    }
    return true;
}

bool vol_path_is_clean_absolute(const char *path)
{
    return path[0] == '/' && strlen(path) < PATH_MAX && no_dotdot(path);
}

bool vol_path_is_clean_relative(const char *path)
{
    return path != NULL && path[0] != '\0' && path[0] != '/' && strlen(path) < PATH_MAX &&
           no_dotdot(path);
}

static uint32_t parse_bool(const char *name, const char *value, bool *out, vol_msg *m)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};

    *out = false;
    if (!is_set(value))
        return CLUS_OK;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return CLUS_OK;
        }
        if (strcasecmp(value, no[i]) == 0)
            return CLUS_OK;
    }
    return vol_fail(m, CLUS_E_INVALID_PARAMETER, "%s must be true or false, not '%s'", name, value);
}

/* Checks that a path parameter is absolute, clean and exists, and returns its
 * canonical form and stat. */
static uint32_t check_path(const clus_volume_sys *sys, const char *name, const char *value,
                           char *canonical, struct stat *st, vol_msg *m)
{
    if (!vol_path_is_clean_absolute(value))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "%s '%s' must be an absolute path without '..' components", name, value);
    if (sys->stat(sys, value, st) < 0) {
        if (errno == ENOENT)
            return vol_fail(m, CLUS_E_FILE_NOT_FOUND, "%s %s does not exist", name, value);
        return vol_fail_errno(m, errno, "cannot stat %s %s", name, value);
    }
    if (sys->realpath(sys, value, canonical) == NULL)
        return vol_fail_errno(m, errno, "cannot resolve %s %s", name, value);
    return CLUS_OK;
}

static uint32_t parse_image(const clus_volume_sys *sys, const char *image, enum vol_kind kind,
                            struct vol_config *out, vol_msg *m)
{
    struct stat st;
    uint32_t s;

    if (!is_set(image))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "the %s backend needs the image parameter",
                        kind == VOL_KIND_LOOP ? "loop" : "image");
    s = check_path(sys, "image", image, out->image, &st, m);
    if (s != CLUS_OK)
        return s;
    if (!S_ISREG(st.st_mode))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "image %s is not a regular file", image);
    if (kind == VOL_KIND_LOOP && st.st_size < 4096)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "image %s is too small for a file system (%lld bytes)", image,
                        (long long)st.st_size);
    out->image_dev = st.st_dev;
    out->image_ino = st.st_ino;
    return CLUS_OK;
}

static uint32_t parse_device(const clus_volume_sys *sys, const char *device, struct vol_config *out,
                             vol_msg *m)
{
    struct stat st;
    uint32_t s;

    if (!is_set(device))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "the block backend needs the device parameter");
    s = check_path(sys, "device", device, out->device, &st, m);
    if (s != CLUS_OK)
        return s;
    if (!S_ISBLK(st.st_mode))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "device %s is not a block device", device);
    out->device_rdev = st.st_rdev;
    return CLUS_OK;
}

static uint32_t parse_mountpoint(const clus_volume_sys *sys, const char *mp, struct vol_config *out,
                                 vol_msg *m)
{
    struct stat st;
    uint32_t s;

    if (!is_set(mp))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "the mountpoint parameter is required");
    s = check_path(sys, "mount point", mp, out->mountpoint, &st, m);
    if (s != CLUS_OK)
        return s;
    if (!S_ISDIR(st.st_mode))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "mount point %s is not a directory", mp);
    if (strcmp(out->mountpoint, "/") == 0)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "mount point %s is the root directory", mp);
    return CLUS_OK;
}

/* ---- fstype ---- */

struct fs_search {
    const char *name;
    bool found;
};

static bool fstype_syntax_ok(const char *fstype)
{
    size_t len = strlen(fstype);

    if (len == 0 || len >= VOL_FSTYPE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = fstype[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* A disk file system the kernel has registered (/proc/filesystems lines
 * without "nodev"), or one that is normally a loadable module. */
static bool fstype_known(const clus_volume_sys *sys, const char *fstype)
{
    static const char *const modules[] = {"ext2", "ext3", "ext4",  "xfs", "btrfs",
                                          "f2fs", "vfat", "exfat", "jfs", "nilfs2"};
    char text[4096];

    for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
        if (strcmp(fstype, modules[i]) == 0)
            return true;
    }
    if (vol_read_text(sys, "/proc/filesystems", text, sizeof(text)) < 0)
        return false;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strncmp(line, "nodev", 5) != 0) {
            const char *name = line + strspn(line, " \t");
            if (strcmp(name, fstype) == 0)
                return true;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return false;
}

static uint32_t parse_fstype(const clus_volume_sys *sys, const char *fstype, struct vol_config *out,
                             vol_msg *m)
{
    if (!is_set(fstype))
        return CLUS_OK;
    if (!fstype_syntax_ok(fstype) || !fstype_known(sys, fstype))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "unknown file system type '%s'", fstype);
    snprintf(out->fstype, sizeof(out->fstype), "%s", fstype);
    return CLUS_OK;
}

/* ---- mount options ---- */

struct mount_flag {
    const char *name;
    unsigned long set;
    unsigned long clear;
};

static const struct mount_flag mount_flags[] = {
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},
    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
    {"noatime", MS_NOATIME, 0},
    {"atime", 0, MS_NOATIME},
    {"nodiratime", MS_NODIRATIME, 0},
    {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, 0},
    {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, 0},
    {"lazytime", MS_LAZYTIME, 0},
    {"nolazytime", 0, MS_LAZYTIME},
    {"silent", MS_SILENT, 0},
    {"loud", 0, MS_SILENT},
};

/* Options of mount(8) or fstab, or ones that change what mount(2) does:
 * never passed to the file system. */
static const char *const refused_options[] = {
    "remount", "bind",   "rbind",      "move",        "shared",  "rshared",   "private", "rprivate",
    "slave",   "rslave", "unbindable", "runbindable", "loop",    "user",      "users",   "owner",
    "group",   "nofail", "auto",       "noauto",      "_netdev", "x-systemd",
};

static bool option_syntax_ok(const char *opt, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = opt[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("_=.:/+-@", c) != NULL))
            return false;
    }
    return true;
}

static bool option_is(const char *opt, size_t len, const char *name)
{
    return strlen(name) == len && strncmp(opt, name, len) == 0;
}

/* Applies one option: a flag, or text for the file system. */
static uint32_t apply_option(const char *opt, size_t len, struct vol_config *out, vol_msg *m)
{
    size_t used = strlen(out->mount_data);
    size_t key = strcspn(opt, "=");

    if (key > len)
        key = len;
    for (size_t i = 0; i < sizeof(mount_flags) / sizeof(mount_flags[0]); i++) {
        if (option_is(opt, len, mount_flags[i].name)) {
            out->mount_flags = (out->mount_flags | mount_flags[i].set) & ~mount_flags[i].clear;
            return CLUS_OK;
        }
    }
    for (size_t i = 0; i < sizeof(refused_options) / sizeof(refused_options[0]); i++) {
        if (option_is(opt, key, refused_options[i]) ||
            (strncmp(refused_options[i], "x-", 2) == 0 && strncmp(opt, "x-", 2) == 0))
            return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                            "mount option '%.*s' is not allowed (it is not a file system option)",
                            (int)len, opt);
    }
    if (!option_syntax_ok(opt, len))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "mount option '%.*s' has invalid characters",
                        (int)len, opt);
    if (used + len + 2 > sizeof(out->mount_data))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "mount_options is too long");
    snprintf(out->mount_data + used, sizeof(out->mount_data) - used, "%s%.*s", used > 0 ? "," : "",
             (int)len, opt);
    return CLUS_OK;
}

static uint32_t parse_mount_options(const char *opts, struct vol_config *out, vol_msg *m)
{
    const char *p = opts;

    out->mount_flags = 0;
    out->mount_data[0] = '\0';
    if (!is_set(opts))
        return CLUS_OK;
    if (strlen(opts) >= VOL_OPTS_MAX)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "mount_options is too long");
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            uint32_t s = apply_option(p, len, out, m);
            if (s != CLUS_OK)
                return s;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    out->read_only = (out->mount_flags & MS_RDONLY) != 0;
    return CLUS_OK;
}

/* ---- the mount point must be free (or hold our own device) ---- */

/* Is the device mounted there ours: the block device, or a loop device bound
 * to our image? */
static bool mount_is_ours(const clus_volume_sys *sys, const struct vol_config *c,
                          const struct vol_mount *mnt)
{
    dev_t rdev = makedev(mnt->major, mnt->minor);
    struct vol_loop loops[VOL_LOOPS_MAX];
    int n = 0;

    if (c->kind == VOL_KIND_BLOCK)
        return rdev == c->device_rdev;
    if (vol_loops_bound(sys, c->image_dev, c->image_ino, loops, VOL_LOOPS_MAX, &n, NULL) != CLUS_OK)
        return false;
    for (int i = 0; i < n && i < VOL_LOOPS_MAX; i++) {
        if (loops[i].rdev == rdev)
            return true;
    }
    return false;
}

static uint32_t check_mountpoint_free(const clus_volume_sys *sys, const struct vol_config *c,
                                      vol_msg *m)
{
    struct vol_mounts mt;
    const struct vol_mount *top;
    uint32_t s = vol_mounts_load(sys, &mt, m);

    if (s != CLUS_OK)
        return s;
    top = vol_mounts_top(&mt, c->mountpoint);
    if (top != NULL && !mount_is_ours(sys, c, top))
        s = vol_fail(m, CLUS_E_BUSY, "mount point %s is already in use (%s %s is mounted there)",
                     c->mountpoint, top->fstype, top->source);
    else if (c->kind == VOL_KIND_BLOCK)
        s = vol_check_not_system(sys, &mt, c->device_rdev, c->device, m);
    vol_mounts_free(&mt);
    return s;
}

/* ---- the state directory ---- */

static uint32_t parse_state_dir(const clus_volume_sys *sys, const char *dir, struct vol_config *out,
                                vol_msg *m)
{
    struct stat st;

    out->mark_path[0] = '\0';
    if (!is_set(dir))
        return CLUS_OK;
    if (!vol_path_is_clean_absolute(dir) || strlen(dir) + sizeof(VOL_MARK_NAME) + 1 >= PATH_MAX)
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "state directory '%s' must be an absolute path without '..'", dir);
    if (sys->stat(sys, dir, &st) < 0)
        return vol_fail_errno(m, errno, "state directory %s", dir);
    if (!S_ISDIR(st.st_mode))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "state directory %s is not a directory", dir);
    snprintf(out->mark_path, sizeof(out->mark_path), "%s%s%s", dir,
             dir[strlen(dir) - 1] == '/' ? "" : "/", VOL_MARK_NAME);
    return CLUS_OK;
}

/* ---- the whole configuration ---- */

static uint32_t parse_kind(const char *backend, enum vol_kind *kind, vol_msg *m)
{
    if (!is_set(backend))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "the backend parameter is required (loop, block or image)");
    if (strcmp(backend, "loop") == 0)
        *kind = VOL_KIND_LOOP;
    else if (strcmp(backend, "block") == 0)
        *kind = VOL_KIND_BLOCK;
    else if (strcmp(backend, "image") == 0)
        *kind = VOL_KIND_IMAGE;
    else
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "unknown backend '%s' (use loop, block or image)", backend);
    return CLUS_OK;
}

/* Parameters that a backend does not use are refused rather than ignored:
 * a mount point on an image volume would suggest that something is mounted. */
static uint32_t check_unused(const clus_volume_config *cfg, enum vol_kind kind, vol_msg *m)
{
    const char *backend = kind == VOL_KIND_LOOP    ? "loop"
                          : kind == VOL_KIND_BLOCK ? "block"
                                                   : "image";

    if (kind != VOL_KIND_BLOCK && is_set(cfg->device))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "the %s backend takes image, not device",
                        backend);
    if (kind == VOL_KIND_BLOCK && is_set(cfg->image))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER, "the block backend takes device, not image");
    if (kind == VOL_KIND_IMAGE && (is_set(cfg->mountpoint) || is_set(cfg->fstype) ||
                                   is_set(cfg->mount_options) || is_set(cfg->mkfs)))
        return vol_fail(m, CLUS_E_INVALID_PARAMETER,
                        "the image backend mounts nothing: leave mountpoint, fstype, "
                        "mount_options and mkfs unset");
    return CLUS_OK;
}

static uint32_t parse_mount_params(const clus_volume_sys *sys, const clus_volume_config *cfg,
                                   struct vol_config *out, vol_msg *m)
{
    uint32_t s = parse_mountpoint(sys, cfg->mountpoint, out, m);

    if (s == CLUS_OK)
        s = parse_fstype(sys, cfg->fstype, out, m);
    if (s == CLUS_OK)
        s = parse_mount_options(cfg->mount_options, out, m);
    if (s == CLUS_OK)
        s = parse_bool("mkfs", cfg->mkfs, &out->mkfs, m);
    if (s == CLUS_OK && out->mkfs && out->fstype[0] == '\0')
        s = vol_fail(m, CLUS_E_INVALID_PARAMETER,
                     "mkfs needs fstype: the file system to create (for example ext4)");
    if (s == CLUS_OK)
        s = check_mountpoint_free(sys, out, m);
    return s;
}

uint32_t vol_config_parse(const clus_volume_sys *sys, const clus_volume_config *cfg,
                          struct vol_config *out, vol_msg *m)
{
    uint32_t s;

    memset(out, 0, sizeof(*out));
    s = parse_kind(cfg->backend, &out->kind, m);
    if (s == CLUS_OK)
        s = check_unused(cfg, out->kind, m);
    if (s != CLUS_OK)
        return s;
    if (out->kind == VOL_KIND_BLOCK)
        s = parse_device(sys, cfg->device, out, m);
    else
        s = parse_image(sys, cfg->image, out->kind, out, m);
    if (s == CLUS_OK && out->kind != VOL_KIND_IMAGE)
        s = parse_mount_params(sys, cfg, out, m);
    if (s == CLUS_OK)
        s = parse_state_dir(sys, cfg->state_dir, out, m);
    return s;
}

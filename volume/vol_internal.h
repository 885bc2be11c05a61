/*
 * vol_internal.h - private to libclus-volume: the volume struct, the backend
 * ops table and the helpers the backends share. Nothing outside volume/
 * includes this file.
 */
#ifndef CLUS_VOL_INTERNAL_H
#define CLUS_VOL_INTERNAL_H

#include "volume.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

/* Block-device and file-system ioctls, from linux/fs.h (not included: it
 * clashes with sys/mount.h) and the ext4/xfs headers. */
#define VOL_BLKROSET          _IO(0x12, 93)
#define VOL_BLKROGET          _IO(0x12, 94)
#define VOL_BLKFLSBUF         _IO(0x12, 97)
#define VOL_BLKGETSIZE64      _IOR(0x12, 114, size_t)
#define VOL_FS_IOC_SHUTDOWN   _IOR('X', 125, uint32_t) /* EXT4_IOC_SHUTDOWN == XFS_IOC_GOINGDOWN */
#define VOL_SHUTDOWN_LOGFLUSH 1u /* commit the journal, do not wait for data */

#define VOL_MARK_NAME     "volume.offline"
#define VOL_PROBE_NAME    ".clus-alive-probe"
#define VOL_FSTYPE_MAX    32
#define VOL_OPTS_MAX      256
#define VOL_LOOP_PATH_MAX 32

/* A caller's message buffer (buf may be NULL). */
typedef struct vol_msg {
    char *buf;
    size_t size;
} vol_msg;

/* Replaces the message. */
void vol_msg_set(vol_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "; <text>" (or just the text when the message is empty). */
void vol_msg_add(vol_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets "<what>: <strerror(err)>" and returns clus_status_from_errno(err): the
 * one place where a failed call's errno becomes a Win32 code. */
uint32_t vol_fail_errno(vol_msg *m, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the message and returns status. */
uint32_t vol_fail(vol_msg *m, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends "(undo: <what>: <strerror>)" for an undo step that failed. */
void vol_undo_failed(vol_msg *m, int err, const char *what);

enum vol_kind { VOL_KIND_LOOP, VOL_KIND_BLOCK, VOL_KIND_IMAGE };

/* A validated configuration: canonical paths, parsed options. */
struct vol_config {
    enum vol_kind kind;
    char image[PATH_MAX];          /* canonical; "" for block */
    char device[PATH_MAX];         /* canonical; "" for loop and image */
    char mountpoint[PATH_MAX];     /* canonical; "" for image */
    char fstype[VOL_FSTYPE_MAX];   /* "" = probe */
    unsigned long mount_flags;     /* MS_* from mount_options */
    char mount_data[VOL_OPTS_MAX]; /* the options mount(2) passes to the file system */
    bool read_only;                /* mount_options has "ro" */
    bool mkfs;
    char mark_path[PATH_MAX]; /* "" when there is no state dir */
    dev_t image_dev;          /* identity of the image file (loop, image) */
    ino_t image_ino;
    dev_t device_rdev; /* block: the device number */
};

enum vol_state { VOL_OFFLINE, VOL_ONLINE };

struct vol_backend;
struct vol_mounts;

struct clus_volume {
    const clus_volume_sys *sys;
    const struct vol_backend *be;
    struct vol_config cfg;

    pthread_mutex_t lock;    /* serializes every public call */
    atomic_bool terminating; /* set by terminate before it takes the lock */
    clus_volume_progress_fn progress;
    void *progress_arg;
    uint32_t checkpoint; /* last progress checkpoint of this online */

    enum vol_state state;
    int claim_fd;                /* loop, image: image fd carrying our OFD write lock; -1 */
    int hold_fd;                 /* loop, block: O_EXCL descriptor of dev_path; -1. For block
                                  * it is also the claim while not mounted. */
    bool mark;                   /* the offline mark is persisted (or, without a state dir,
                                  * remembered) */
    char dev_path[PATH_MAX];     /* the block device in use, "" none: the loop device
                                  * (loop) or cfg.device (block) */
    dev_t dev_rdev;              /* its device number, 0 when none */
    int loop_index;              /* loop: N of /dev/loopN, -1 none */
    char fstype[VOL_FSTYPE_MAX]; /* the file system mounted (configured or probed) */
    bool mounted_ro;             /* mounted read-only (configured, or as adopted) */
    int unfenced_loop;           /* loop: a loop device that terminate could neither shut
                                  * down nor detach at once (files still open); online
                                  * refuses until it is gone. -1 none */
};

/*
 * A backend. Every function runs with v->lock held and may assume the state
 * checks of volume.c were made (online is not called on an online volume,
 * offline not on an offline one, I/O only online).
 */
struct vol_backend {
    const char *name;
    enum vol_kind kind;
    /* After the configuration was validated: re-establish the offline hold
     * when the mark exists. Non-fatal problems go to m with 0. */
    uint32_t (*open)(clus_volume *v, vol_msg *m);
    /* Closes descriptors; never unmounts. */
    void (*close)(clus_volume *v);
    /* Optional: the volume goes for good (clus_volume_retire). */
    void (*retire)(clus_volume *v);
    uint32_t (*claim)(clus_volume *v, vol_msg *m);
    void (*unclaim)(clus_volume *v);
    bool (*claimed)(clus_volume *v);
    uint32_t (*adopt)(clus_volume *v, vol_msg *m);
    uint32_t (*online)(clus_volume *v, vol_msg *m);
    uint32_t (*offline)(clus_volume *v, vol_msg *m);
    uint32_t (*terminate)(clus_volume *v, vol_msg *m);
    bool (*looks_alive)(clus_volume *v, vol_msg *m);
    bool (*is_alive)(clus_volume *v, vol_msg *m);
    uint32_t (*read)(clus_volume *v, const char *path, uint64_t off, void *buf, size_t len,
                     size_t *done, vol_msg *m);
    uint32_t (*write)(clus_volume *v, const char *path, uint64_t off, const void *buf, size_t len,
                      size_t *done, vol_msg *m);
    void (*info)(clus_volume *v, clus_volume_info *info);
    /* loop, block: how their devices differ (NULL for image). */
    const struct vol_dev_hooks *dev;
};

/*
 * The device side of the mount backends (loop, block). backend_mount.c runs
 * online/offline/terminate/health/I/O and asks these hooks for what depends
 * on the kind of device.
 */
struct vol_txn;
struct vol_dev_hooks {
    /* Finds our device in mt. Sets *here (and v->dev_*) when it is mounted on
     * our mount point; 5006/170 when it is mounted somewhere else. */
    uint32_t (*locate)(clus_volume *v, const struct vol_mounts *mt, bool *here, vol_msg *m);
    /* Makes v->dev_path usable for online: loop reuses the held device or a
     * stale bound one, or attaches a new one. Records in t what to undo. */
    uint32_t (*acquire)(clus_volume *v, struct vol_txn *t, vol_msg *m);
    /* Undoes a fresh attach (loop: LOOP_CLR_FD through fd) and forgets the
     * device. Failures are added to m. */
    void (*detach)(clus_volume *v, int fd, vol_msg *m);
    /* Is our device still there (loop: bound to the image, image not deleted,
     * no detach requested; block: the node and its sysfs entry)? */
    bool (*present)(clus_volume *v, vol_msg *m);
    /* Re-establishes the offline hold (from the mark, after a restart).
     * Problems are notes in m; never fails. */
    void (*rehold)(clus_volume *v, const struct vol_mounts *mt, vol_msg *m);
    /* After terminate: is the device (as it was before terminate forgot it)
     * still in use - a deferred loop detach, a busy block device? */
    bool (*in_use)(clus_volume *v, int loop_index, const char *dev_path);
};

/* What one online did, so that a failure can undo exactly that. */
struct vol_txn {
    bool had_claim;     /* the claim was held before the call: keep it */
    bool took_hold;     /* acquire opened the O_EXCL hold (a reused loop device) */
    bool attached;      /* acquire attached a new loop device */
    bool released_hold; /* the offline hold was closed before mount */
    bool ro_changed;    /* BLKROSET was changed from ro_before */
    int ro_before;
    bool mounted;
    int dev_fd; /* a plain descriptor of the device kept during the call */
};

extern const struct vol_backend vol_backend_loop;
extern const struct vol_backend vol_backend_block;
extern const struct vol_backend vol_backend_image;

/* ---- configuration (vol_config.c) ---- */

/* Validates cfg and fills out. Returns 0 or the code with the reason. */
uint32_t vol_config_parse(const clus_volume_sys *sys, const clus_volume_config *cfg,
                          struct vol_config *out, vol_msg *m);
/* "Has no "..", is absolute, fits" - for parameters. */
bool vol_path_is_clean_absolute(const char *path);
/* A path relative to a mount point: not empty, not absolute, no "..". */
bool vol_path_is_clean_relative(const char *path);

/* ---- system facts (vol_sysinfo.c) ---- */

struct vol_mount {
    unsigned int major, minor;
    char *target; /* unescaped */
    char *fstype;
    char *source;
    bool read_only;
};

struct vol_mounts {
    struct vol_mount *items;
    size_t count;
};

/* Reads /proc/self/mountinfo. */
uint32_t vol_mounts_load(const clus_volume_sys *sys, struct vol_mounts *mt, vol_msg *m);
void vol_mounts_free(struct vol_mounts *mt);
/* The visible (last) mount on target, or NULL. */
const struct vol_mount *vol_mounts_top(const struct vol_mounts *mt, const char *target);
/* The visible mount on target when it is rdev, or NULL. Only the visible
 * mount is "ours": I/O and umount on the path reach that one. */
const struct vol_mount *vol_mounts_find(const struct vol_mounts *mt, dev_t rdev,
                                        const char *target);
/* rdev is mounted on target, but something else is mounted over it. */
bool vol_mounts_buried(const struct vol_mounts *mt, dev_t rdev, const char *target);
/* The first mount of rdev anywhere, or NULL. */
const struct vol_mount *vol_mounts_any(const struct vol_mounts *mt, dev_t rdev);

/* 5 with a clear reason when rdev is (or is the whole disk of) the device
 * behind /, /boot or /boot/efi. */
uint32_t vol_check_not_system(const clus_volume_sys *sys, const struct vol_mounts *mt, dev_t rdev,
                              const char *dev_path, vol_msg *m);

/* Reads a small text file (sysfs, procfs) into buf, NUL-terminated, with the
 * trailing newline removed. -1 and errno on failure. */
int vol_read_text(const clus_volume_sys *sys, const char *path, char *buf, size_t size);

/* The pid of a process (other than us, when skip_self) holding an OFD write
 * lock on the file (dev, ino), found through /proc/PID/fdinfo; 0 unknown. */
long vol_find_lock_holder(const clus_volume_sys *sys, dev_t dev, ino_t ino);

/* A loop device bound to our image. */
struct vol_loop {
    int index;
    char path[VOL_LOOP_PATH_MAX];
    dev_t rdev;
    bool autoclear;
};

/* Does LOOP_GET_STATUS64's (lo_device, lo_inode) name the file (dev, ino)? */
bool vol_loop_backs(uint64_t lo_device, uint64_t lo_inode, dev_t dev, ino_t ino);

/* Every loop device bound to the file (dev, ino): *count of them (may exceed
 * max: only max are filled). A device that cannot be inspected is skipped. */
uint32_t vol_loops_bound(const clus_volume_sys *sys, dev_t dev, ino_t ino, struct vol_loop *out,
                         int max, int *count, vol_msg *m);
#define VOL_LOOPS_MAX 16

/* ---- shared helpers (vol_util.c) ---- */

/* Closes *fd when >= 0 and sets it to -1 (errors ignored: the descriptor is
 * gone either way). */
void vol_close(const clus_volume_sys *sys, int *fd);
/* Persists / removes the offline mark (a no-op in memory without a state
 * dir). Sets v->mark. */
uint32_t vol_mark_write(clus_volume *v, vol_msg *m);
uint32_t vol_mark_remove(clus_volume *v, vol_msg *m);
/* Does the mark file exist? An error when that cannot be told. */
uint32_t vol_mark_exists(clus_volume *v, bool *exists, vol_msg *m);
/* Reports progress; 995 when the online must stop (terminate or the callback). */
uint32_t vol_step(clus_volume *v, const char *step, vol_msg *m);
/* 995 when terminate asked the running operation to stop. */
uint32_t vol_check_terminating(clus_volume *v, vol_msg *m);

/* ---- the mount backends' ops (backend_mount.c), used by loop and block ---- */
uint32_t vol_mnt_open(clus_volume *v, vol_msg *m);
void vol_mnt_close(clus_volume *v);
uint32_t vol_mnt_adopt(clus_volume *v, vol_msg *m);
uint32_t vol_mnt_online(clus_volume *v, vol_msg *m);
uint32_t vol_mnt_offline(clus_volume *v, vol_msg *m);
uint32_t vol_mnt_terminate(clus_volume *v, vol_msg *m);
bool vol_mnt_looks_alive(clus_volume *v, vol_msg *m);
bool vol_mnt_is_alive(clus_volume *v, vol_msg *m);
uint32_t vol_mnt_read(clus_volume *v, const char *path, uint64_t off, void *buf, size_t len,
                      size_t *done, vol_msg *m);
uint32_t vol_mnt_write(clus_volume *v, const char *path, uint64_t off, const void *buf, size_t len,
                       size_t *done, vol_msg *m);
void vol_mnt_info(clus_volume *v, clus_volume_info *info);
/* BLKROSET through fd; -1 and errno. */
int vol_set_ro(clus_volume *v, int fd, int ro);

/* Takes the OFD write lock on the image (claim_fd). 5006 with the holder. */
uint32_t vol_image_claim(clus_volume *v, vol_msg *m);
void vol_image_unclaim(clus_volume *v);

#endif

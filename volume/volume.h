/*
 * volume.h - libclus-volume: IOCTL_VOLUME_ONLINE / OFFLINE / IS_OFFLINE on Linux.
 *
 * A clus_volume is one volume of one of three backends:
 *
 *   loop   an image file that the library attaches to a free loop device
 *          (LOOP_CTL_GET_FREE + LOOP_CONFIGURE) and mounts on a mount point;
 *   block  an existing block device mounted on a mount point;
 *   image  a plain file: no loop device, no mount, no root needed. Same
 *          state semantics; data is read and written through the library.
 *
 * States. A volume is online or offline. Offline means: the file system is
 * flushed and unmounted, the device is read-only (BLKROSET 1) and held open
 * with O_EXCL so that nobody can mount it, and an offline mark is persisted in
 * the caller's state directory; every read, write and control request through
 * the library fails with 21 (ERROR_NOT_READY). A volume that was never online
 * (and has no mark) is offline too, but holds nothing.
 *
 * The claim. Online first takes an exclusive claim: an open-file-description
 * lock (F_OFD_SETLK) on the image file for loop and image, the O_EXCL open
 * for block. A second claimant - another process, or another clus_volume in
 * this process - gets 5006 (ERROR_RESOURCE_NOT_AVAILABLE), even while the
 * first holder is frozen. Offline, terminate and release give it up.
 *
 * The system volume (the device backing / or /boot) is refused with 5
 * (ERROR_ACCESS_DENIED) by open, online, offline and terminate alike.
 *
 * Errors. Every function that can fail returns a Win32 status code (see
 * common/status.h) and writes a human sentence saying what failed and why
 * into the caller's buffer msg (msg_size bytes, always NUL-terminated; msg
 * may be NULL). On success msg is "" or a note ("adopted the existing mount").
 * A failed online or offline leaves the volume exactly as it was before the
 * call (online stays online and mounted, offline stays offline and held);
 * when even the undo fails, msg says so and the state is the one reported by
 * clus_volume_is_offline / clus_volume_get_info.
 *
 * Threads. All functions of one volume are serialized by a lock inside it,
 * except that clus_volume_terminate first asks a running online to stop at
 * its next step (it then fails with 995) and kills a running mkfs, so that
 * terminate waits for at most one step.
 *
 * System calls. Every system call goes through a clus_volume_sys table: the
 * default one calls Linux; tests install a fake that fails any call.
 */
#ifndef CLUS_VOLUME_H
#define CLUS_VOLUME_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct flock;

typedef struct clus_volume clus_volume;

/*
 * The system-call seam. Every function behaves like the Linux call of the
 * same name: it returns -1 (NULL for realpath) and sets errno on failure.
 * self is the table itself, so a fake can reach its own state (embed the
 * table as the first member of a larger struct, or use ctx).
 */
typedef struct clus_volume_sys clus_volume_sys;
struct clus_volume_sys {
    void *ctx; /* for fakes; unused by the default table */

    int (*open)(const clus_volume_sys *self, const char *path, int flags, mode_t mode);
    /* openat2(RESOLVE_BENEATH) of rel below the directory root: never leaves it. */
    int (*open_beneath)(const clus_volume_sys *self, const char *root, const char *rel, int flags,
                        mode_t mode);
    int (*close)(const clus_volume_sys *self, int fd);
    /* arg is the ioctl's third argument (a pointer, or an integer cast to one). */
    int (*ioctl)(const clus_volume_sys *self, int fd, unsigned long request, void *arg);
    int (*mount)(const clus_volume_sys *self, const char *source, const char *target,
                 const char *fstype, unsigned long flags, const char *data);
    int (*umount2)(const clus_volume_sys *self, const char *target, int flags);
    int (*syncfs)(const clus_volume_sys *self, int fd);
    int (*fsync)(const clus_volume_sys *self, int fd);
    ssize_t (*pread)(const clus_volume_sys *self, int fd, void *buf, size_t count, off_t offset);
    ssize_t (*pwrite)(const clus_volume_sys *self, int fd, const void *buf, size_t count,
                      off_t offset);
    /* fcntl(fd, cmd, fl) for the lock commands (F_OFD_SETLK, F_OFD_GETLK). */
    int (*fcntl_lock)(const clus_volume_sys *self, int fd, int cmd, struct flock *fl);
    int (*stat)(const clus_volume_sys *self, const char *path, struct stat *st);
    int (*fstat)(const clus_volume_sys *self, int fd, struct stat *st);
    int (*unlink)(const clus_volume_sys *self, const char *path);
    /* resolved has PATH_MAX bytes. */
    char *(*realpath)(const clus_volume_sys *self, const char *path, char *resolved);
    /* Calls each(arg, name) for every entry of a directory but "." and "..";
     * stops early (returning 0) when each returns non-zero. */
    int (*list_dir)(const clus_volume_sys *self, const char *path,
                    int (*each)(void *arg, const char *name), void *arg);
    /* libblkid superblock probe of path: 1 and the type in fstype ("" when
     * the signatures are ambiguous), 0 when there is no file system, -1. */
    int (*probe)(const clus_volume_sys *self, const char *path, char *fstype, size_t size);
    /* Runs argv (searched in PATH) with stdin /dev/null, collects the tail of
     * its stdout+stderr in out, waits, sets *exit_code (128+signal when
     * killed). Kills the child when *cancel becomes true. -1 when it cannot
     * be started (ENOENT: no such program). */
    int (*run)(const clus_volume_sys *self, const char *const argv[], char *out, size_t out_size,
               int *exit_code, const atomic_bool *cancel);
};

/* The table that calls Linux (static storage; never freed). */
const clus_volume_sys *clus_volume_sys_default(void);

/*
 * Configuration: the parameters of the volume resource type, as strings.
 * NULL and "" both mean "not set". Pointers need only live during the call.
 */
typedef struct clus_volume_config {
    const char *backend;       /* "loop", "block" or "image" (required) */
    const char *image;         /* loop, image: absolute path of an existing regular file */
    const char *device;        /* block: absolute path of a block device */
    const char *mountpoint;    /* loop, block: absolute path of an existing directory that is
                                * not a mount point of anything else; never "/" */
    const char *fstype;        /* loop, block: ext4, xfs, ...; unset: probed with libblkid */
    const char *mount_options; /* loop, block: "noatime,ro,data=ordered" style */
    const char *mkfs;          /* loop, block: true/false; true: run mkfs.<fstype> at online
                                * when the device holds no file system (needs fstype) */
    const char *state_dir;     /* where the offline mark is kept across restarts; NULL:
                                * nowhere (the mark lives only in memory) */
} clus_volume_config;

/*
 * Checks a configuration against the system without changing anything:
 * syntax (absolute paths, no ".." component, known backend and fstype, known
 * mount options), existence (image, device, mount point), kinds (regular
 * file, block device, directory), the mount point not being used by another
 * device, and the device not backing / or /boot. sys NULL: the default.
 * Returns 0, 87 (bad value), 2 (missing file), 170 (mount point in use), 5
 * (system volume) with the reason in msg.
 */
uint32_t clus_volume_validate(const clus_volume_config *cfg, const clus_volume_sys *sys, char *msg,
                              size_t msg_size);

/*
 * Validates cfg and creates a volume, offline. When the offline mark exists
 * in state_dir (the volume was taken offline before a restart), the offline
 * hold is established again (O_EXCL open of the device, read-only) when the
 * device is there. Never mounts or attaches anything. On success *out is the
 * caller's until clus_volume_close.
 */
uint32_t clus_volume_open(const clus_volume_config *cfg, const clus_volume_sys *sys,
                          clus_volume **out, char *msg, size_t msg_size);

/* Frees the volume and closes its descriptors (the claim and the hold go with
 * them). Never unmounts or detaches: a volume closed online stays mounted and
 * can be adopted by the next clus_volume_adopt. NULL is ignored. */
void clus_volume_close(clus_volume *v);

/* The resource goes for good (its Close, not an agent stopping): what the
 * library set up for an offline volume and nobody would clean up is undone
 * - the loop device the loop backend attached is detached. An online
 * volume, a block device and an image are left as they are. Call before
 * clus_volume_close. */
void clus_volume_retire(clus_volume *v);

/* Progress of a slow online (claim, attach, probe, mkfs, mount): called with a
 * rising checkpoint (1, 2, ...) and the step's name, under the volume's lock
 * (do not call back into the volume). Returning non-zero aborts the online:
 * it undoes what it did and fails with 995. */
typedef int (*clus_volume_progress_fn)(void *arg, uint32_t checkpoint, const char *step);
void clus_volume_set_progress(clus_volume *v, clus_volume_progress_fn fn, void *arg);

/*
 * Brings the volume online: claim, (loop) attach, BLKROSET 0, release the
 * offline hold, probe the file system (and mkfs when configured), mount,
 * remove the offline mark. If the device is already mounted on the mount
 * point (an agent restart), it is adopted instead of mounted again. Already
 * online: 0 (and a missing mount is mounted again). Errors: 5006 claimed
 * elsewhere or already mounted elsewhere, 170 mount point in use, 87 no or
 * wrong file system, 5 system volume, 995 terminated, or the failing call's
 * code. On error nothing is left attached, mounted or changed.
 */
uint32_t clus_volume_online(clus_volume *v, char *msg, size_t msg_size);

/*
 * Adopts a volume that is already online on this machine (for the agent's
 * RECOVER_MONITOR_STATE after a restart): takes the claim and, for loop, finds
 * the loop device bound to the image (/sys/block/loop*) that is mounted on the
 * mount point; no remount. 1168 (ERROR_NOT_FOUND) when there is nothing to
 * adopt (then call clus_volume_online), 5006 when claimed elsewhere.
 */
uint32_t clus_volume_adopt(clus_volume *v, char *msg, size_t msg_size);

/*
 * Takes the volume offline: syncfs, umount, O_EXCL hold, BLKFLSBUF, BLKROSET 1,
 * persist the offline mark, release the claim. umount EBUSY: 170 with the
 * reason, and the volume stays online and mounted. Already offline: 0 (the
 * mark is persisted). The system volume: 5, whatever the caller wants.
 */
uint32_t clus_volume_offline(clus_volume *v, char *msg, size_t msg_size);

/*
 * Forced stop; always completes. File system shutdown ioctl
 * (EXT4_IOC_SHUTDOWN / XFS_IOC_GOINGDOWN, journal flushed) so that every open
 * handle on the mount fails, lazy unmount (MNT_DETACH), BLKROSET 1, loop
 * detach (deferred by the kernel while files stay open), drop the hold. The
 * claim is released only when the file system was shut down or is no longer
 * in use, so that no other node can mount what this one may still write. The
 * volume is offline afterwards, without an offline mark. Returns 0, or a
 * code describing what could not be done (msg), for the log only.
 */
uint32_t clus_volume_terminate(clus_volume *v, char *msg, size_t msg_size);

/* True unless the volume is online (IOCTL_VOLUME_IS_OFFLINE). */
bool clus_volume_is_offline(clus_volume *v);

/* Cheap check (LooksAlive): online, the device present (loop still bound to
 * the image, image not deleted, no detach requested; block device present)
 * and mounted on the mount point per /proc/self/mountinfo. false: msg says
 * why. */
bool clus_volume_looks_alive(clus_volume *v, char *msg, size_t msg_size);

/* Thorough check (IsAlive): the device checks of looks_alive, BLKGETSIZE64 on
 * a fresh descriptor, a 4 KiB O_DIRECT read, and when mounted read-write a
 * write+fsync of a probe file. An online volume found unmounted is mounted
 * again first (never an offline one). */
bool clus_volume_is_alive(clus_volume *v, char *msg, size_t msg_size);

/* The claim alone (Arbitrate / Release). claim: 0 or 5006 (msg names the
 * holder's pid when it can be found). release: 0; 5019 while online (the
 * claim is what keeps the volume from being mounted twice). */
uint32_t clus_volume_claim(clus_volume *v, char *msg, size_t msg_size);
uint32_t clus_volume_release(clus_volume *v, char *msg, size_t msg_size);

/*
 * I/O through the library. loop, block: path is relative to the mount point
 * (no "..", never escapes it; write creates the file, never truncates, and
 * fsyncs). image: path must be NULL or "" and offset is into the image file.
 * *done is the number of bytes read (short at end of file) or written.
 * Offline: 21 (ERROR_NOT_READY). An online volume found unmounted is mounted
 * again first.
 */
uint32_t clus_volume_read(clus_volume *v, const char *path, uint64_t offset, void *buf,
                          size_t length, size_t *done, char *msg, size_t msg_size);
uint32_t clus_volume_write(clus_volume *v, const char *path, uint64_t offset, const void *buf,
                           size_t length, size_t *done, char *msg, size_t msg_size);

/* What the volume is and holds, for `clusctl volume status`. */
typedef struct clus_volume_info {
    char backend[8];           /* "loop", "block", "image" */
    char image[PATH_MAX];      /* loop, image: the image file; else "" */
    char device[PATH_MAX];     /* the block device in use: the loop device or the
                                * configured device; "" when none */
    char loop_device[32];      /* "/dev/loopN" or "" */
    char mountpoint[PATH_MAX]; /* "" for image */
    char fstype[32];           /* configured or probed; "" unknown */
    bool online;               /* library state (the inverse of is_offline) */
    bool mounted;              /* the device is mounted on the mount point now */
    int read_only;             /* device read-only flag (BLKROGET): 1, 0, -1 unknown */
    bool offline_mark;         /* the offline mark is persisted */
    bool held;                 /* this process holds the offline O_EXCL hold */
    bool claimed;              /* this process holds the claim */
    long holder_pid;           /* pid holding the claim, 0 when unknown or free */
} clus_volume_info;

/* Fills info. Never fails (unknown facts are "" / -1 / 0). */
void clus_volume_get_info(clus_volume *v, clus_volume_info *info);

#ifdef __cplusplus
}
#endif

#endif

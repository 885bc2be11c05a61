/*
 * vol_sys.c - the default system-call table: thin calls into Linux. Every
 * function keeps the kernel's contract (-1 and errno); nothing here decides.
 */
#include "vol_internal.h"

#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int real_open(const clus_volume_sys *self, const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static int real_open_beneath(const clus_volume_sys *self, const char *root, const char *rel,
                             int flags, mode_t mode)
{
    struct open_how how = {.flags = (uint64_t)flags,
                           .mode = (flags & O_CREAT) ? mode : 0,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int dirfd, fd, err;

    dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -1;
    fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS) /* kernels before 5.6: rel has no ".." anyway */
        fd = openat(dirfd, rel, flags | O_NOFOLLOW, mode);
    err = errno;
    close(dirfd);
    errno = err;
    return fd;
}

static int real_close(const clus_volume_sys *self, int fd)
{
    return close(fd);
}

static int real_ioctl(const clus_volume_sys *self, int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg);
}

static int real_mount(const clus_volume_sys *self, const char *source, const char *target,
                      const char *fstype, unsigned long flags, const char *data)
{
    return mount(source, target, fstype, flags, data);
}

static int real_umount2(const clus_volume_sys *self, const char *target, int flags)
{
    return umount2(target, flags);
}

static int real_syncfs(const clus_volume_sys *self, int fd)
{
    return syncfs(fd);
}

static int real_fsync(const clus_volume_sys *self, int fd)
{
    return fsync(fd);
}

static ssize_t real_pread(const clus_volume_sys *self, int fd, void *buf, size_t count,
                          off_t offset)
{
    return pread(fd, buf, count, offset);
}

static ssize_t real_pwrite(const clus_volume_sys *self, int fd, const void *buf, size_t count,
                           off_t offset)
{
    return pwrite(fd, buf, count, offset);
}

static int real_fcntl_lock(const clus_volume_sys *self, int fd, int cmd, struct flock *fl)
{
    return fcntl(fd, cmd, fl);
}

static int real_stat(const clus_volume_sys *self, const char *path, struct stat *st)
{
    return stat(path, st);
}

static int real_fstat(const clus_volume_sys *self, int fd, struct stat *st)
{
    return fstat(fd, st);
}

static int real_unlink(const clus_volume_sys *self, const char *path)
{
    return unlink(path);
}

static char *real_realpath(const clus_volume_sys *self, const char *path, char *resolved)
{
    return realpath(path, resolved);
}

static int real_list_dir(const clus_volume_sys *self, const char *path,
                         int (*each)(void *arg, const char *name), void *arg)
{
    DIR *dir = opendir(path);
    struct dirent *de;

    if (dir == NULL)
        return -1;
    errno = 0;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (each(arg, de->d_name) != 0)
            break;
        errno = 0;
    }
    closedir(dir);
    return 0;
}

static int real_probe(const clus_volume_sys *self, const char *path, char *fstype, size_t size)
{
    blkid_probe pr = blkid_new_probe_from_filename(path);
    const char *type = NULL;
    int rc;

    if (pr == NULL)
        return -1; /* errno from open(2) inside libblkid */
    blkid_probe_enable_superblocks(pr, 1);
    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
    rc = blkid_do_safeprobe(pr);
    if (rc == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
        snprintf(fstype, size, "%s", type);
    else if (rc == -2) /* ambiguous: several signatures */
        snprintf(fstype, size, "%s", "");
    blkid_free_probe(pr);
    if (rc == -1) {
        errno = EIO;
        return -1;
    }
    return rc == 1 ? 0 : 1;
}

/* Keeps the last bytes of the child's output: errors come at the end. */
static void keep_tail(char *out, size_t out_size, size_t *used, const char *data, size_t n)
{
    if (out_size < 2)
        return;
    if (n >= out_size - 1) {
        memcpy(out, data + n - (out_size - 1), out_size - 1);
        *used = out_size - 1;
    } else {
        size_t drop = *used + n > out_size - 1 ? *used + n - (out_size - 1) : 0;
        memmove(out, out + drop, *used - drop);
        memcpy(out + *used - drop, data, n);
        *used = *used - drop + n;
    }
    out[*used] = '\0';
}

static int spawn_child(const char *const argv[], int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int rc;

    /* The child starts clean: no signal blocked or ignored because a thread
     * of the agent blocks or ignores it. */
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    rc = posix_spawnp(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

static int real_run(const clus_volume_sys *self, const char *const argv[], char *out,
                    size_t out_size, int *exit_code, const atomic_bool *cancel)
{
    int fds[2], status, rc;
    size_t used = 0;
    pid_t pid;
    char chunk[512];

    if (out_size > 0)
        out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    rc = spawn_child(argv, fds[1], &pid);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        return -1;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        ssize_t n;

        if (cancel != NULL && atomic_load(cancel))
            kill(pid, SIGKILL);
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = read(fds[0], chunk, sizeof(chunk));
        if (n <= 0 && !(n < 0 && errno == EINTR))
            break;
        if (n > 0)
            keep_tail(out, out_size, &used, chunk, (size_t)n);
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}

static const clus_volume_sys real_sys = {
    .ctx = NULL,
    .open = real_open,
    .open_beneath = real_open_beneath,
    .close = real_close,
    .ioctl = real_ioctl,
    .mount = real_mount,
    .umount2 = real_umount2,
    .syncfs = real_syncfs,
    .fsync = real_fsync,
    .pread = real_pread,
    .pwrite = real_pwrite,
    .fcntl_lock = real_fcntl_lock,
    .stat = real_stat,
    .fstat = real_fstat,
    .unlink = real_unlink,
    .realpath = real_realpath,
    .list_dir = real_list_dir,
    .probe = real_probe,
    .run = real_run,
};

const clus_volume_sys *clus_volume_sys_default(void)
{
    return &real_sys;
}

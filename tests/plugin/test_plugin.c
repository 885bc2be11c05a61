/*
 * test_plugin.c - a resource type in a .so, the way third parties write
 * them: it includes only clus/restype.h and exports clus_startup and
 * clus_type_names. Type "testplug": Online creates a marker file named by
 * the `marker` parameter, Offline removes it; IsAlive = the file exists.
 * Blocking (no CLUS_RESTYPE_F_LOOP): its entry points run on workers.
 */
#include <clus/restype.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct testplug {
    char marker[4096];
};

const char *const clus_type_names[] = {"testplug", NULL};

uint32_t clus_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                      const clus_monitor_callbacks *callbacks, const clus_restype_ops **ops);

static uint32_t tp_open(const clus_open_args *args, clus_resid *resid)
{
    const char *marker = clus_params_get(args->params, "marker");
    struct testplug *t;

    if (marker == NULL || marker[0] != '/')
        return 87; /* ERROR_INVALID_PARAMETER: marker must be an absolute path */
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return 8;
    snprintf(t->marker, sizeof(t->marker), "%s", marker);
    *resid = t;
    return 0;
}

static void tp_close(clus_resid resid)
{
    free(resid);
}

static uint32_t tp_online(clus_resid resid, clus_online_args *args)
{
    struct testplug *t = resid;
    int fd = open(t->marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        return 5; /* ERROR_ACCESS_DENIED */
    close(fd);
    return 0;
}

static uint32_t tp_offline(clus_resid resid, const clus_offline_args *args)
{
    struct testplug *t = resid;

    unlink(t->marker);
    return 0;
}

static void tp_terminate(clus_resid resid)
{
    struct testplug *t = resid;

    unlink(t->marker);
}

static bool tp_alive(clus_resid resid)
{
    struct testplug *t = resid;

    return access(t->marker, F_OK) == 0;
}

static const clus_restype_ops tp_ops = {
    .size = sizeof(clus_restype_ops),
    .version = CLUS_RESTYPE_VERSION_1,
    .open = tp_open,
    .close = tp_close,
    .online = tp_online,
    .offline = tp_offline,
    .terminate = tp_terminate,
    .looks_alive = tp_alive,
    .is_alive = tp_alive,
};

uint32_t clus_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                      const clus_monitor_callbacks *callbacks, const clus_restype_ops **ops)
{
    if (strcmp(type_name, "testplug") != 0)
        return 5080; /* ERROR_CLUSTER_RESNAME_NOT_FOUND */
    if (min_version > CLUS_RESTYPE_VERSION_1 || max_version < CLUS_RESTYPE_VERSION_1)
        return 1306; /* ERROR_REVISION_MISMATCH */
    *ops = &tp_ops;
    return 0;
}

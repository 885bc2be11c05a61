#include "registry.h"
#include "log.h"
#include "status.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct type_entry {
    char *name;
    char *origin;
    clus_startup_fn startup;
    void *dl_handle; /* shared by every type of one plug-in; closed by the first */
    const clus_restype_ops *ops;
};

struct clus_registry {
    const clus_monitor_callbacks *callbacks;
    struct type_entry *types;
    size_t count, cap;
};

clus_registry *clus_registry_new(const clus_monitor_callbacks *callbacks)
{
    clus_registry *registry = calloc(1, sizeof(*registry));

    if (registry != NULL)
        registry->callbacks = callbacks;
    return registry;
}

void clus_registry_free(clus_registry *registry)
{
    if (registry == NULL)
        return;
    for (size_t i = 0; i < registry->count; i++) {
        free(registry->types[i].name);
        free(registry->types[i].origin);
    }
    /* Plug-ins stay mapped: a type's threads may outlive the registry. */
    free(registry->types);
    free(registry);
}

static struct type_entry *registry_find(const clus_registry *registry, const char *name)
{
    size_t len = strcspn(name, ":"); /* "ocf:heartbeat:Dummy" -> "ocf" */

    for (size_t i = 0; i < registry->count; i++) {
        if (strlen(registry->types[i].name) == len &&
            strncmp(registry->types[i].name, name, len) == 0)
            return &registry->types[i];
    }
    return NULL;
}

uint32_t clus_registry_add(clus_registry *registry, const char *name, const char *origin,
                           clus_startup_fn startup, void *dl_handle)
{
    struct type_entry *e;

    if (registry_find(registry, name) != NULL)
        return CLUS_E_OBJECT_ALREADY_EXISTS;
    if (registry->count == registry->cap) {
        size_t cap = registry->cap ? registry->cap * 2 : 8;
        struct type_entry *grown = realloc(registry->types, cap * sizeof(*grown));
        if (grown == NULL)
            return CLUS_E_NOT_ENOUGH_MEMORY;
        registry->types = grown;
        registry->cap = cap;
    }
    e = &registry->types[registry->count];
    memset(e, 0, sizeof(*e));
    e->name = strdup(name);
    e->origin = strdup(origin);
    if (e->name == NULL || e->origin == NULL) {
        free(e->name);
        free(e->origin);
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    e->startup = startup;
    e->dl_handle = dl_handle;
    registry->count++;
    return CLUS_OK;
}

/* A table the agent can call: right version, big enough, required entries. */
static bool ops_valid(const clus_restype_ops *ops, char *err, size_t errlen)
{
    if (ops == NULL || ops->size < CLUS_RESTYPE_OPS_SIZE_1 ||
        ops->version != CLUS_RESTYPE_VERSION_1) {
        snprintf(err, errlen, "the type returned an ops table of the wrong size or version");
        return false;
    }
    if (!ops->open || !ops->close || !ops->online || !ops->offline || !ops->terminate ||
        !ops->looks_alive || !ops->is_alive) {
        snprintf(err, errlen, "the type's ops table lacks a required entry point");
        return false;
    }
    return true;
}

uint32_t clus_registry_get(clus_registry *registry, const char *name, uint32_t min_version,
                           uint32_t max_version, clus_type_view *view, char *err, size_t errlen)
{
    struct type_entry *e = registry_find(registry, name);
    const clus_restype_ops *ops = NULL;
    uint32_t status;

    if (e == NULL) {
        snprintf(err, errlen, "no resource type '%.64s' (see the types call)", name);
        return CLUS_E_RESTYPE_NOT_SUPPORTED;
    }
    if (min_version > CLUS_RESTYPE_VERSION_1 || max_version < CLUS_RESTYPE_VERSION_1) {
        snprintf(err, errlen, "this agent speaks ops-table version 0x%x only",
                 CLUS_RESTYPE_VERSION_1);
        return CLUS_E_REVISION_MISMATCH;
    }
    if (e->ops == NULL) {
        status = e->startup(e->name, min_version, max_version, registry->callbacks, &ops);
        if (status != CLUS_OK) {
            snprintf(err, errlen, "Startup of type '%s' failed: %s", e->name,
                     clus_status_text(status));
            return status;
        }
        if (!ops_valid(ops, err, errlen))
            return CLUS_E_REVISION_MISMATCH;
        e->ops = ops;
    }
    view->name = e->name;
    view->origin = e->origin;
    view->ops = e->ops;
    view->loop_native = (e->ops->flags & CLUS_RESTYPE_F_LOOP) != 0;
    return CLUS_OK;
}

size_t clus_registry_count(const clus_registry *registry)
{
    return registry->count;
}

void clus_registry_at(const clus_registry *registry, size_t i, clus_type_view *view)
{
    const struct type_entry *e = &registry->types[i];

    view->name = e->name;
    view->origin = e->origin;
    view->ops = e->ops;
    view->loop_native = e->ops != NULL && (e->ops->flags & CLUS_RESTYPE_F_LOOP);
}

static uint32_t plugin_path_check(const char *plugin_dir, const char *path, char *real, char *err,
                                  size_t errlen)
{
    char dir[PATH_MAX];
    size_t len;

    if (plugin_dir == NULL || realpath(plugin_dir, dir) == NULL) {
        snprintf(err, errlen, "the agent has no plug-in directory (--plugin-dir)");
        return CLUS_E_ACCESS_DENIED;
    }
    if (realpath(path, real) == NULL) {
        snprintf(err, errlen, "plug-in '%.200s' not found", path);
        return CLUS_E_FILE_NOT_FOUND;
    }
    len = strlen(dir);
    if (strncmp(real, dir, len) != 0 || real[len] != '/') {
        snprintf(err, errlen, "plug-in '%.200s' is outside the plug-in directory %.200s", path,
                 dir);
        return CLUS_E_ACCESS_DENIED;
    }
    return CLUS_OK;
}

static void plugin_default_name(const char *real, char *name, size_t len)
{
    const char *base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
    size_t n;

    if (strncmp(base, "lib", 3) == 0)
        base += 3;
    n = strcspn(base, ".");
    snprintf(name, len, "%.*s", (int)n, base);
}

uint32_t clus_registry_load_plugin(clus_registry *registry, const char *plugin_dir,
                                   const char *path, char *err, size_t errlen)
{
    char real[PATH_MAX], name[128];
    const char *const *names;
    clus_startup_fn startup;
    void *dl;
    uint32_t status = plugin_path_check(plugin_dir, path, real, err, errlen);

    if (status != CLUS_OK)
        return status;
    dl = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        snprintf(err, errlen, "cannot load %.200s: %.200s", real, dlerror());
        return CLUS_E_INVALID_PARAMETER;
    }
    *(void **)&startup = dlsym(dl, CLUS_STARTUP_SYMBOL);
    if (startup == NULL) {
        snprintf(err, errlen, "%.200s has no %s symbol", real, CLUS_STARTUP_SYMBOL);
        dlclose(dl);
        return CLUS_E_INVALID_PARAMETER;
    }
    names = dlsym(dl, "clus_type_names");
    if (names == NULL) {
        plugin_default_name(real, name, sizeof(name));
        status = clus_registry_add(registry, name, real, startup, dl);
    } else {
        for (size_t i = 0; names[i] != NULL && status == CLUS_OK; i++)
            status = clus_registry_add(registry, names[i], real, startup, dl);
    }
    if (status != CLUS_OK)
        snprintf(err, errlen, "%.200s: a type of that name is already registered", real);
    else
        clus_info("loaded plug-in %s", real);
    return status;
}

void clus_registry_load_dir(clus_registry *registry, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *entry;
    char path[PATH_MAX], err[512];

    if (d == NULL) {
        clus_warn("plug-in directory %s: cannot open it", dir);
        return;
    }
    while ((entry = readdir(d)) != NULL) {
        size_t n = strlen(entry->d_name);
        if (n < 4 || strcmp(entry->d_name + n - 3, ".so") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
        if (clus_registry_load_plugin(registry, dir, path, err, sizeof(err)) != CLUS_OK)
            clus_warn("plug-in %s not loaded: %s", path, err);
    }
    closedir(d);
}

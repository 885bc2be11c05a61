/*
 * registry.h - the agent's resource types (Startup / StartupEx).
 *
 * Built-in types and .so plug-ins are registered the same way: a name and a
 * clus_startup_fn. Startup runs when a type is first used (or asked for by
 * the Startup call); its ops table is checked (size, version, required entry
 * points) before the type may host anything. Loop thread only.
 */
#ifndef CLUS_AGENT_REGISTRY_H
#define CLUS_AGENT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <clus/restype.h>

typedef struct clus_registry clus_registry;

typedef struct clus_type_view {
    const char *name;
    const char *origin;          /* "builtin" or the plug-in's path */
    const clus_restype_ops *ops; /* NULL until started */
    bool loop_native;
} clus_type_view;

clus_registry *clus_registry_new(const clus_monitor_callbacks *callbacks);
void clus_registry_free(clus_registry *registry);

/* Adds a type. 5010 if the name is taken. */
uint32_t clus_registry_add(clus_registry *registry, const char *name, const char *origin,
                           clus_startup_fn startup, void *dl_handle);

/* Loads every *.so in dir (errors are logged, not fatal). */
void clus_registry_load_dir(clus_registry *registry, const char *dir);

/* Loads one plug-in; path must resolve inside plugin_dir. The type names
 * are the symbol clus_type_names (NULL-terminated) or the file name without
 * "lib" and ".so". */
uint32_t clus_registry_load_plugin(clus_registry *registry, const char *plugin_dir,
                                   const char *path, char *err, size_t errlen);

/* Finds a type and starts it if needed. "ocf:heartbeat:Dummy" finds "ocf".
 * 5079 unknown type, 1306 version mismatch, other Startup errors. */
uint32_t clus_registry_get(clus_registry *registry, const char *name, uint32_t min_version,
                           uint32_t max_version, clus_type_view *view, char *err, size_t errlen);

size_t clus_registry_count(const clus_registry *registry);
void clus_registry_at(const clus_registry *registry, size_t i, clus_type_view *view);

#endif

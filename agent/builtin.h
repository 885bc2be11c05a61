/*
 * builtin.h - the resource types compiled into the agent. Each has the same
 * startup function as a plug-in (clus_startup_fn in clus/restype.h).
 */
#ifndef CLUS_AGENT_BUILTIN_H
#define CLUS_AGENT_BUILTIN_H

#include <clus/restype.h>

uint32_t clus_dummy_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                                 const clus_monitor_callbacks *callbacks,
                                 const clus_restype_ops **ops);
uint32_t clus_process_type_startup(const char *type_name, uint32_t min_version,
                                   uint32_t max_version, const clus_monitor_callbacks *callbacks,
                                   const clus_restype_ops **ops);
uint32_t clus_ocf_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                               const clus_monitor_callbacks *callbacks,
                               const clus_restype_ops **ops);
/* Where the process type finds the lease guard (guard.h): the agent's own
 * executable (NULL: commands run unguarded) and the node's lease file. */
void clus_process_type_configure(const char *guard_exe, const char *lease_file);

uint32_t clus_volume_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                                  const clus_monitor_callbacks *callbacks,
                                  const clus_restype_ops **ops);

#endif

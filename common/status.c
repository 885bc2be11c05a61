/*
 * status.c - the table of Win32 codes clus uses, and the errno mapping.
 */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct status_entry {
    uint32_t code;
    const char *name;
    const char *text;
};

static const struct status_entry status_table[] = {
    {CLUS_OK, "ERROR_SUCCESS", "The operation completed successfully."},
    {CLUS_E_INVALID_FUNCTION, "ERROR_INVALID_FUNCTION", "Incorrect function."},
    {CLUS_E_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND", "The system cannot find the file specified."},
    {CLUS_E_ACCESS_DENIED, "ERROR_ACCESS_DENIED", "Access is denied."},
    {CLUS_E_INVALID_HANDLE, "ERROR_INVALID_HANDLE", "The handle is invalid."},
    {CLUS_E_NOT_ENOUGH_MEMORY, "ERROR_NOT_ENOUGH_MEMORY", "Not enough memory."},
    {CLUS_E_WRITE_PROTECT, "ERROR_WRITE_PROTECT", "The media is write protected."},
    {CLUS_E_NOT_READY, "ERROR_NOT_READY", "The device is not ready."},
    {CLUS_E_GEN_FAILURE, "ERROR_GEN_FAILURE",
     "A device attached to the system is not functioning."},
    {CLUS_E_SHARING_VIOLATION, "ERROR_SHARING_VIOLATION", "The file is in use by another process."},
    {CLUS_E_NOT_SUPPORTED, "ERROR_NOT_SUPPORTED", "The request is not supported."},
    {CLUS_E_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER", "The parameter is incorrect."},
    {CLUS_E_INSUFFICIENT_BUFFER, "ERROR_INSUFFICIENT_BUFFER", "The data area is too small."},
    {CLUS_E_BUSY, "ERROR_BUSY", "The requested resource is in use."},
    {CLUS_E_ALREADY_EXISTS, "ERROR_ALREADY_EXISTS", "The object already exists."},
    {CLUS_E_MORE_DATA, "ERROR_MORE_DATA", "More data is available."},
    {CLUS_E_OPERATION_ABORTED, "ERROR_OPERATION_ABORTED", "The operation was aborted."},
    {CLUS_E_IO_PENDING, "ERROR_IO_PENDING", "The operation is in progress."},
    {CLUS_E_IO_DEVICE, "ERROR_IO_DEVICE", "The request failed because of an I/O device error."},
    {CLUS_E_DEVICE_NOT_CONNECTED, "ERROR_DEVICE_NOT_CONNECTED", "The device is not connected."},
    {CLUS_E_NOT_FOUND, "ERROR_NOT_FOUND", "Element not found."},
    {CLUS_E_CANCELLED, "ERROR_CANCELLED", "The operation was cancelled."},
    {CLUS_E_NETWORK_UNREACHABLE, "ERROR_NETWORK_UNREACHABLE", "The network is unreachable."},
    {CLUS_E_REVISION_MISMATCH, "ERROR_REVISION_MISMATCH", "The revision level is unknown."},
    {CLUS_E_TIMEOUT, "ERROR_TIMEOUT", "The operation timed out."},
    {CLUS_E_RESOURCE_NOT_ONLINE, "ERROR_RESOURCE_NOT_ONLINE", "The resource is not online."},
    {CLUS_E_RESOURCE_NOT_AVAILABLE, "ERROR_RESOURCE_NOT_AVAILABLE",
     "The resource is not available (another node holds it)."},
    {CLUS_E_RESOURCE_NOT_FOUND, "ERROR_RESOURCE_NOT_FOUND", "The resource was not found."},
    {CLUS_E_OBJECT_ALREADY_EXISTS, "ERROR_OBJECT_ALREADY_EXISTS", "The object already exists."},
    {CLUS_E_RESOURCE_ONLINE, "ERROR_RESOURCE_ONLINE", "The operation needs the resource offline."},
    {CLUS_E_INVALID_STATE, "ERROR_INVALID_STATE", "The object is not in the right state."},
    {CLUS_E_RESOURCE_PROPERTIES_STORED, "ERROR_RESOURCE_PROPERTIES_STORED",
     "The properties were stored and take effect at the next online."},
    {CLUS_E_RESOURCE_FAILED, "ERROR_RESOURCE_FAILED", "The resource failed."},
    {CLUS_E_CLUSTER_NODE_NOT_FOUND, "ERROR_CLUSTER_NODE_NOT_FOUND", "The node was not found."},
    {CLUS_E_CLUSTER_NODE_DOWN, "ERROR_CLUSTER_NODE_DOWN", "The node is down."},
    {CLUS_E_CLUSTER_NODE_UNREACHABLE, "ERROR_CLUSTER_NODE_UNREACHABLE",
     "The node cannot be reached."},
    {CLUS_E_NODE_CANT_HOST_RESOURCE, "ERROR_NODE_CANT_HOST_RESOURCE",
     "The node is not a possible owner of the resource."},
    {CLUS_E_RESTYPE_NOT_SUPPORTED, "ERROR_CLUSTER_RESTYPE_NOT_SUPPORTED",
     "The resource type is not supported."},
    {CLUS_E_RESNAME_NOT_FOUND, "ERROR_CLUSTER_RESNAME_NOT_FOUND",
     "The resource type name was not found."},
    {CLUS_E_RESMON_INVALID_STATE, "ERROR_RESMON_INVALID_STATE",
     "The resource monitor is in an invalid state."},
    {CLUS_E_RESOURCE_CALL_TIMED_OUT, "ERROR_RESOURCE_CALL_TIMED_OUT",
     "The call to the resource type timed out."},
    {CLUS_E_RESOURCE_LOCKED_STATUS, "ERROR_CLUSTER_RESOURCE_LOCKED_STATUS",
     "The resource is locked."},
};

static const struct status_entry *status_find(uint32_t status)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
        if (status_table[i].code == status)
            return &status_table[i];
    }
    return NULL;
}

const char *clus_status_name(uint32_t status)
{
    static _Thread_local char unknown[32];
    const struct status_entry *e = status_find(status);

    if (e != NULL)
        return e->name;
    snprintf(unknown, sizeof(unknown), "ERROR_%u", status);
    return unknown;
}

const char *clus_status_text(uint32_t status)
{
    const struct status_entry *e = status_find(status);

    return e != NULL ? e->text : "Unknown error.";
}

uint32_t clus_status_parse(const char *name, uint32_t *out)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
        const char *full = status_table[i].name;
        const char *bare = strncmp(full, "ERROR_", 6) == 0 ? full + 6 : full;

        if (strcasecmp(name, full) == 0 || strcasecmp(name, bare) == 0) {
            *out = status_table[i].code;
            return CLUS_OK;
        }
    }
    return CLUS_E_INVALID_PARAMETER;
}

uint32_t clus_status_from_errno(int err)
{
    switch (err) {
    case 0:
        return CLUS_OK;
    case EBUSY:
        return CLUS_E_BUSY;
    case EROFS:
        return CLUS_E_WRITE_PROTECT;
    case EIO:
        return CLUS_E_IO_DEVICE;
    case ENXIO:
    case ENODEV:
        return CLUS_E_DEVICE_NOT_CONNECTED;
    case ETIMEDOUT:
        return CLUS_E_TIMEOUT;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case ENOTBLK:
        return CLUS_E_INVALID_PARAMETER;
    case ECANCELED:
        return CLUS_E_OPERATION_ABORTED;
    case EPERM:
    case EACCES:
        return CLUS_E_ACCESS_DENIED;
    case EEXIST:
        return CLUS_E_ALREADY_EXISTS;
    case ENOENT:
        return CLUS_E_FILE_NOT_FOUND;
    case ENOMEM:
        return CLUS_E_NOT_ENOUGH_MEMORY;
    case EAGAIN:
        return CLUS_E_BUSY;
    case ENOTSUP:
        return CLUS_E_NOT_SUPPORTED;
    case ENOSPC:
        return CLUS_E_IO_DEVICE;
    default:
        return CLUS_E_GEN_FAILURE;
    }
}

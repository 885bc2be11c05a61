/*
 * status.h - the one error language of clus: Win32 system error codes.
 *
 * Every function that can fail returns one of these (0 = success). errno is
 * converted once, where the system call fails, with clus_status_from_errno().
 * The names and numbers are those of the Windows resource DLL model
 * (see ../shared/reference/wsfc-model.md section 5).
 */
#ifndef CLUS_STATUS_H
#define CLUS_STATUS_H

#include <stdint.h>

enum {
    CLUS_OK = 0,
    CLUS_E_INVALID_FUNCTION = 1,
    CLUS_E_FILE_NOT_FOUND = 2,
    CLUS_E_ACCESS_DENIED = 5,
    CLUS_E_INVALID_HANDLE = 6,
    CLUS_E_NOT_ENOUGH_MEMORY = 8,
    CLUS_E_WRITE_PROTECT = 19,
    CLUS_E_NOT_READY = 21,
    CLUS_E_GEN_FAILURE = 31,
    CLUS_E_SHARING_VIOLATION = 32,
    CLUS_E_NOT_SUPPORTED = 50,
    CLUS_E_INVALID_PARAMETER = 87,
    CLUS_E_INSUFFICIENT_BUFFER = 122,
    CLUS_E_BUSY = 170,
    CLUS_E_ALREADY_EXISTS = 183,
    CLUS_E_MORE_DATA = 234,
    CLUS_E_OPERATION_ABORTED = 995,
    CLUS_E_IO_PENDING = 997,
    CLUS_E_IO_DEVICE = 1117,
    CLUS_E_DEVICE_NOT_CONNECTED = 1167,
    CLUS_E_NOT_FOUND = 1168,
    CLUS_E_CANCELLED = 1223,
    CLUS_E_NETWORK_UNREACHABLE = 1231,
    CLUS_E_REVISION_MISMATCH = 1306,
    CLUS_E_TIMEOUT = 1460,
    CLUS_E_RESOURCE_NOT_ONLINE = 5004,
    CLUS_E_RESOURCE_NOT_AVAILABLE = 5006,
    CLUS_E_RESOURCE_NOT_FOUND = 5007,
    CLUS_E_OBJECT_ALREADY_EXISTS = 5010,
    CLUS_E_RESOURCE_ONLINE = 5019,
    CLUS_E_INVALID_STATE = 5023,
    CLUS_E_RESOURCE_PROPERTIES_STORED = 5024,
    CLUS_E_RESOURCE_FAILED = 5038,
    CLUS_E_CLUSTER_NODE_NOT_FOUND = 5042,
    CLUS_E_CLUSTER_NODE_DOWN = 5050,
    CLUS_E_CLUSTER_NODE_UNREACHABLE = 5051,
    CLUS_E_NODE_CANT_HOST_RESOURCE = 5071,
    CLUS_E_RESTYPE_NOT_SUPPORTED = 5079,
    CLUS_E_RESNAME_NOT_FOUND = 5080,
    CLUS_E_RESMON_INVALID_STATE = 5084,
    CLUS_E_RESOURCE_CALL_TIMED_OUT = 5910,
    CLUS_E_RESOURCE_LOCKED_STATUS = 5960,
};

/* The symbolic name of a code ("ERROR_NOT_READY"); "ERROR_<n>" for codes
 * outside the table (the returned pointer is then to a thread-local buffer). */
const char *clus_status_name(uint32_t status);

/* A short sentence describing the code ("The device is not ready."). */
const char *clus_status_text(uint32_t status);

/* Maps an errno value to the Win32 code used at that system call. 0 -> 0. */
uint32_t clus_status_from_errno(int err);

/* Looks a name up ("ERROR_BUSY" or "BUSY", any case). Returns 0 and sets *out,
 * or CLUS_E_INVALID_PARAMETER when the name is unknown. */
uint32_t clus_status_parse(const char *name, uint32_t *out);

#endif

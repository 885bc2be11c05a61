/*
 * ocf_codes.c - the one table from OCF exit codes to Win32 status codes, and
 * the description of an action's end. docs/ocf.md shows the same table.
 *
 * The status column is what an entry point fails with when an action ends
 * with that code; the health column is what the code means as a monitor's
 * answer (8, 190 and 191 mean "running", in a role or a state clus has no
 * use for: they are logged, not failures).
 */
#include "ocf_internal.h"

#include "status.h"

#include <stdio.h>

static const struct ocf_code ocf_codes[] = {
    {0, "OCF_SUCCESS", CLUS_OK, OCF_HEALTH_RUNNING, "success"},
    {1, "OCF_ERR_GENERIC", CLUS_E_GEN_FAILURE, OCF_HEALTH_FAILED, "generic error"},
    {2, "OCF_ERR_ARGS", CLUS_E_INVALID_PARAMETER, OCF_HEALTH_FAILED,
     "invalid arguments (for this node)"},
    {3, "OCF_ERR_UNIMPLEMENTED", CLUS_E_NOT_SUPPORTED, OCF_HEALTH_FAILED, "action not implemented"},
    {4, "OCF_ERR_PERM", CLUS_E_ACCESS_DENIED, OCF_HEALTH_FAILED, "insufficient permissions"},
    {5, "OCF_ERR_INSTALLED", CLUS_E_FILE_NOT_FOUND, OCF_HEALTH_FAILED,
     "a required component is not installed"},
    {6, "OCF_ERR_CONFIGURED", CLUS_E_NOT_FOUND, OCF_HEALTH_FAILED,
     "the configuration is invalid (on every node)"},
    {7, "OCF_NOT_RUNNING", CLUS_E_RESOURCE_NOT_ONLINE, OCF_HEALTH_NOT_RUNNING, "not running"},
    {8, "OCF_RUNNING_MASTER", CLUS_E_RESOURCE_ONLINE, OCF_HEALTH_RUNNING,
     "running in the promoted (master) role"},
    {9, "OCF_FAILED_MASTER", CLUS_E_RESOURCE_FAILED, OCF_HEALTH_FAILED,
     "failed in the promoted (master) role"},
    {190, "OCF_DEGRADED", CLUS_E_GEN_FAILURE, OCF_HEALTH_RUNNING, "running, degraded"},
    {191, "OCF_DEGRADED_PROMOTED", CLUS_E_GEN_FAILURE, OCF_HEALTH_RUNNING,
     "running in the promoted role, degraded"},
};

static const struct ocf_code ocf_unknown = {-1, "OCF_UNKNOWN", CLUS_E_GEN_FAILURE,
                                            OCF_HEALTH_FAILED,
                                            "an exit code outside the OCF standard"};

const struct ocf_code *ocf_code_lookup(int rc)
{
    for (size_t i = 0; i < sizeof(ocf_codes) / sizeof(ocf_codes[0]); i++) {
        if (ocf_codes[i].rc == rc)
            return &ocf_codes[i];
    }
    return &ocf_unknown;
}

const struct ocf_code *ocf_code_table(size_t *n)
{
    *n = sizeof(ocf_codes) / sizeof(ocf_codes[0]);
    return ocf_codes;
}

uint32_t ocf_result_status(const struct ocf_result *r)
{
    if (r->spawn_status != CLUS_OK)
        return r->spawn_status;
    if (r->timed_out)
        return CLUS_E_TIMEOUT;
    if (r->overflow)
        return CLUS_E_INSUFFICIENT_BUFFER;
    if (r->rc < 0)
        return CLUS_E_OPERATION_ABORTED; /* killed by a signal we did not send */
    return ocf_code_lookup(r->rc)->status;
}

void ocf_result_describe(const struct ocf_result *r, uint32_t timeout_ms, char *out, size_t len)
{
    const struct ocf_code *code;

    if (r->spawn_status != CLUS_OK) {
        snprintf(out, len, "could not be started: %s", clus_status_text(r->spawn_status));
    } else if (r->timed_out) {
        snprintf(out, len, "timed out after %u ms: its process group was killed", timeout_ms);
    } else if (r->overflow) {
        snprintf(out, len, "printed more than the %u bytes allowed: its process group was killed",
                 (unsigned)(r->out != NULL ? r->out->limit : 0));
    } else if (r->rc < 0) {
        snprintf(out, len, "was killed by signal %d", r->signal);
    } else {
        code = ocf_code_lookup(r->rc);
        snprintf(out, len, "exit %d (%s: %s)", r->rc, code->name, code->meaning);
    }
}

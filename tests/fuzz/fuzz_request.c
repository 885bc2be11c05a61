/*
 * fuzz_request.c - libFuzzer target: the request decoder and the checks every
 * handler applies to what it decoded (names, flags, parameter keys, control
 * codes), and re-encoding what was decoded. (A decoded request does not
 * always decode again after re-encoding: protobuf-c keeps unknown fields, and
 * accepted an over-long tag for field 0 that it then writes canonically and
 * refuses - corpus/request/regression-field0-overlong-tag. The agent never
 * re-encodes a request, so only "no crash, no leak" is asserted.)
 */
#include "clus/v1/clus.pb-c.h"
#include "names.h"
#include "params.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The members of the oneof share storage: only the one call_case names may
 * be read (as the agent's dispatcher does). */
static void check_strings(const Clus__V1__Request *r)
{
    char err[256];
    uint32_t flags;

    switch (r->call_case) {
    case CLUS__V1__REQUEST__CALL_OPEN:
    case CLUS__V1__REQUEST__CALL_OPEN_V2:
        clus_name_valid(r->open->resource);
        for (size_t i = 0; i < r->open->n_params; i++)
            clus_param_key_valid(r->open->params[i]->key);
        break;
    case CLUS__V1__REQUEST__CALL_ONLINE_V2:
        clus_name_valid(r->online_v2->resource);
        break;
    case CLUS__V1__REQUEST__CALL_OFFLINE_V2:
        clus_name_valid(r->offline_v2->destination_node);
        break;
    case CLUS__V1__REQUEST__CALL_RESOURCE_CONTROL:
        clus_control_code_name(r->resource_control->control_code);
        break;
    case CLUS__V1__REQUEST__CALL_STATE:
        clus_flags_parse(CLUS_FLAGS_ONLINE, r->state->resource, &flags, err, sizeof(err));
        clus_control_code_parse(r->state->resource, false, &flags);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Clus__V1__Request *r = clus__v1__request__unpack(NULL, size, data);
    uint8_t *again;
    size_t len;

    if (r == NULL)
        return 0;
    check_strings(r);
    len = clus__v1__request__get_packed_size(r);
    again = malloc(len ? len : 1);
    clus__v1__request__pack(r, again);
    clus__v1__request__free_unpacked(r, NULL);
    r = clus__v1__request__unpack(NULL, len, again);
    if (r != NULL)
        clus__v1__request__free_unpacked(r, NULL);
    free(again);
    return 0;
}

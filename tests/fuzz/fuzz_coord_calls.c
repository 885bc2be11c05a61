/*
 * fuzz_coord_calls.c - libFuzzer target: the coordinator's request decoding
 * and every call's validation (coordinator/api.c and admin.c). A
 * clus-coordinator runs in this process (fuzz_daemon.h) with a small
 * cluster whose agents are never there (their inproc:// names have no
 * listener: the links keep dialling, agent calls time out), and each input
 * goes to it as one CoordRequest frame. Checked: every frame is answered,
 * in time, with a CoordResponse that decodes and carries the request's id.
 *
 * A watch that decodes is sent with wait_ms 0, so an input never parks.
 * The coordinator's state (desired states, drains, counters) carries over
 * from input to input, as it would in a long-lived coordinator.
 */
#include "coordinator.h"
#include "fuzz_daemon.h"

#include "clus/v1/coordinator.pb-c.h"

#include <stdint.h>

#define COORD_URL "inproc://clus-fuzz-coordinator"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cluster_yaml[] = "lease_ms: 1000\n"
                                   "renew_ms: 250\n"
                                   "nodes:\n"
                                   "  - { name: n1, agent: 'inproc://clus-fuzz-none-n1' }\n"
                                   "  - { name: n2, agent: 'inproc://clus-fuzz-none-n2' }\n"
                                   "  - { name: n3, agent: 'inproc://clus-fuzz-none-n3' }\n"
                                   "resources:\n"
                                   "  - name: web\n"
                                   "    type: dummy\n"
                                   "    preferred_owners: [n1, n2]\n"
                                   "  - name: db\n"
                                   "    type: dummy\n"
                                   "    possible_owners: [n2, n3]\n"
                                   "    policy: { failback: true }\n";

static clus_rpc_client *coord_client;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    clus_coordinator_config config = {
        .listen_url = COORD_URL, .state_dir = fuzz_state_dir("coordinator"), .contexts = 8};
    clus_clusterdef *def = NULL;
    clus_coordinator *co;
    char err[512];

    (void)argc;
    (void)argv;
    clus_log_init("fuzz-coordinator", CLUS_LOG_LEVEL_SEVERE);
    if (clus_clusterdef_parse(cluster_yaml, sizeof(cluster_yaml) - 1, "fuzz", &def, err,
                              sizeof(err)) != 0)
        fuzz_die("cluster definition", err);
    uv_loop_init(&fuzz_loop);
    if (clus_coordinator_start(&fuzz_loop, &config, def, &co, err, sizeof(err)) != 0)
        fuzz_die("coordinator start", err);
    fuzz_loop_start();
    coord_client = fuzz_connect(COORD_URL);
    return 0;
}

/* The frame to send: the input, or (a decodable watch) its re-encoding
 * with wait_ms 0. *owned is set when the frame was allocated here. */
static const uint8_t *frame_for(const uint8_t *data, size_t size, size_t *len, uint64_t *id,
                                uint8_t **owned)
{
    Clus__V1__CoordRequest *q = clus__v1__coord_request__unpack(NULL, size, data);

    *owned = NULL;
    *len = size;
    *id = 0;
    if (q == NULL)
        return data;
    *id = q->request_id;
    if (q->call_case == CLUS__V1__COORD_REQUEST__CALL_WATCH && q->watch->wait_ms != 0) {
        q->watch->wait_ms = 0;
        *len = clus__v1__coord_request__get_packed_size(q);
        if ((*owned = malloc(*len ? *len : 1)) == NULL)
            fuzz_die("frame", "out of memory");
        clus__v1__coord_request__pack(q, *owned);
    }
    clus__v1__coord_request__free_unpacked(q, NULL);
    return *owned != NULL ? *owned : data;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *owned;
    uint64_t id;
    size_t len, reply_len = 0;
    const uint8_t *frame;
    void *reply;
    Clus__V1__CoordResponse *resp;

    if (size > 60000) /* the coordinator drops frames over 64 KiB: no answer to check */
        return -1;
    frame = frame_for(data, size, &len, &id, &owned);
    reply = fuzz_call(coord_client, frame, len, &reply_len);
    resp = clus__v1__coord_response__unpack(NULL, reply_len, reply);
    if (resp == NULL)
        fuzz_die("reply", "the coordinator's answer is not a clus.v1.CoordResponse");
    if (resp->request_id != id)
        fuzz_die("reply", "the answer carries another request_id");
    clus__v1__coord_response__free_unpacked(resp, NULL);
    free(reply);
    free(owned);
    return 0;
}

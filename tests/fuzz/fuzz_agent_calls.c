/*
 * fuzz_agent_calls.c - libFuzzer target: every call's validation in the
 * real agent. A clus-agent runs in this process (fuzz_daemon.h) and each
 * input goes to it as one request frame, through the same rpc server and
 * dispatch a remote caller reaches. Checked: the agent answers every frame
 * (within FUZZ_REPLY_MS) with a Response that decodes and carries the
 * request's id, and nothing crashes, leaks or trips a sanitizer.
 *
 * Safety: the agent hosts every built-in type, and three act on the machine
 * (process runs commands, volume takes block devices offline, ocf runs
 * scripts). An input that decodes is re-encoded with those type names
 * replaced by `dummy` (names no type has are kept: the unknown-type paths
 * are validation too); one that does not decode is sent as it is. Watch
 * calls do not park (wait_ms 0), so an input never waits.
 *
 * Determinism: after each input every resource is closed and two are made
 * again, so each input meets the same agent: `web` (dummy, Offline) and
 * `db` (dummy, Online), which the seeds name. The event history and a
 * lease an input took remain (both bounded).
 */
#include "agent.h"
#include "fuzz_daemon.h"

#include "clus/v1/clus.pb-c.h"

#include <stdint.h>

#define AGENT_URL "inproc://clus-fuzz-agent"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static clus_rpc_client *agent_client;

static void agent_prepare(void);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    clus_agent_config config = {.listen_url = AGENT_URL,
                                .state_dir = fuzz_state_dir("agent"),
                                .contexts = 4,
                                .call_bound_ms = 20,
                                .event_history = 256};
    clus_agent *agent;
    char err[512];

    (void)argc;
    (void)argv;
    clus_log_init("fuzz-agent", CLUS_LOG_LEVEL_SEVERE); /* quiet: bad input is logged */
    uv_loop_init(&fuzz_loop);
    if (clus_agent_start(&fuzz_loop, &config, &agent, err, sizeof(err)) != 0)
        fuzz_die("agent start", err);
    fuzz_loop_start();
    agent_client = fuzz_connect(AGENT_URL);
    agent_prepare();
    return 0;
}

/* Type names that act on the machine become `dummy` (see the top). The
 * slot keeps the decoded string, put back before the message is freed. */
struct type_slot {
    char **field;
    char *saved;
};

static void type_tame(char **field, struct type_slot *slot)
{
    static char dummy[] = "dummy";
    static const char *const host_types[] = {"process", "volume", "ocf"};

    slot->field = NULL;
    if (field == NULL || *field == NULL)
        return;
    for (size_t i = 0; i < sizeof(host_types) / sizeof(host_types[0]); i++) {
        if (strcmp(*field, host_types[i]) == 0) {
            slot->field = field;
            slot->saved = *field;
            *field = dummy;
            return;
        }
    }
}

/* The type name a call carries, if any. */
static char **call_type(Clus__V1__Request *r)
{
    switch (r->call_case) {
    case CLUS__V1__REQUEST__CALL_OPEN:
        return &r->open->type;
    case CLUS__V1__REQUEST__CALL_OPEN_V2:
        return &r->open_v2->type;
    case CLUS__V1__REQUEST__CALL_RESOURCE_TYPE_CONTROL:
        return &r->resource_type_control->type;
    case CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_TYPE_CONTROL:
        return &r->begin_resource_type_control->type;
    case CLUS__V1__REQUEST__CALL_BEGIN_RESOURCE_TYPE_CONTROL_AS_USER:
        return &r->begin_resource_type_control_as_user->type;
    case CLUS__V1__REQUEST__CALL_STARTUP:
        return &r->startup->type;
    case CLUS__V1__REQUEST__CALL_STARTUP_EX:
        return &r->startup_ex->type;
    default:
        return NULL;
    }
}

/* The frame to send: the input, or its tamed re-encoding. *owned is set
 * when the frame was allocated here. (A re-encoding is not always decoded
 * the same: protobuf-c keeps unknown fields and writes some canonically,
 * corpus/request/regression-field0-overlong-tag; such an input then meets
 * a 87 with request_id 0, which is still a valid answer.) */
static const uint8_t *frame_for(const uint8_t *data, size_t size, size_t *len, uint64_t *id,
                                uint8_t **owned)
{
    Clus__V1__Request *r = clus__v1__request__unpack(NULL, size, data);
    struct type_slot slot;

    *owned = NULL;
    *len = size;
    *id = 0;
    if (r == NULL)
        return data;
    *id = r->request_id;
    type_tame(call_type(r), &slot);
    if (slot.field == NULL &&
        (r->call_case != CLUS__V1__REQUEST__CALL_WATCH || r->watch->wait_ms == 0)) {
        /* Unchanged: the input's own bytes (a re-encoding may differ). */
        clus__v1__request__free_unpacked(r, NULL);
        return data;
    }
    if (r->call_case == CLUS__V1__REQUEST__CALL_WATCH)
        r->watch->wait_ms = 0;
    *len = clus__v1__request__get_packed_size(r);
    *owned = malloc(*len ? *len : 1);
    if (*owned != NULL)
        clus__v1__request__pack(r, *owned);
    if (slot.field != NULL)
        *slot.field = slot.saved;
    clus__v1__request__free_unpacked(r, NULL);
    if (*owned == NULL)
        fuzz_die("frame", "out of memory");
    return *owned;
}

static Clus__V1__Response *agent_call(Clus__V1__Request *req)
{
    size_t len = clus__v1__request__get_packed_size(req), reply_len = 0;
    uint8_t *frame = malloc(len ? len : 1);
    void *reply;
    Clus__V1__Response *resp;

    if (frame == NULL)
        fuzz_die("frame", "out of memory");
    clus__v1__request__pack(req, frame);
    reply = fuzz_call(agent_client, frame, len, &reply_len);
    resp = clus__v1__response__unpack(NULL, reply_len, reply);
    free(frame);
    free(reply);
    return resp;
}

static void agent_expect(Clus__V1__Request *req, const char *what)
{
    Clus__V1__Response *resp = agent_call(req);

    if (resp == NULL)
        fuzz_die(what, "the answer does not decode");
    clus__v1__response__free_unpacked(resp, NULL);
}

/* web (Offline) and db (Online), both dummy. */
static void agent_prepare(void)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__OpenCall open = CLUS__V1__OPEN_CALL__INIT;
    Clus__V1__OnlineCall online = CLUS__V1__ONLINE_CALL__INIT;
    static const char *const names[] = {"web", "db"};

    for (size_t i = 0; i < 2; i++) {
        open.resource = (char *)names[i];
        open.type = (char *)"dummy";
        req.call_case = CLUS__V1__REQUEST__CALL_OPEN;
        req.open = &open;
        agent_expect(&req, "prepare: open");
    }
    online.resource = (char *)"db";
    req.call_case = CLUS__V1__REQUEST__CALL_ONLINE;
    req.online = &online;
    agent_expect(&req, "prepare: online");
}

/* Closes every resource the input left (Close terminates first). */
static void agent_reset(void)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__AgentStatusCall status = CLUS__V1__AGENT_STATUS_CALL__INIT;
    Clus__V1__Response *resp;

    req.call_case = CLUS__V1__REQUEST__CALL_STATUS;
    req.status = &status;
    resp = agent_call(&req);
    if (resp == NULL || resp->result_case != CLUS__V1__RESPONSE__RESULT_AGENT)
        fuzz_die("reset", "the status call did not answer with the agent's status");
    for (size_t i = 0; i < resp->agent->n_resources; i++) {
        Clus__V1__Request close = CLUS__V1__REQUEST__INIT;
        Clus__V1__ResourceRef ref = CLUS__V1__RESOURCE_REF__INIT;

        ref.resource = resp->agent->resources[i]->name;
        close.call_case = CLUS__V1__REQUEST__CALL_CLOSE;
        close.close = &ref;
        agent_expect(&close, "reset: close");
    }
    clus__v1__response__free_unpacked(resp, NULL);
    agent_prepare();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *owned;
    uint64_t id;
    size_t len, reply_len = 0;
    const uint8_t *frame;
    void *reply;
    Clus__V1__Response *resp;

    if (size > 65536) /* the agent's limit is 4 MiB; big inputs only slow the search */
        return -1;
    frame = frame_for(data, size, &len, &id, &owned);
    reply = fuzz_call(agent_client, frame, len, &reply_len);
    resp = clus__v1__response__unpack(NULL, reply_len, reply);
    if (resp == NULL)
        fuzz_die("reply", "the agent's answer is not a clus.v1.Response");
    if (resp->request_id != id && !(owned != NULL && resp->request_id == 0))
        fuzz_die("reply", "the answer carries another request_id");
    clus__v1__response__free_unpacked(resp, NULL);
    free(reply);
    free(owned);
    agent_reset();
    return 0;
}

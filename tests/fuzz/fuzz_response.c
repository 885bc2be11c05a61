/*
 * fuzz_response.c - libFuzzer target: what a client does with bytes an agent
 * or coordinator sent back (a peer may be broken or hostile): decode a
 * clus.v1.Response, read it through the library's accessors, render it as
 * clusctl does (JSON and text, client/json.c and cli.c), and decode and
 * render an EventBatch's events one by one (the watch output); a
 * CoordResponse is decoded and re-encoded.
 */
#include "cli.h"
#include "client_internal.h"

#include "clus/v1/clus.pb-c.h"
#include "clus/v1/coordinator.pb-c.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
json_t *clus_event_json(const Clus__V1__Event *ev); /* client/json.c */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (freopen("/dev/null", "w", stdout) == NULL) /* clusctl's output: rendered, not kept */
        abort();
    return 0;
}

/* The reply as client.c makes it from a decoded Response (it owns resp). */
static void render_reply(Clus__V1__Response *resp)
{
    clus_reply *r = calloc(1, sizeof(*r));
    cli_ctx text = {.command = "fuzz"}, json = {.json = true, .command = "fuzz"};
    char *out;

    if (r == NULL || (r->message = strdup(resp->message ? resp->message : "")) == NULL)
        abort();
    r->status = resp->status;
    r->resp = resp;
    (void)clus_reply_status(r);
    (void)clus_reply_resource(r);
    (void)clus_reply_state(r);
    (void)clus_reply_alive(r);
    (void)clus_reply_seq(r);
    (void)clus_reply_call_id(r);
    out = clus_reply_json(r, true);
    free(out);
    cli_print(&text, r, true);
    cli_print(&json, r, false);
    clus_reply_free(r);
}

static void render_events(const uint8_t *data, size_t size)
{
    Clus__V1__EventBatch *batch = clus__v1__event_batch__unpack(NULL, size, data);

    if (batch == NULL)
        return;
    for (size_t i = 0; i < batch->n_events; i++) {
        json_t *o = clus_event_json(batch->events[i]);
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        free(text);
        json_decref(o);
    }
    clus__v1__event_batch__free_unpacked(batch, NULL);
}

static void coord_response(const uint8_t *data, size_t size)
{
    Clus__V1__CoordResponse *resp = clus__v1__coord_response__unpack(NULL, size, data);
    uint8_t *again;
    size_t len;

    if (resp == NULL)
        return;
    len = clus__v1__coord_response__get_packed_size(resp);
    if ((again = malloc(len ? len : 1)) == NULL)
        abort();
    clus__v1__coord_response__pack(resp, again);
    free(again);
    clus__v1__coord_response__free_unpacked(resp, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Clus__V1__Response *resp = clus__v1__response__unpack(NULL, size, data);

    if (resp != NULL)
        render_reply(resp);
    render_events(data, size);
    coord_response(data, size);
    return 0;
}

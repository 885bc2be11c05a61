/*
 * fuzz_ocf_meta.c - libFuzzer target: an OCF agent's meta-data (the XML an
 * agent prints for `meta-data`, parsed with libxml2 by agent/types/
 * ocf_meta.c; docs/ocf.md) and the durations in it. A resource agent is a
 * script anyone can install, so its output is untrusted input.
 */
#include "types/ocf_internal.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xmlInitParser();
    return 0;
}

/* What the type reads from parsed meta-data: every parameter and action by
 * name (each must be found again), and the monitor at any depth. */
static void walk(const struct ocf_meta *meta)
{
    for (size_t i = 0; i < meta->n_params; i++) {
        if (ocf_meta_param(meta, meta->params[i].name) == NULL)
            __builtin_trap();
    }
    for (size_t i = 0; i < meta->n_actions; i++) {
        if (ocf_meta_action(meta, meta->actions[i].name, meta->actions[i].depth) == NULL)
            __builtin_trap();
    }
    (void)ocf_meta_action(meta, "monitor", -1);
    (void)ocf_meta_param(meta, "");
}

/* The same bytes as a duration ("20s", "500ms", ...), NUL-terminated. */
static void duration(const uint8_t *data, size_t size)
{
    char text[64];
    uint32_t ms;

    if (size >= sizeof(text))
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)ocf_duration_ms(text, &ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ocf_meta *meta = NULL;
    char err[512];

    if (ocf_meta_parse((const char *)data, size, &meta, err, sizeof(err)) == 0) {
        walk(meta);
        ocf_meta_free(meta);
    }
    duration(data, size);
    return 0;
}

/*
 * fuzz_clusterdef.c - libFuzzer target: the cluster definition loader
 * (common/clusterdef.c, libfyaml underneath) on arbitrary text, then what
 * the coordinator reads from an accepted definition: lookups by name,
 * possible owners, per-node parameters.
 */
#include "clusterdef.h"
#include "log.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    clus_log_init("fuzz-clusterdef", CLUS_LOG_LEVEL_SEVERE);
    return 0;
}

static void walk(const clus_clusterdef *def)
{
    clus_param params[CLUS_DEF_MAX_PARAMS];

    for (size_t i = 0; i < def->n_nodes; i++) {
        if (clus_clusterdef_node(def, def->nodes[i].name) < 0)
            __builtin_trap(); /* a node it accepted must be found by its name */
    }
    for (size_t i = 0; i < def->n_resources; i++) {
        const clus_def_resource *r = &def->resources[i];
        if (clus_clusterdef_resource(def, r->name) < 0)
            __builtin_trap();
        for (size_t n = 0; n < def->n_nodes; n++) {
            (void)clus_def_possible(r, n);
            (void)clus_def_params_for(r, n, params, CLUS_DEF_MAX_PARAMS);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clus_clusterdef *def = NULL;
    char err[512];

    if (size > 256 * 1024) /* the file limit is 4 MiB; more only slows the search */
        return -1;
    if (clus_clusterdef_parse((const char *)data, size, "fuzz.yaml", &def, err, sizeof(err)) == 0) {
        walk(def);
        clus_clusterdef_free(def);
    }
    return 0;
}

#include "config.h"
#include "names.h"
#include "params.h"
#include "status.h"

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The 1-based line of a scalar node (0 when libfyaml cannot tell). */
static int node_line(struct fy_node *node)
{
    struct fy_token *token = node ? fy_node_get_scalar_token(node) : NULL;
    const struct fy_mark *m = token ? fy_token_start_mark(token) : NULL;

    return m != NULL ? m->line + 1 : 0;
}

static uint32_t file_set(clus_agent_file *out, const char *key, int line, struct fy_node *value,
                         const char *path, char *err, size_t errlen)
{
    char **strings[] = {&out->listen, &out->state_dir, &out->plugin_dir, &out->log_level};
    static const char *const string_keys[] = {"listen", "state_dir", "plugin_dir", "log_level"};
    const char *text = fy_node_is_scalar(value) ? fy_node_get_scalar0(value) : NULL;

    if (text == NULL) {
        snprintf(err, errlen, "%s:%d: %s must be a scalar", path, line, key);
        return CLUS_E_INVALID_PARAMETER;
    }
    for (int i = 0; i < 4; i++) {
        if (strcmp(key, string_keys[i]) == 0) {
            free(*strings[i]);
            *strings[i] = strdup(text);
            return *strings[i] != NULL ? CLUS_OK : CLUS_E_NOT_ENOUGH_MEMORY;
        }
    }
    if (strcmp(key, "call_bound_ms") == 0 && clus_parse_u32(text, 600000, &out->call_bound_ms) &&
        out->call_bound_ms > 0)
        return CLUS_OK;
    if (strcmp(key, "contexts") == 0 && clus_parse_u32(text, 4096, &out->contexts) &&
        out->contexts > 0)
        return CLUS_OK;
    snprintf(err, errlen, "%s:%d: unknown key or bad value: %s: %.80s", path, line, key, text);
    return CLUS_E_INVALID_PARAMETER;
}

#define AGENT_FILE_MAX (1u << 20)

/* The file's text (malloc'ed, *len bytes), or NULL with the reason in err.
 * Only printable UTF-8 goes on to libfyaml (names.h: clus_yaml_text_valid). */
static char *file_text(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *text = f != NULL ? malloc(AGENT_FILE_MAX + 1) : NULL;
    size_t bad_at = 0;

    *len = text != NULL ? fread(text, 1, AGENT_FILE_MAX + 1, f) : 0;
    if (text == NULL || ferror(f) || *len > AGENT_FILE_MAX) {
        snprintf(err, errlen, "%s: cannot read it (or larger than %u bytes)", path, AGENT_FILE_MAX);
        free(text);
        text = NULL;
    } else if (!clus_yaml_text_valid(text, *len, &bad_at)) {
        snprintf(err, errlen,
                 "%s: byte %zu is a tab, a control character or not UTF-8 (indent with spaces)",
                 path, bad_at);
        free(text);
        text = NULL;
    }
    if (f != NULL)
        fclose(f);
    return text;
}

uint32_t clus_agent_file_load(const char *path, clus_agent_file *out, char *err, size_t errlen)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    size_t len = 0;
    char *text = file_text(path, &len, err, errlen);
    struct fy_document *doc = text != NULL ? fy_document_build_from_string(&cfg, text, len) : NULL;
    struct fy_node *root;
    struct fy_node_pair *pair;
    void *iter = NULL;
    uint32_t status = CLUS_OK;

    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return CLUS_E_INVALID_PARAMETER;
    if (doc == NULL) {
        snprintf(err, errlen, "%s: cannot read it as YAML", path);
        free(text);
        return CLUS_E_INVALID_PARAMETER;
    }
    root = fy_document_root(doc);
    if (root != NULL && !fy_node_is_mapping(root)) {
        snprintf(err, errlen, "%s:1: the top level must be a mapping", path);
        status = CLUS_E_INVALID_PARAMETER;
    }
    while (status == CLUS_OK && root != NULL &&
           (pair = fy_node_mapping_iterate(root, &iter)) != NULL) {
        struct fy_node *key = fy_node_pair_key(pair);
        const char *k = key && fy_node_is_scalar(key) ? fy_node_get_scalar0(key) : "";
        status =
            file_set(out, k ? k : "", node_line(key), fy_node_pair_value(pair), path, err, errlen);
    }
    fy_document_destroy(doc);
    free(text); /* the document pointed into it */
    if (status != CLUS_OK)
        clus_agent_file_free(out);
    return status;
}

void clus_agent_file_free(clus_agent_file *file)
{
    free(file->listen);
    free(file->state_dir);
    free(file->plugin_dir);
    free(file->log_level);
    memset(file, 0, sizeof(*file));
}

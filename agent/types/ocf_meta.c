/*
 * ocf_meta.c - an agent's meta-data (the OCF resource-agent XML document)
 * parsed with libxml2 into struct ocf_meta: its parameters (required,
 * unique, default, type) and its advertised actions (timeout, interval,
 * depth).
 *
 * The document comes from a program we run, so it is untrusted input: it is
 * size-bounded, parsed without network access, without loading external
 * DTDs and without substituting entities (libxml2's defaults keep entity
 * expansion bounded), and every string we keep is length-checked. Action
 * timeouts and intervals are hints: one that does not parse is treated as
 * not advertised (the defaults apply); a parameter without a usable name
 * makes the whole document unusable (1306).
 */
#include "ocf_internal.h"

#include "status.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_STRING_MAX 4096 /* a default value or a description we keep */

/* ------------------------------------------------------------ durations */

struct unit {
    const char *suffix;
    uint64_t ms;
};

bool ocf_duration_ms(const char *text, uint32_t *out)
{
    static const struct unit units[] = {{"", 1000},     {"s", 1000},    {"sec", 1000},
                                        {"ms", 1},      {"msec", 1},    {"m", 60000},
                                        {"min", 60000}, {"h", 3600000}, {"hr", 3600000}};
    const char *p = text;
    uint64_t value = 0;

    while (*p == ' ')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    for (; isdigit((unsigned char)*p); p++) {
        value = value * 10 + (uint64_t)(*p - '0');
        if (value > OCF_TIMEOUT_MAX_MS)
            return false;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t n = strlen(units[i].suffix);
        if (strncmp(p, units[i].suffix, n) == 0 && strspn(p + n, " ") == strlen(p + n)) {
            if (value * units[i].ms > OCF_TIMEOUT_MAX_MS)
                return false;
            *out = (uint32_t)(value * units[i].ms);
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------ helpers */

struct meta_parse {
    struct ocf_meta *meta;
    char *err;
    size_t errlen;
    uint32_t status;
};

static bool parse_fail(struct meta_parse *mp, uint32_t status, const char *what)
{
    if (mp->status == CLUS_OK) {
        mp->status = status;
        snprintf(mp->err, mp->errlen, "%s", what);
    }
    return false;
}

/* A copy of attribute name (NULL when absent or longer than max). */
static char *attr_copy(xmlNode *node, const char *name, size_t max)
{
    xmlChar *value = xmlGetProp(node, (const xmlChar *)name);
    char *copy = NULL;

    if (value != NULL && strlen((const char *)value) <= max)
        copy = strdup((const char *)value);
    xmlFree(value);
    return copy;
}

static bool attr_true(xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetProp(node, (const xmlChar *)name);
    bool yes = value != NULL &&
               (strcmp((const char *)value, "1") == 0 || strcmp((const char *)value, "true") == 0 ||
                strcmp((const char *)value, "yes") == 0);

    xmlFree(value);
    return yes;
}

static bool is_element(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

static xmlNode *child_element(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent->children; n != NULL; n = n->next) {
        if (is_element(n, name))
            return n;
    }
    return NULL;
}

/* The text of <name> under parent, whitespace-trimmed, bounded. */
static char *child_text(xmlNode *parent, const char *name)
{
    xmlNode *node = child_element(parent, name);
    xmlChar *text = node != NULL ? xmlNodeGetContent(node) : NULL;
    const char *p = (const char *)text;
    char *copy = NULL;
    size_t n;

    if (p != NULL) {
        while (isspace((unsigned char)*p))
            p++;
        n = strlen(p);
        while (n > 0 && isspace((unsigned char)p[n - 1]))
            n--;
        copy = strndup(p, n < META_STRING_MAX ? n : META_STRING_MAX);
    }
    xmlFree(text);
    return copy;
}

static bool name_usable(const char *name)
{
    return name != NULL && *name != '\0' && strlen(name) <= OCF_PART_MAX;
}

/* ------------------------------------------------------------ elements */

static bool parse_parameter(struct meta_parse *mp, xmlNode *node)
{
    struct ocf_meta *m = mp->meta;
    struct ocf_meta_param *p;
    xmlNode *content;

    if (m->n_params == OCF_META_PARAMS_MAX)
        return parse_fail(mp, CLUS_E_REVISION_MISMATCH, "more than 256 parameters");
    p = &m->params[m->n_params];
    p->name = attr_copy(node, "name", OCF_PART_MAX);
    if (!name_usable(p->name)) {
        free(p->name);
        p->name = NULL;
        return parse_fail(mp, CLUS_E_REVISION_MISMATCH,
                          "a <parameter> has no name, or one longer than 64 bytes");
    }
    m->n_params++;
    p->required = attr_true(node, "required");
    p->unique = attr_true(node, "unique");
    content = child_element(node, "content");
    if (content != NULL) {
        p->type = attr_copy(content, "type", OCF_PART_MAX);
        p->default_value = attr_copy(content, "default", META_STRING_MAX);
    }
    return true;
}

static void parse_action_times(struct ocf_meta_action *a, xmlNode *node)
{
    char *text = attr_copy(node, "timeout", 32);

    if (text == NULL || !ocf_duration_ms(text, &a->timeout_ms))
        a->timeout_ms = 0;
    free(text);
    text = attr_copy(node, "interval", 32);
    if (text == NULL || !ocf_duration_ms(text, &a->interval_ms))
        a->interval_ms = 0;
    free(text);
    text = attr_copy(node, "depth", 8);
    a->depth = 0;
    if (text != NULL && strspn(text, "0123456789") == strlen(text) && *text != '\0')
        a->depth = atoi(text);
    free(text);
}

static bool parse_action(struct meta_parse *mp, xmlNode *node)
{
    struct ocf_meta *m = mp->meta;
    struct ocf_meta_action *a;

    if (m->n_actions == OCF_META_ACTIONS_MAX)
        return parse_fail(mp, CLUS_E_REVISION_MISMATCH, "more than 64 actions");
    a = &m->actions[m->n_actions];
    a->name = attr_copy(node, "name", OCF_PART_MAX);
    if (!name_usable(a->name)) {
        free(a->name);
        a->name = NULL;
        return true; /* a nameless action advertises nothing: skip it */
    }
    m->n_actions++;
    parse_action_times(a, node);
    return true;
}

static bool parse_list(struct meta_parse *mp, xmlNode *root, const char *list, const char *item,
                       bool (*fn)(struct meta_parse *, xmlNode *))
{
    xmlNode *parent = child_element(root, list);

    for (xmlNode *n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next) {
        if (is_element(n, item) && !fn(mp, n))
            return false;
    }
    return true;
}

static bool parse_root(struct meta_parse *mp, xmlNode *root)
{
    struct ocf_meta *m = mp->meta;

    if (root == NULL || !is_element(root, "resource-agent"))
        return parse_fail(mp, CLUS_E_REVISION_MISMATCH,
                          "the document's root is not <resource-agent>");
    m->name = attr_copy(root, "name", OCF_PART_MAX);
    m->version = attr_copy(root, "version", OCF_PART_MAX);
    m->shortdesc = child_text(root, "shortdesc");
    m->params = calloc(OCF_META_PARAMS_MAX, sizeof(*m->params));
    m->actions = calloc(OCF_META_ACTIONS_MAX, sizeof(*m->actions));
    if (m->params == NULL || m->actions == NULL)
        return parse_fail(mp, CLUS_E_NOT_ENOUGH_MEMORY, "out of memory");
    return parse_list(mp, root, "parameters", "parameter", parse_parameter) &&
           parse_list(mp, root, "actions", "action", parse_action);
}

/* ------------------------------------------------------------ entry */

static void xml_error(xmlParserCtxtPtr ctxt, char *err, size_t errlen)
{
    const xmlError *e = ctxt != NULL ? xmlCtxtGetLastError(ctxt) : NULL;
    char message[200] = "unknown error";
    size_t n;

    if (e != NULL && e->message != NULL) {
        snprintf(message, sizeof(message), "%s", e->message);
        n = strlen(message);
        while (n > 0 && isspace((unsigned char)message[n - 1]))
            message[--n] = '\0';
    }
    snprintf(err, errlen, "the meta-data is not valid XML (line %d: %s)", e ? e->line : 0, message);
}

uint32_t ocf_meta_parse(const char *xml, size_t len, struct ocf_meta **out, char *err,
                        size_t errlen)
{
    struct meta_parse mp = {.err = err, .errlen = errlen, .status = CLUS_OK};
    xmlParserCtxtPtr ctxt;
    xmlDocPtr doc;

    *out = NULL;
    if (len > OCF_META_MAX) {
        snprintf(err, errlen, "the meta-data is %zu bytes, more than the %d allowed", len,
                 OCF_META_MAX);
        return CLUS_E_INSUFFICIENT_BUFFER;
    }
    if ((mp.meta = calloc(1, sizeof(*mp.meta))) == NULL || (ctxt = xmlNewParserCtxt()) == NULL) {
        free(mp.meta);
        snprintf(err, errlen, "out of memory");
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "meta-data", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        xml_error(ctxt, err, errlen);
        mp.status = CLUS_E_REVISION_MISMATCH;
    } else {
        parse_root(&mp, xmlDocGetRootElement(doc));
        xmlFreeDoc(doc);
    }
    xmlFreeParserCtxt(ctxt);
    if (mp.status != CLUS_OK) {
        ocf_meta_free(mp.meta);
        return mp.status;
    }
    *out = mp.meta;
    return CLUS_OK;
}

void ocf_meta_free(struct ocf_meta *meta)
{
    if (meta == NULL)
        return;
    for (size_t i = 0; i < meta->n_params; i++) {
        free(meta->params[i].name);
        free(meta->params[i].type);
        free(meta->params[i].default_value);
    }
    for (size_t i = 0; i < meta->n_actions; i++)
        free(meta->actions[i].name);
    free(meta->params);
    free(meta->actions);
    free(meta->name);
    free(meta->version);
    free(meta->shortdesc);
    free(meta);
}

const struct ocf_meta_param *ocf_meta_param(const struct ocf_meta *meta, const char *name)
{
    for (size_t i = 0; i < meta->n_params; i++) {
        if (strcmp(meta->params[i].name, name) == 0)
            return &meta->params[i];
    }
    return NULL;
}

const struct ocf_meta_action *ocf_meta_action(const struct ocf_meta *meta, const char *name,
                                              int depth)
{
    const struct ocf_meta_action *best = NULL;

    for (size_t i = 0; i < meta->n_actions; i++) {
        const struct ocf_meta_action *a = &meta->actions[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if (depth >= 0 && a->depth == depth)
            return a;
        if (depth < 0 && (best == NULL || a->depth < best->depth))
            best = a;
    }
    return best;
}

/*
 * names.h - names of the model's numbers: states, Online/Offline flags,
 * control codes, and the rule for a valid resource name.
 */
#ifndef CLUS_NAMES_H
#define CLUS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUS_NAME_MAX 128

/* 1..128 bytes of [A-Za-z0-9_.-], starting with a letter or digit. */
bool clus_name_valid(const char *name);

/* True when text[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF); else false and *bad_at is the offset
 * of the first byte that is not. YAML input must be UTF-8: the loaders
 * check it before libfyaml sees the text (0.7.12 loops forever on some
 * malformed bytes, found by fuzzing). */
bool clus_utf8_valid(const char *text, size_t len, size_t *bad_at);

/* What the YAML loaders hand to libfyaml: UTF-8 (above) without control
 * characters other than newline and carriage return. YAML's printable set
 * excludes the others; tabs it allows outside indentation, but libfyaml
 * 0.7.12 crashes on some of them (a tab in a run of ':' under a complex key,
 * found by fuzzing), and a cluster definition needs none. False with
 * *bad_at the offset of the first byte that is not. */
bool clus_yaml_text_valid(const char *text, size_t len, size_t *bad_at);

/* "Online", "OnlinePending", ...; "Unknown" for anything else. */
const char *clus_state_name(int state);

enum clus_flag_space { CLUS_FLAGS_ONLINE, CLUS_FLAGS_OFFLINE, CLUS_FLAGS_OPEN };

/* Parses "return-to-source,ignore-resource-status" or a number ("0x6", "6")
 * in the given flag space. Rejects unknown names and bits outside the set:
 * returns 87 and a reason in err. */
uint32_t clus_flags_parse(enum clus_flag_space space, const char *text, uint32_t *out, char *err,
                          size_t errlen);

/* Writes the names of the set bits, comma-separated ("" for 0). */
void clus_flags_format(enum clus_flag_space space, uint32_t flags, char *buf, size_t len);

/* The valid bits of a flag space. */
uint32_t clus_flags_valid(enum clus_flag_space space);

/* Control codes by name ("GET_PRIVATE_PROPERTIES", "CLUSCTL_RESOURCE_...")
 * or number. type_code selects the CLUSCTL_RESOURCE_TYPE_* table. */
uint32_t clus_control_code_parse(const char *text, bool type_code, uint32_t *out);
const char *clus_control_code_name(uint32_t code);

#endif

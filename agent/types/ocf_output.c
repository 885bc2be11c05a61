/*
 * ocf_output.c - what an action prints, kept within bounds: the first
 * `limit` bytes of each stream are kept (the buffer is allocated at the
 * first byte, so a quiet monitor costs nothing), the rest is counted and
 * dropped. An agent that prints megabytes costs us its bound, not its
 * output.
 */
#include "ocf_internal.h"

#include <stdlib.h>
#include <string.h>

#define EXIT_REASON_COOKIE "ocf-exit-reason:"

void ocf_capture_init(struct ocf_capture *cap, size_t limit)
{
    memset(cap, 0, sizeof(*cap));
    cap->limit = limit;
}

void ocf_capture_free(struct ocf_capture *cap)
{
    free(cap->buf);
    cap->buf = NULL;
    cap->len = 0;
}

void ocf_capture_add(struct ocf_capture *cap, const char *data, size_t n)
{
    size_t room = cap->limit - cap->len;
    size_t take = n < room ? n : room;

    if (take > 0 && cap->buf == NULL) {
        /* Allocated at the bound once: reallocating per read would cost
         * more than the memory (64 KiB) while an action runs. */
        if ((cap->buf = malloc(cap->limit + 1)) == NULL)
            take = 0;
    }
    if (take > 0) {
        memcpy(cap->buf + cap->len, data, take);
        cap->len += take;
        cap->buf[cap->len] = '\0';
    }
    cap->dropped += n - take;
}

/* Copies one line for the log: bounded, control bytes shown as '?'. */
static void line_copy(char *out, const char *line, size_t n)
{
    size_t len = n < OCF_LOG_LINE_MAX ? n : OCF_LOG_LINE_MAX;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        out[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    if (n > OCF_LOG_LINE_MAX) {
        memcpy(out + len, "...", 4);
        return;
    }
    out[len] = '\0';
}

size_t ocf_capture_lines(const struct ocf_capture *cap, ocf_line_fn fn, void *arg)
{
    char line[OCF_LOG_LINE_MAX + 4];
    size_t pos = 0, lines = 0, skipped = 0;

    while (cap->buf != NULL && pos < cap->len) {
        const char *start = cap->buf + pos;
        const char *nl = memchr(start, '\n', cap->len - pos);
        size_t n = nl != NULL ? (size_t)(nl - start) : cap->len - pos;
        pos += n + (nl != NULL);
        if (lines == OCF_LOG_LINES_MAX) {
            skipped++;
            continue;
        }
        line_copy(line, start, n);
        fn(arg, line);
        lines++;
    }
    return skipped;
}

void ocf_exit_reason(const struct ocf_capture *err, char *out, size_t len)
{
    const char *p = err != NULL ? err->buf : NULL, *found = NULL;
    size_t cookie = strlen(EXIT_REASON_COOKIE), n;

    out[0] = '\0';
    while (p != NULL && (p = strstr(p, EXIT_REASON_COOKIE)) != NULL) {
        if (p == err->buf || p[-1] == '\n')
            found = p + cookie;
        p += cookie;
    }
    if (found == NULL)
        return;
    n = strcspn(found, "\n");
    if (n > OCF_LOG_LINE_MAX)
        n = OCF_LOG_LINE_MAX;
    if (n >= len)
        n = len - 1;
    line_copy(out, found, n); /* n <= OCF_LOG_LINE_MAX: writes n + 1 bytes */
}

/*
 * log.c - formats a whole line into a buffer, then writes it with one
 * write(2), so lines from several threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "clus";
static enum clus_log_level log_min = CLUS_LOG_LEVEL_INFO;
static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "SEVERE"};

void clus_log_init(const char *program, enum clus_log_level min_level)
{
    log_program = program;
    log_min = min_level;
}

int clus_log_level_parse(const char *name)
{
    static const char *const lower[] = {"debug", "info", "warn", "error", "severe"};

    for (int i = 0; i < 5; i++) {
        if (strcasecmp(name, lower[i]) == 0)
            return i;
    }
    return -1;
}

void clus_log(enum clus_log_level level, const char *fmt, ...)
{
    char line[1024];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    int n;

    if (level < log_min)
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long)(tv.tv_usec / 1000), log_program, (int)getpid(),
                 log_names[level > CLUS_LOG_LEVEL_SEVERE ? CLUS_LOG_LEVEL_SEVERE : level]);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 2; /* truncated: keep the newline */
    line[n++] = '\n';
    (void)!write(STDERR_FILENO, line, (size_t)n);
}

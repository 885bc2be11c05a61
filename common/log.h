/*
 * log.h - one line per record on stderr: time, program, level, message.
 * Safe from any thread (one write per line).
 */
#ifndef CLUS_LOG_H
#define CLUS_LOG_H

enum clus_log_level {
    CLUS_LOG_LEVEL_DEBUG = 0,
    CLUS_LOG_LEVEL_INFO = 1,
    CLUS_LOG_LEVEL_WARN = 2,
    CLUS_LOG_LEVEL_ERROR = 3,
    CLUS_LOG_LEVEL_SEVERE = 4,
};

/* Sets the program name shown in each line and the lowest level written. */
void clus_log_init(const char *program, enum clus_log_level min_level);

/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int clus_log_level_parse(const char *name);

void clus_log(enum clus_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define clus_debug(...) clus_log(CLUS_LOG_LEVEL_DEBUG, __VA_ARGS__)
#define clus_info(...)  clus_log(CLUS_LOG_LEVEL_INFO, __VA_ARGS__)
#define clus_warn(...)  clus_log(CLUS_LOG_LEVEL_WARN, __VA_ARGS__)
#define clus_error(...) clus_log(CLUS_LOG_LEVEL_ERROR, __VA_ARGS__)

#endif

/*
 * libqtest's shared state, for its own source files only.
 */
#ifndef TESTS_QTEST_LIBQTEST_INTERNAL_H
#define TESTS_QTEST_LIBQTEST_INTERNAL_H

#include "libqtest.h"

/* A line-oriented connection (qtest or QMP) with a receive buffer. */
typedef struct QTestChannel {
    int fd;
    GString *inbuf;
} QTestChannel;

typedef struct QTestProcess {
    pid_t pid;          /* 0 once reaped */
    int wstatus;        /* valid once reaped */
    bool reaped;
    int stderr_fd;      /* an unlinked file holding its stderr */
} QTestProcess;

struct QTestState {
    QTestRemote kind;
    char *dir;
    char *bios_path;            /* hlt BIOS, or NULL */
    bool broken;

    QTestProcess vmm;
    QTestProcess remotes[QTEST_MAX_DEVICES];
    unsigned nremotes;

    /* Device ids, their proxy slots and serving remote. */
    char *dev_ids[QTEST_MAX_DEVICES];
    unsigned dev_slots[QTEST_MAX_DEVICES];
    unsigned dev_remote[QTEST_MAX_DEVICES];
    unsigned ndevices;

    QTestChannel qtest;
    QTestChannel qmp;
    GQueue events;              /* JsonNode *, QMP events not yet consumed */

    uint64_t ram_size;
    uint64_t alloc_next;
};

/* Reads one line (without "\n" or "\r\n") before @deadline_ms (monotonic);
 * NULL on EOF, error or timeout. */
char *qtest_channel_read_line(QTestChannel *c, int64_t deadline_ms);
/* Writes all of @data; false on error. */
bool qtest_channel_write(QTestChannel *c, const char *data, size_t len);

/*
 * Marks @s broken, fails the current test with @what and prints every
 * process's stderr as TAP comments (once).
 */
void qtest_set_broken(QTestState *s, const char *what);

/* Kills and reaps every child of @s within bounded waits. */
void qtest_kill_children(QTestState *s);

#endif

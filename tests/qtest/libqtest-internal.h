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

/* --- libqtest-process.c -------------------------------------------------- */

/*
 * Starts @argv (NULL appended here; searched in PATH) with stdin from
 * /dev/null, stdout and stderr into an unlinked capture file, and
 * @src_fds[i] as fd @dst_fds[i] (every other fd closed).  The child gets
 * SIGKILL when the test program dies.  Fills @p; false with @errp set.
 */
bool qtest_spawn(QTestState *s, QTestProcess *p, GPtrArray *argv,
                 const int *src_fds, const int *dst_fds, unsigned nfds,
                 GError **errp);

/* Reaps @p if it exited (true; wstatus set, or -1 if it was not our
 * child).  True at once for a process already reaped or never started. */
bool qtest_process_poll(QTestProcess *p);
/* Polls qtest_process_poll() for up to @timeout_ms. */
bool qtest_process_wait(QTestProcess *p, unsigned timeout_ms);

/* The whole content of file @fd (read with pread); "" when @fd < 0. */
char *qtest_read_fd(int fd);
/* Prints each non-empty line of @text on stderr as "WHO: line". */
void qtest_print_stderr(const char *who, const char *text);

/* Removes the regular files in @dir, then @dir. */
void qtest_remove_dir(const char *dir);

/* Adds / removes @s to / from what the abort and termination handler
 * (installed on first use) cleans up. */
void qtest_register_live(QTestState *s);
void qtest_unregister_live(QTestState *s);

/*
 * Marks @s broken, fails the current test with @what and prints every
 * process's stderr as TAP comments (once).
 */
void qtest_set_broken(QTestState *s, const char *what);

/* Kills and reaps every child of @s within bounded waits. */
void qtest_kill_children(QTestState *s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * test_events.c — the store's event log (lib/events.c):
 *
 *  - a libcairn job's start, commits, restore and finish are logged, one
 *    JSON object per line, in order;
 *  - strings are escaped and a long one is cut, the line still whole;
 *  - past CAIRN_EVENTS_MAX the log is renamed events.jsonl.1;
 *  - a log that is a symbolic link, a FIFO or writable by others is not
 *    written, and the checkpoint succeeds all the same;
 *  - the lock file names its holder and its checkpoint signal.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn.h"
#include "cairn_events.h"
#include "cairn_store.h"
#include "fixture.h"

static cairn_t *open_job(const char *store, uint64_t *v)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.verbose = -1;
    cairn_t *c;
    assert_int_equal(cairn_open(&c, store, &o), 0);
    assert_int_equal(cairn_protect(c, "v", v, sizeof *v), 0);
    return c;
}

/* The log's text, NUL-terminated (the empty string if there is none). */
static char *read_log(const char *store, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", store, name);
    size_t len = 0;
    unsigned char *t = th_exists(path) ? th_read_file(path, &len) : NULL;
    char *s = calloc(1, len + 1);
    if (t)
        memcpy(s, t, len);
    free(t);
    return s;
}

/* The "event" members of the log's lines, joined by spaces; every line is
   a whole JSON object. */
static void events_of(const char *log, char *out, size_t len)
{
    out[0] = 0;
    for (const char *l = log; *l;) {
        const char *nl = strchr(l, '\n');
        assert_non_null(nl);
        assert_true(strncmp(l, "{\"time\":", 8) == 0 && nl[-1] == '}');
        const char *ev = strstr(l, "\"event\":\"");
        assert_true(ev && ev < nl);
        ev += 9;
        size_t n = strcspn(ev, "\"");
        snprintf(out + strlen(out), len - strlen(out), "%s%.*s", *out ? " " : "", (int)n, ev);
        l = nl + 1;
    }
}

static void test_job_events(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 1;
    cairn_t *c = open_job(d->store, &v);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_int_equal(cairn_checkpoint(c), 0);
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_close(c);
    c = open_job(d->store, &v);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(cairn_complete(c), 0);
    cairn_close(c);
    char *log = read_log(d->store, CAIRN_EVENTS_FILE), ev[256];
    events_of(log, ev, sizeof ev);
    assert_string_equal(ev, "start commit commit start restore finished");
    th_assert_contains(log, "\"source\":\"libcairn\"");
    th_assert_contains(log, "\"event\":\"commit\",\"source\":\"libcairn\"");
    th_assert_contains(log, "\"generation\":2,\"bytes\":");
    th_assert_contains(log, "\"event\":\"restore\",\"source\":\"libcairn\"");
    th_assert_contains(strstr(log, "\"restore\""), "\"generation\":2}");
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", d->store, CAIRN_EVENTS_FILE);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(log);
}

static void test_format(void **state)
{
    (void)state;
    char buf[CAIRN_EVENT_LINE_MAX];
    struct cairn__event e = CAIRN_EVENT_INIT(CAIRN_EV_REFUSED, "cairn run");
    e.reason = "a \"quoted\"\nreason\\";
    e.signal = SIGTERM;
    int n = cairn__event_format(&e, buf, sizeof buf);
    buf[n] = 0;
    th_assert_contains(buf, "\"reason\":\"a \\\"quoted\\\"\\u000areason\\\\\"}");
    th_assert_contains(buf, "\"signal\":\"SIGTERM\"");
    th_assert_not_contains(buf, "generation");
    char *big = malloc(10000);
    memset(big, 'x', 9999);
    big[9999] = 0;
    e.reason = big;
    e.command = big;
    n = cairn__event_format(&e, buf, sizeof buf);
    assert_true(n < (int)sizeof buf);
    assert_true(n > 1000);
    assert_memory_equal(buf + n - 6, "...\"}\n", 6);
    buf[n] = 0;
    th_assert_contains(buf, "x...\",\"command\":\"xxx");
    free(big);
}

static void test_rotation(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 1;
    cairn_t *c = open_job(d->store, &v);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", d->store, CAIRN_EVENTS_FILE);
    size_t big = CAIRN_EVENTS_MAX - 20;
    char *fill = malloc(big);
    memset(fill, '\n', big);
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0 && write(fd, fill, big) == (ssize_t)big);
    close(fd);
    free(fill);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_close(c);
    char *log = read_log(d->store, CAIRN_EVENTS_FILE), ev[64];
    events_of(log, ev, sizeof ev);
    assert_string_equal(ev, "commit");
    snprintf(path, sizeof path, "%s/%s", d->store, CAIRN_EVENTS_OLD);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((size_t)st.st_size, big);
    free(log);
}

/* A checkpoint with the log replaced by `what`: committed all the same,
   and nothing written through it. */
static void checkpoint_with_bad_log(struct th_dir *d, const char *what)
{
    uint64_t v = 1;
    char path[4200], target[4200];
    snprintf(path, sizeof path, "%s/%s", d->store, CAIRN_EVENTS_FILE);
    snprintf(target, sizeof target, "%s/target", d->root);
    cairn_t *c = open_job(d->store, &v);
    unlink(path);
    th_write_file(target, "", 0);
    if (!strcmp(what, "symlink"))
        assert_int_equal(symlink(target, path), 0);
    else if (!strcmp(what, "fifo"))
        assert_int_equal(mkfifo(path, 0600), 0);
    else
        assert_int_equal(chmod(path, 0666) == 0 || (th_write_file(path, "", 0),
                                                    chmod(path, 0666)), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_close(c);
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(lstat(path, &st), 0);
    if (S_ISREG(st.st_mode))
        assert_int_equal(st.st_size, 0);
    unlink(path);
    th_rmtree(d->store);
}

static void test_untrusted_log(void **state)
{
    struct th_dir *d = *state;
    checkpoint_with_bad_log(d, "symlink");
    checkpoint_with_bad_log(d, "fifo");
    checkpoint_with_bad_log(d, "writable");
}

static void test_holder(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 1;
    cairn_t *c = open_job(d->store, &v);
    int dfd = open(d->store, O_RDONLY | O_DIRECTORY);
    long pid = 0;
    int sig = 0;
    assert_int_equal(cairn__store_get_holder(dfd, &pid, &sig), 0);
    assert_int_equal(pid, getpid());
    assert_int_equal(sig, SIGUSR1);
    cairn_close(c);
    close(dfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        th_unit_test(test_job_events),
        th_unit_test(test_format),
        th_unit_test(test_rotation),
        th_unit_test(test_untrusted_log),
        th_unit_test(test_holder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

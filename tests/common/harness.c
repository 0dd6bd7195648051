/* SPDX-License-Identifier: MIT */
/*
 * harness.c — helpers for the cmocka suites; see harness.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cairn_image.h"
#include "harness.h"

extern char **environ;

void th_dir_make(struct th_dir *d)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(d->root, sizeof d->root, "%s/cairn-test-XXXXXX", tmp);
    if (!mkdtemp(d->root))
        fail_msg("mkdtemp %s: %s", d->root, strerror(errno));
    snprintf(d->store, sizeof d->store, "%s/store", d->root);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
        return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
    return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int make_writable(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_D || flag == FTW_DNR)
        chmod(path, (st->st_mode & 07777) | S_IRWXU);
    return 0;
}

int th_rmtree(const char *path)
{
    chmod(path, S_IRWXU);
    nftw(path, make_writable, 16, FTW_PHYS);
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void th_dir_remove(struct th_dir *d)
{
    if (d->root[0] && th_rmtree(d->root) < 0)
        fprintf(stderr, "harness: cannot remove %s: %s\n", d->root, strerror(errno));
    d->root[0] = '\0';
}

void th_clear_cairn_env(void)
{
    /* unsetenv() changes environ, so rescan after each removal. */
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; e && *e; e++) {
            if (strncmp(*e, "CAIRN_", 6) != 0)
                continue;
            char name[256];
            size_t n = strcspn(*e, "=");
            if (n >= sizeof name)
                n = sizeof name - 1;
            memcpy(name, *e, n);
            name[n] = '\0';
            unsetenv(name);
            again = 1;
            break;
        }
    }
}

void th_capture_begin(struct th_capture *cap)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/cairn-stderr-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fflush(stderr);
    cap->file_fd = mkstemp(path);
    if (cap->file_fd < 0)
        fail_msg("mkstemp: %s", strerror(errno));
    unlink(path);
    cap->saved_fd = dup(STDERR_FILENO);
    if (cap->saved_fd < 0 || dup2(cap->file_fd, STDERR_FILENO) < 0)
        fail_msg("dup2: %s", strerror(errno));
}

char *th_capture_end(struct th_capture *cap)
{
    fflush(stderr);
    dup2(cap->saved_fd, STDERR_FILENO);
    close(cap->saved_fd);
    off_t len = lseek(cap->file_fd, 0, SEEK_END);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    ssize_t got = pread(cap->file_fd, text, (size_t)len, 0);
    text[got > 0 ? got : 0] = '\0';
    close(cap->file_fd);
    /* Echo it, so a failing test's log shows what libcairn said. */
    if (getenv("TH_ECHO_STDERR"))
        fprintf(stderr, "%s", text);
    return text;
}

void th_assert_contains_(const char *text, const char *needle, const char *file, int line)
{
    if (!text || !strstr(text, needle)) {
        print_error("expected \"%s\" in:\n%s\n", needle, text ? text : "(null)");
        _fail(file, line);
    }
}

void th_assert_not_contains_(const char *text, const char *needle, const char *file, int line)
{
    if (text && strstr(text, needle)) {
        print_error("did not expect \"%s\" in:\n%s\n", needle, text);
        _fail(file, line);
    }
}

unsigned char *th_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    fstat(fd, &st);
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    *len = done;
    return buf;
}

void th_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            fail_msg("cannot write %s: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

int th_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

const char *th_gen_path(const char *store, uint64_t gen)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    if (cairn_store_image_path(store, gen, b, sizeof bufs[0]) < 0)
        fail_msg("path too long");
    return b;
}

size_t th_generations(const char *store, uint64_t *gens, size_t max)
{
    size_t n = 0;
    if (cairn_store_list(store, gens, max, &n) < 0)
        return 0;
    return n;
}

int th_count_names(const char *dir, const char *prefix, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (prefix && strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (suffix && (len < strlen(suffix) || strcmp(e->d_name + len - strlen(suffix), suffix)))
            continue;
        n++;
    }
    closedir(d);
    return n;
}

int th_wait(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

void th_fill_random(void *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
}

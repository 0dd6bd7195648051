/* SPDX-License-Identifier: MIT */
/*
 * run_precheck.c — refusals cairn can see from outside the job, before it
 * sends the checkpoint signal.
 *
 * The runtime refuses a checkpoint it cannot take (runtime/capture.c), but
 * only once its signal has interrupted the job: a thread in poll(),
 * epoll_wait(), select() or a sleep then sees EINTR, at every interval, for
 * a job that will never be checkpointed. A job cairn cannot checkpoint must
 * run as it would without cairn. So what /proc shows for certain — a child
 * process, a socket, a pipe other than stdin/stdout/stderr, an eventfd,
 * epoll, timerfd, signalfd or inotify descriptor, a deleted file — refuses
 * the checkpoint here, with the runtime's own words, and the job is not
 * signalled. The runtime still checks everything itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "run.h"
#include "run_sock.h"

#define MQUEUE_MAGIC 0x19800202

/* A child of any of pid's threads: its pid, or 0. */
static long first_child(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    long child = 0;
    for (struct dirent *e; d && !child && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char kids[320];
        snprintf(kids, sizeof kids, "/proc/%ld/task/%s/children", pid, e->d_name);
        FILE *f = fopen(kids, "re");
        if (f && fscanf(f, "%ld", &child) != 1)
            child = 0;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return child;
}

/* An eventfd, timerfd or signalfd: restored in a process tree (run_sock.c). */
static int tree_object(const char *link)
{
    return !strcmp(link, "anon_inode:[eventfd]") || !strcmp(link, "anon_inode:[timerfd]") ||
           !strcmp(link, "anon_inode:[signalfd]") || !strcmp(link, "anon_inode:[eventpoll]");
}

/* Why the descriptor fd of pid, whose target is link, cannot be checkpointed, or 0. */
static int refuse_fd(long pid, int fd, const char *link, int in_tree, char *why, size_t len)
{
    size_t n = strlen(link);
    if (!strncmp(link, "socket:", 7))
        return !run_sock_restorable(pid, fd, in_tree, why, len);
    else if (!strncmp(link, "pipe:", 5) && fd > 2 && !in_tree)
        snprintf(why, len, "fd %d is a pipe (only stdin/stdout/stderr may be pipes): %s", fd,
                 link);
    else if (!strcmp(link, "anon_inode:[userfaultfd]"))
        return 0; /* the runtime's dirty-page tracker; the job's own are refused inside */
    else if (!strncmp(link, "anon_inode:", 11) && strcmp(link, "anon_inode:[eventpoll]") != 0 &&
             !(in_tree && tree_object(link)))
        snprintf(why, len, "fd %d cannot be checkpointed: %s", fd, link);
    else if (link[0] == '/' && n > 10 && !strcmp(link + n - 10, " (deleted)"))
        snprintf(why, len, "fd %d: deleted or unnamed file %s", fd, link);
    else
        return 0;
    return 1;
}

/* The first descriptor of pid cairn knows it cannot checkpoint, said in why. */
static int refused_fd(long pid, int control_fd, uint64_t sent_ino, int in_tree, char *why,
                      size_t len)
{
    char sent[40] = "";
    if (sent_ino)
        snprintf(sent, sizeof sent, "socket:[%llu]", (unsigned long long)sent_ino);
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    DIR *d = opendir(path);
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        char where[320], link[256];
        snprintf(where, sizeof where, "/proc/%ld/fd/%s", pid, e->d_name);
        ssize_t n = readlink(where, link, sizeof link - 1);
        if (n < 0 || fd == control_fd || fd == RUN_JOB_REGISTER_FD)
            continue;
        link[n] = 0;
        struct statfs fs;
        if (link[0] == '/' && statfs(where, &fs) == 0 && fs.f_type == MQUEUE_MAGIC) {
            /* A POSIX message queue: the namespace's init saves it (run_ipc_mq.c). */
            if (!in_tree)
                snprintf(why, len, "fd %d is a POSIX message queue (%s): saved only in "
                                   "cairn run's namespaces", fd, link);
            found = !in_tree;
            continue;
        }
        if (!sent_ino || strcmp(link, sent) != 0)
            found = refuse_fd(pid, fd, link, in_tree, why, len);
    }
    if (d)
        closedir(d);
    return found;
}

/* pid as the job sees it (the last NSpid of its status), or pid. */
static long inner_pid(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "re");
    long inner = pid;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "NSpid:", 6)) {
            char *last = strrchr(line, '\t');
            inner = last ? atol(last + 1) : pid;
        }
    if (f)
        fclose(f);
    return inner > 0 ? inner : pid;
}

int run_precheck(long pid, int control_fd, uint64_t sent_ino, int in_tree, char *why,
                 size_t len)
{
    long child = in_tree ? 0 : first_child(pid);
    if (child > 0) {
        snprintf(why, len, "the job has a child process (pid %ld)", inner_pid(child));
        return -1;
    }
    return refused_fd(pid, control_fd, sent_ino, in_tree, why, len) ? -1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * progress.c — progress of the image being written, from the writer child
 * (see progress.h). libcairn's writer calls back after each write, about
 * every 512 KiB; a line goes out when the last is old enough. Runs in the
 * forked writer child only: one report at a time, no locking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "cairn_time.h"
#include "cairn_writer.h"
#include "capture.h"
#include "control.h"
#include "progress.h"

static struct {
    int fd;
    uint64_t total;
    uint64_t last_ns; /* 0: nothing sent yet */
} report = {.fd = -1};

static void on_write(void *ctx, uint64_t off)
{
    (void)ctx;
    uint64_t now = cairn__now_ns(CLOCK_MONOTONIC);
    if (report.last_ns && now - report.last_ns < CAIRN_PROGRESS_INTERVAL_NS)
        return;
    report.last_ns = now;
    char line[80] = "PROGRESS ";
    rt_cat_u64(line, sizeof line, off);
    rt_cat(line, sizeof line, " ");
    rt_cat_u64(line, sizeof line, off > report.total ? off : report.total);
    rt_cat(line, sizeof line, "\n");
    ssize_t n;
    do
        n = write(report.fd, line, rt_strlen(line));
    while (n < 0 && errno == EINTR);
}

void rt_progress_start(struct cairn__writer *w, int control_fd, uint64_t total)
{
    report.fd = control_fd;
    report.total = total;
    report.last_ns = 0;
    w->progress = control_fd >= 0 ? on_write : NULL;
    w->progress_ctx = NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * progress.c — "PROGRESS <bytes done> <bytes total>" on cairn's control
 * channel while memory.c reads the job's memory from the image
 * (format/control.h): the first read, then at most one line every
 * CAIRN_PROGRESS_INTERVAL_NS. The total is the bytes of every mapping the
 * image holds (sparse ones: the pages present), counted at the first call.
 * `cairn run` shows them on a terminal for a long restore.
 */
#include "control.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define NR_clock_gettime 228
#define CLOCK_MONOTONIC 1
#define NR_sendto 44
#define MSG_NOSIGNAL 0x4000
#define ENOTSOCK 88

static uint64_t done, total, last_ns;
static int started;

static uint64_t now_ns(void)
{
    struct {
        long sec, nsec;
    } ts = {0, 0};
    sys2(NR_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
}

static void count_total(void)
{
    for (uint64_t i = 0; i < img.core.nmaps; i++)
        if (img.maps[i].flags & CAIRN_MAPF_DATA)
            total += img.mem_len[i];
}

/* MSG_NOSIGNAL: a cairn run gone meanwhile must not leave a SIGPIPE
   pending, which the job would get once resumed. (A pipe, in tests, gets a
   plain write.) */
static void send_line(const char *line, unsigned len)
{
    if (sys6(NR_sendto, img.control_fd, (long)line, len, MSG_NOSIGNAL, 0, 0) == -ENOTSOCK)
        sys3(NR_write, img.control_fd, line, len);
}

static void append(char *line, unsigned *len, const char *s)
{
    while (*s && *len < 79)
        line[(*len)++] = *s++;
}

void r_progress(uint64_t bytes)
{
    done += bytes;
    uint64_t now = now_ns();
    if (started && now - last_ns < CAIRN_PROGRESS_INTERVAL_NS)
        return;
    if (!started)
        count_total();
    started = 1;
    last_ns = now;
    char line[80], a[24], b[24];
    unsigned len = 0;
    append(line, &len, "PROGRESS ");
    append(line, &len, r_dec(a, done));
    append(line, &len, " ");
    append(line, &len, r_dec(b, done > total ? done : total));
    append(line, &len, "\n");
    send_line(line, len);
}

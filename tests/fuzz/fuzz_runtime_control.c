/*
 * fuzz_runtime_control.c — libFuzzer target for the runtime's side of the
 * control channel (runtime/control.h): runtime/runtime.c's read_request,
 * which the checkpoint handler runs to read "CKPT <gen> <path>\n" or
 * "CKPTK <gen> <path>\n" and the 32-byte key from `cairn run`, compiled
 * unchanged through runtime_hosted.c. runtime/identity.c's status_mask (the
 * only parser in identity.c: of /proc/thread-self/status, not of the
 * channel) runs on the same bytes.
 *
 * The input is what the runtime finds on the channel, given to it in a
 * memfd, so the file offset afterwards says how much it read. Checked,
 * each an abort() with a message:
 *   - it never reads past the request: the line up to its newline (or as
 *     much as its buffer holds), then the key if the line asks for one; the
 *     rest is the next request's;
 *   - a request it accepts comes back as a terminated path within its
 *     buffer, keyed as its prefix says;
 *   - a request as cairn writes it (cli/run_job.c request: the prefix, the
 *     generation in decimal, one space, a path of no NUL and under
 *     CAIRN_PROC_PATH_MAX bytes, the newline, within CAIRN_CONTROL_LINE_MAX
 *     with it, then the key) is accepted with exactly that generation,
 *     path and key;
 *   - the empty input is a checkpoint signal that did not come from cairn
 *     (cairn writes its request before it signals): on the live channel,
 *     a socket whose other end is open, read_request must give up at once,
 *     not wait in the handler, the job stopped, for a request to come.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "fuzz_util.h"
#include "process_format.h"
#include "runtime_hosted.h"

static __attribute__((noreturn)) void bug(const char *what)
{
    fprintf(stderr, "fuzz_runtime_control: %s\n", what);
    abort();
}

struct request {
    int keyed;
    uint64_t gen;
    const uint8_t *path;
    size_t path_len, len; /* len: the whole request, key included */
};

/* 1 if data starts with a request as cairn writes it (see above). */
static int as_cairn_writes(const uint8_t *d, size_t n, struct request *q)
{
    size_t i = 0;
    if (n >= 6 && memcmp(d, "CKPTK ", 6) == 0)
        q->keyed = 1, i = 6;
    else if (n >= 5 && memcmp(d, "CKPT ", 5) == 0)
        q->keyed = 0, i = 5;
    else
        return 0;
    size_t digits = i;
    q->gen = 0;
    for (; i < n && d[i] >= '0' && d[i] <= '9'; i++) {
        unsigned v = (unsigned)(d[i] - '0');
        if (q->gen > (UINT64_MAX - v) / 10)
            return 0; /* not a uint64_t */
        q->gen = q->gen * 10 + v;
    }
    if (i == digits || (d[digits] == '0' && i - digits > 1) || i >= n || d[i++] != ' ')
        return 0; /* PRIu64: at least one digit, no leading zero */
    q->path = d + i;
    for (; i < n && d[i] != '\n'; i++)
        if (d[i] == 0)
            return 0;
    q->path_len = (size_t)(d + i - q->path);
    if (i >= n || q->path_len == 0 || q->path_len >= CAIRN_PROC_PATH_MAX ||
        i + 1 > CAIRN_CONTROL_LINE_MAX - 1)
        return 0;
    q->len = i + 1 + (q->keyed ? RTH_KEY_BYTES : 0);
    return q->len <= n;
}

/* What read_request may consume: its line, then the key if it asks for one. */
static size_t request_extent(const uint8_t *d, size_t n, int keyed)
{
    const uint8_t *nl = memchr(d, '\n', n < CAIRN_CONTROL_LINE_MAX - 1 ? n : CAIRN_CONTROL_LINE_MAX - 1);
    size_t line = nl ? (size_t)(nl - d) + 1 : CAIRN_CONTROL_LINE_MAX - 1;
    return line + (keyed ? RTH_KEY_BYTES : 0);
}

static void check_read_request(const uint8_t *data, size_t size)
{
    int fd = memfd_create("cairn-fuzz-runtime-control", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    if (size && pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    uint64_t gen = 0;
    unsigned char key[RTH_KEY_BYTES];
    int keyed = 0, image_fd = -1;
    int rc = rth_read_request(fd, &gen, &image_fd, &keyed, key);
    if (image_fd >= 0)
        bug("a descriptor came from a memfd");
    off_t used = lseek(fd, 0, SEEK_CUR);
    close(fd);
    int asks_key = size >= 6 && memcmp(data, "CKPTK ", 6) == 0;
    if (used < 0 || (size_t)used > request_extent(data, size, asks_key))
        bug("read_request read past its request (the next one's bytes)");
    if (rc == 0 && keyed != asks_key)
        bug("read_request accepted a request with the wrong keyed flag");
    struct request q;
    if (!as_cairn_writes(data, size, &q))
        return;
    if (rc != 0)
        bug("read_request refused a request as cairn writes it");
    if ((size_t)used != q.len)
        bug("read_request did not read the whole request as cairn writes it");
    if (gen != q.gen || keyed != q.keyed)
        bug("read_request read another generation or keyed flag than cairn wrote");
    if (keyed && memcmp(key, data + q.len - RTH_KEY_BYTES, RTH_KEY_BYTES) != 0)
        bug("read_request read another key than cairn wrote");
}

/* A signal with nothing on the channel, cairn's end open. A receive
   timeout bounds the wait of a reader that would block. */
static void check_stray_signal(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    struct timeval limit = {1, 0};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t gen;
    unsigned char key[RTH_KEY_BYTES];
    int keyed, image_fd = -1, rc = rth_read_request(sv[0], &gen, &image_fd, &keyed, key);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(sv[0]);
    close(sv[1]);
    if (rc == 0)
        bug("read_request accepted a request from an empty channel");
    if ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) > 500000000L)
        bug("read_request waits for a request when the channel holds none: a checkpoint "
            "signal not from cairn stops the job until cairn's next request");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        check_stray_signal();
    check_read_request(data, size);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    (void)rth_status_mask(text, "SigPnd:");
    (void)rth_status_mask(text, "ShdPnd:");
    free(text);
    return 0;
}

/*
 * runtime_hosted.c — compiles runtime/runtime.c and runtime/identity.c,
 * unchanged, into an ordinary program, so that the functions that parse
 * what the runtime reads can be fuzzed: read_request (the checkpoint
 * request `cairn run` writes on the control channel) and rt_status_mask (the
 * pending-signal masks of /proc/thread-self/status). Both are static, so
 * the files are included here and the functions reached from the same
 * translation unit; rt_util.c is linked as it is.
 *
 * Everything else those files call (the capture, the writer, the signal
 * virtualisation, the MAC) is stubbed below, and must not be reached: a
 * stub that is aborts. The constructor cairn_runtime_init returns early:
 * without $CAIRN_CONTROL_FD, or at the sodium_init stub, which fails.
 */
#include "../../runtime/runtime.c"
#include "../../runtime/identity.c"

#include "runtime_hosted.h"

int rth_read_request(int fd, uint64_t *gen, int *image_fd, int *keyed_out,
                     unsigned char key[RTH_KEY_BYTES])
{
    _Static_assert(sizeof image_key == RTH_KEY_BYTES, "the runtime's key size");
    control_fd = fd;
    keyed = 0;
    memset(image_key, 0, sizeof image_key);
    int rc = read_request(gen, image_fd);
    *keyed_out = keyed;
    memcpy(key, image_key, sizeof image_key);
    explicit_bzero(image_key, sizeof image_key);
    control_fd = -1;
    return rc;
}

int rth_read_identity(int fd)
{
    static struct rt_state hosted; /* the constructor mapped none */
    struct rt_state *was = state;
    state = &hosted;
    hosted.have_job = 0;
    control_fd = fd;
    read_identity();
    control_fd = -1;
    state = was;
    return hosted.have_job ? 0 : -1;
}

int rth_read_answer(int fd, char *line, size_t cap)
{
    control_fd = fd;
    int rc = read_answer(line, cap);
    control_fd = -1;
    return rc;
}

uint64_t rth_status_mask(const char *text, const char *name)
{
    return rt_status_mask(text, name);
}

/* ---- stubs: the rest of the runtime, never reached ------------------- */

void rt_arch_init(void)
{
}

int sodium_init(void)
{
    return -1; /* the constructor gives up here, whatever the environment */
}

int rt_capture(struct rt_state *st, void *uc, int fd)
{
    abort();
}

int rt_write_image(struct rt_state *st, int fd, uint64_t generation, uint64_t *bytes)
{
    abort();
}

long rt_tree_fork_writer(int own_pidns, void (*writer)(void))
{
    abort();
}

int rt_tree_init(int *channel)
{
    return 0;
}

int rt_tree_register_fd(void)
{
    return -1;
}

/* The fuzzed job keeps its channel: the endpoint is never needed. */
int rt_tree_rejoin(int at)
{
    (void)at;
    return -1;
}

int rt_tree_files(struct rt_state *st)
{
    (void)st;
    return 0;
}

void rt_eintr_note(void *uc)
{
    (void)uc;
}

void rt_arch_call_on_stack(void *top, void (*fn)(void *), void *arg)
{
    abort();
}

void rt_arch_writer_detach(const struct cairn_proc_core *core)
{
    abort();
}

void rt_arch_writer_tls(uint64_t fs, uint64_t lo, uint64_t hi, unsigned char *buf)
{
    abort();
}

void rt_arch_exit(int status)
{
    abort();
}

int rt_signals_init(int fd, int in_tree)
{
    abort();
}

void rt_signals_before_capture(void)
{
    abort();
}

int rt_sigmask_raw(int how, const uint64_t *set, uint64_t *old)
{
    abort();
}

int rt_threads_init(void)
{
    abort();
}

int rt_threads_stop(struct rt_state *st, void *uc)
{
    abort();
}

void rt_threads_release(void)
{
    abort();
}

size_t cairn__mac_size(void)
{
    abort();
}

struct cairn__mac *cairn__mac_init_at(void *mem, const unsigned char key[CAIRN_KEY_BYTES])
{
    abort();
}

int cairn__writer_section(struct cairn__writer *w, const struct cairn__section *s,
                          const void *data, uint64_t size)
{
    abort();
}

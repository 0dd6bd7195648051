/* SPDX-License-Identifier: MIT */
/*
 * restore.c — cairn-restore, the freestanding restorer: rebuilds a
 * checkpointed job inside its own process and resumes it.
 *
 *   cairn-restore IMAGE_FD CONTROL_FD [NAME [PARENT_FD...]]
 *
 * `cairn run` (the job's parent) opens and verifies the image and execs
 * this program in the child that becomes the job, with the image open as
 * IMAGE_FD: the restorer reads that open file, which is the one that passed
 * cairn's checks, and never opens an image by path (NAME, the image's path,
 * is only for messages); a delta image's parents come likewise, as open
 * descriptors, parent first (chain.c). It has no libc and allocates nothing: it
 * is linked at CAIRN_RESTORER_BASE, inside a window of the address space
 * that cairn reserves, and runs on a stack in its .bss, so it can unmap
 * everything else and map the job back at the original addresses
 * (memory.c), then restore the kernel state (state.c) and the job's other
 * threads (threads.c), and finally resume the job with rt_sigreturn on the
 * signal frame the checkpoint handler left on its alternate stack, which
 * restores every register, FPU/AVX included.
 *
 * Exit status 125 means the restore failed before the job could run;
 * R_EXIT_CORRUPT (124), that the image does not match its checksums.
 */
#include "hash.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"
#include "tree.h"

static char image_name[4096];

static void block_all_signals(void)
{
    uint64_t all = ~0ull;
    sys4(NR_rt_sigprocmask, 0 /* SIG_BLOCK */, &all, 0, 8);
}

/* "RESTORED <n>": n bytes of messages on fd 2 came from the restorer, not
   the job (cairn run relays the job's stderr: cli/run_output.c). */
static void tell_cairn(void)
{
    char msg[48] = "RESTORED ", num[24];
    size_t n = strlen(msg);
    const char *d = r_dec(num, r_said_bytes);
    memcpy(msg + n, d, strlen(d));
    n += strlen(d);
    msg[n++] = '\n';
    sys3(NR_write, img.control_fd, msg, n);
}

static void set_thread_bases(void)
{
    sys2(NR_arch_prctl, ARCH_SET_FS, img.core.fs_base);
    if (img.core.gs_base)
        sys2(NR_arch_prctl, ARCH_SET_GS, img.core.gs_base);
}

__attribute__((noreturn, used)) void restore_main(uint64_t *sp);
void restore_main(uint64_t *sp)
{
    long argc = (long)sp[0];
    char **argv = (char **)(sp + 1);
    block_all_signals();
    r_debug_env(argv + argc + 1);
    r_mapped_env(argv + argc + 1);
    r_hash_env(argv + argc + 1);
    /* A delta image's parents come after "--", parent first (chain.c). */
    long sep = 3;
    while (sep < argc && !r_streq(argv[sep], "--"))
        sep++;
    if (argc < 3 || (sep >= 4 && strlen(argv[3]) >= sizeof image_name) ||
        r_tree_args(sep, argv) < 0) {
        r_say("usage: cairn-restore IMAGE_FD CONTROL_FD [NAME [KEEP_FDS [REGISTER_FD [PID FD]...]]] "
              "[-- PARENT_FD...] (run by 'cairn run'; KEEP_FDS - for none)", (char *)0);
        r_exit(R_EXIT_FAILED);
    }
    const char *name = sep >= 4 ? argv[3] : "the image";
    if (sep >= 5 && !r_streq(argv[4], "-"))
        r_keep_fds(argv[4]);
    memcpy(image_name, name, strlen(name) + 1);
    long image_fd = r_parse_dec(argv[1]);
    img.control_fd = (int)r_parse_dec(argv[2]);
    int rc = img.control_fd < 0 || image_fd < 0 ? -1 : r_load_image((int)image_fd, image_name);
    if (rc == 0)
        rc = r_chain_load(argc, argv, sep < argc ? sep + 1 : argc);
    if (rc < 0 || r_check_layout() < 0 || r_check_files() < 0)
        r_exit(rc == -2 ? R_EXIT_CORRUPT : R_EXIT_FAILED);
    r_ident_load();
    if ((rc = r_tree_load(r_ident_pid())) < 0)
        r_exit(rc == -2 ? R_EXIT_CORRUPT : R_EXIT_FAILED);
    r_tree_spawn(image_fd); /* a child returns as the restorer of its own image */
    r_ident_load();
    rc = r_threads_load(r_ident_pid());
    if (rc == 0)
        rc = r_timers_load();
    if (rc == 0)
        rc = r_epoll_load();
    if (rc == 0)
        rc = r_objects_check(r_ident_pid()); /* before anything changes */
    if (rc < 0)
        r_exit(rc == -2 ? R_EXIT_CORRUPT : R_EXIT_FAILED);
    r_tree_barrier(0); /* every process of the job checked */
    r_ident_detach_self();
    /* From here on the restorer's own stack and arguments are gone. */
    r_rebuild_memory();
    r_ahead_end(); /* its tid free before r_threads_spawn */
    r_restore_files();
    r_debug_dump(image_name); /* CAIRN_DEBUG_DIRTY only */
    r_mapped_note(); /* the runtime's table: which files the memory maps */
    r_track_arm(); /* the runtime's dirty tracking, on the restored memory */
    r_restore_process();
    r_threads_spawn(); /* needs the capability to choose tids */
    r_timers_restore();
    r_ident_drop_caps();
    r_tree_barrier(1); /* every process rebuilt: none resumes before */
    tell_cairn();
    sys1(NR_close, img.fd);
    r_threads_go();
    set_thread_bases();
    r_ident_requeue();
    restore_sigreturn(img.core.frame_uc);
}

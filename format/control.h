/* SPDX-License-Identifier: MIT */
/*
 * control.h — the channel between `cairn run` and the runtime inside the job.
 *
 * cairn passes one end of a socketpair to the job as fd $CAIRN_CONTROL_FD.
 * Lines, each written with one write():
 *   runtime -> cairn  "HELLO <pid>"             the runtime is loaded
 *   cairn -> runtime  "CKPT <gen> <tmp name>"   then the checkpoint signal;
 *                                              the temp image's descriptor
 *                                              rides along (SCM_RIGHTS): the
 *                                              writer writes that open file,
 *                                              and no path crosses the
 *                                              channel (the name, relative to
 *                                              the store, is for logs only)
 *                     "CKPTK <gen> <tmp name>" and 32 bytes of image key
 *                                              (keyed run: the image gets a
 *                                              MAC; the key is wiped from the
 *                                              job's memory before it is saved)
 *                     either may end, before the newline, with
 *                     " P <gen> <hdr> <chain> <base> <depth>" (hex): the
 *                                              image may be a delta on that
 *                                              generation (runtime/dirty.c,
 *                                              docs/FORMAT.md "Delta images")
 *   runtime -> cairn  "REFUSE <why>"            nothing written, job goes on
 *                     "UNREAD <u1> <u2>"        while the job stands still,
 *                                              before the writer is forked:
 *                                              bytes still unread in its fd 1
 *                                              and 2 pipes (FIONREAD, 0 if not
 *                                              a pipe). cairn does not read
 *                                              them from the request to this
 *                                              line (or REFUSE/FAIL): what it
 *                                              read plus these is its output
 *                                              boundary (cli/run_output.c)
 *                     "PAUSE <ns> <copied> <writer> <scan> <copy> <fork>"
 *                                              the job ran again after ns;
 *                                              copied: bytes of written pages
 *                                              copied at the pause instead
 *                                              of forked (runtime/stage.c);
 *                                              writer: the writer's pid in
 *                                              the job's namespace, which
 *                                              cairn reaps (cli/run_writer.c;
 *                                              both absent from older
 *                                              runtimes); then the ns of the
 *                                              pause spent on the tracking
 *                                              scan (runtime/dirty.c), the
 *                                              copy (stage.c) and the fork,
 *                                              for cairn -v (absent from
 *                                              older runtimes)
 *                     "DONE <bytes>"            the writer made it durable
 *                     "FAIL <why>"              the writer failed
 *                     "PROGRESS <done> <total>" bytes of the image written
 *                                              so far, of about total: the
 *                                              writer's first write, then
 *                                              at most every
 *                                              CAIRN_PROGRESS_INTERVAL_NS
 *   restorer -> cairn "PROGRESS <done> <total>" the same for the job's
 *                                              memory while it is loaded
 *   runtime -> cairn  "STOPPED"                 the process is stopped and its
 *                                              state taken (process trees:
 *                                              cairn waits for all of them)
 *   cairn -> runtime  "GO <n> <m> <k>"          n bytes follow: the tree section
 *                                              (cairn_proc_tree + members) for
 *                                              the image, or n = 0; m bytes in
 *                                              the pipes, k of the IPC section
 *                                              (the first process only); then the
 *                                              writer is forked, the job resumes
 *                     "ABORT <why>"             another process refused: the
 *                                              runtime answers REFUSE <why>
 *   runtime -> cairn  "HOLD"                    before its writer's fork: the
 *                                              process maps MAP_SHARED memory
 *                                              and stays stopped until
 *   cairn -> runtime  "RESUME"                  every writer of the round is
 *                                              done (or the round failed)
 *   restorer -> cairn "RESTORED <n>"            about to resume the job; it
 *                                              wrote n bytes of messages on fd
 *                                              2 first (older: "RESTORED")
 *   runtime -> cairn  "TERM <signo>"            the job got SIGTERM/SIGINT at
 *                                              its default action (signals.c):
 *                                              cairn acts as if it had got it
 */
#ifndef CAIRN_RUNTIME_CONTROL_H
#define CAIRN_RUNTIME_CONTROL_H

#define CAIRN_CONTROL_ENV "CAIRN_CONTROL_FD"
/*
 * Every process of the job has a channel of its own at that fd number. A
 * process that starts (fork; or exec without it, e.g. after posix_spawn)
 * makes a new socketpair and sends one end to cairn on the registration
 * socket $CAIRN_REGISTER_FD (SOCK_SEQPACKET, shared by the whole job):
 *   "NEW <pid>" with the descriptor (SCM_RIGHTS), one record.
 * A channel's owner is recorded with F_SETOWN, so that a program exec'd
 * by another process of the job sees the channel it inherited is not its
 * own (runtime/tree.c).
 */
#define CAIRN_REGISTER_ENV "CAIRN_REGISTER_FD"
#define CAIRN_REGISTER_FD_NUMBER 4
/*
 * A program started with fds 3 and 4 closed (Python's subprocess,
 * close_fds) registers on the job's endpoint instead: the abstract AF_UNIX
 * SOCK_SEQPACKET name CAIRN_REGISTER_ENDPOINT<inode of the job's pid
 * namespace>, which the namespace's init binds before the job starts and
 * hands to cairn (cli/run_ns.c). The runtime sends only to a listener that
 * is pid 1 of its own namespace and its own uid; cairn accepts only a peer
 * (SO_PEERCRED) of the job's uid in the job's pid namespace whose pid is
 * the one it names: "NEW <pid>" with the descriptor, as above; cairn
 * answers "REG" with the registration socket (SCM_RIGHTS), which the
 * process puts back at fd 4 if that is free. docs/TRANSPARENT.md,
 * "Process trees", has the reasoning.
 */
#define CAIRN_REGISTER_ENDPOINT "cairn-register-"
/* The name (comm) of the runtime's writer children, the namespace init's
   children that are not the job's processes. */
#define RT_WRITER_NAME "cairn-writer"
/* The checkpoint signal: a real-time signal glibc does not reserve
   (glibc keeps 32 and 33; SIGRTMAX is 64). */
#define CAIRN_CKPT_SIGNAL 62
/* The signal the checkpointing thread sends every other thread of the job
   to park it while the state is taken (runtime/threads.c). cairn sends
   CAIRN_CKPT_SIGNAL to the main thread only (tgkill). */
#define CAIRN_PARK_SIGNAL 63
#define CAIRN_CONTROL_LINE_MAX 4200
/* PROGRESS lines: at most four a second. */
#define CAIRN_PROGRESS_INTERVAL_NS 250000000ull

#endif

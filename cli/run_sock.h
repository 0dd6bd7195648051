/* SPDX-License-Identifier: MIT */
/*
 * run_sock.h — the eventfds, timerfds, signalfds and AF_UNIX sockets of a
 * job's processes, as cairn run records them (run_sock.c).
 */
#ifndef CAIRN_CLI_RUN_SOCK_H
#define CAIRN_CLI_RUN_SOCK_H

#include <stddef.h>

#include "process_format.h"

struct run_node;

struct run_objects {
    struct cairn_proc_object rec[CAIRN_PROC_MAX_OBJECTS];
    long host[CAIRN_PROC_MAX_OBJECTS]; /* the holding process, as cairn sees it */
    size_t n;
};

/* Every such fd of the live processes of nodes[0..n), each object's state,
   the sockets paired (peer records) and, if data is not NULL, the bytes
   queued in each socket copied into data (at most cap; *len of them)
   without taking them. 0, or -1 with why naming the process, the fd and
   what stands in the way (a listening socket, a socket to outside the
   job and its peer, descriptors in flight ...). With data NULL (before
   the job is signalled) only the sockets are looked at, and no state is
   read. The sockets of inodes sent[0..nsent) are the ends of new channels
   a process sent cairn and has yet to close (runtime/tree.c): skipped. */
int run_objects_collect(const struct run_node *nodes, size_t n, const uint64_t *sent,
                        size_t nsent, struct run_objects *o, unsigned char *data, size_t cap,
                        size_t *len, char *why, size_t wlen);

/* For run_precheck.c: whether fd of process host is a socket cairn may
   restore in a process tree (AF_UNIX, connected; 1), or (0) why not in
   why, naming the fd and its addresses or peer. */
int run_sock_restorable(long host, int fd, int in_tree, char *why, size_t len);

#endif

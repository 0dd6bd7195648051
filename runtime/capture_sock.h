/* SPDX-License-Identifier: MIT */
/*
 * capture_sock.h — eventfds, timerfds, signalfds and AF_UNIX sockets of a
 * process tree (capture_sock.c).
 */
#ifndef CAIRN_RUNTIME_CAPTURE_SOCK_H
#define CAIRN_RUNTIME_CAPTURE_SOCK_H

struct rt_state;
struct cairn_proc_file;
/* fd's kind if it is one of these (sb: its struct stat): 1, f->kind set;
   0 not one (or no pid namespace: capture.c refuses it); -1 refused with
   st->why (a socket of another family, named by its addresses). */
int rt_objects_classify(struct rt_state *st, struct cairn_proc_file *f, int fd, const void *sb);
/* After GO (tree: the tree section, NULL if none): every such fd has its
   record in the tree. 0, or -1 with st->why. */
int rt_objects_check(struct rt_state *st, const void *tree);

#endif

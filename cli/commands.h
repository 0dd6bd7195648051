/* SPDX-License-Identifier: MIT */
/*
 * commands.h — the table of cairn subcommands.
 *
 * Each line X(name, summary) declares `int cmd_<name>(int argc, char **argv)`
 * (defined in cli/cmd_<name>.c) and lists it in `cairn --help`. To add a
 * subcommand, write cli/cmd_<name>.c (cli/CMakeLists.txt picks up every
 * cmd_*.c) and add one line here. A command receives its own name as
 * argv[0], prints its usage for --help, and returns the process exit status
 * (CLI_EXIT_* in cli.h).
 */
#ifndef CAIRN_CLI_COMMANDS_H
#define CAIRN_CLI_COMMANDS_H

/*
 * Issue 3 (transparent checkpointing) adds, between verify and ls:
 *   X(run,        "run a program with checkpointing, or restore it")
 *   X(checkpoint, "ask a running 'cairn run' job to checkpoint now")
 */
#define CAIRN_CLI_COMMANDS(X)                                                  \
    X(inspect, "show a store's generations, or an image's header and sections") \
    X(verify, "check that the newest image (or every one) reads back intact")  \
    X(run, "run a program with checkpointing, or restore it")                  \
    X(checkpoint, "ask a running job (cairn run or libcairn) to checkpoint now") \
    X(log, "show what happened to a job: starts, restores, checkpoints, exits") \
    X(ls, "list checkpoint stores in directories")                            \
    X(advise, "choose a checkpoint interval from its cost and the eviction rate")

#define CAIRN_CLI_DECLARE_(name, summary) int cmd_##name(int argc, char **argv);
CAIRN_CLI_COMMANDS(CAIRN_CLI_DECLARE_)
#undef CAIRN_CLI_DECLARE_

#endif

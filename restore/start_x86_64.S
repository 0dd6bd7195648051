/* SPDX-License-Identifier: MIT */
/*
 * start_x86_64.S — entry and exit of the restorer.
 *
 * _start moves off the kernel-made stack (which lies where the job's stack
 * will go) onto a stack inside the restorer's own .bss, then calls
 * restore_main(original stack pointer). restore_sigreturn() is the last
 * thing the restorer does: rt_sigreturn on the job's saved signal frame.
 */
    .text
    .globl _start
    .type _start, @function
_start:
    mov %rsp, %rdi
    lea restore_stack_top(%rip), %rsp
    and $-16, %rsp
    xor %ebp, %ebp
    call restore_main
    hlt

    .globl restore_sigreturn
    .type restore_sigreturn, @function
restore_sigreturn:
    mov %rdi, %rsp
    mov $15, %eax
    syscall
    hlt

/* long r_clone_thread(args, size, fn, arg): clone3; the child, on the
   stack the arguments give it, calls fn(arg) (which never returns). The
   kernel keeps every register but rax, rcx and r11 across the call, so fn
   and arg travel in r8 and r9. */
    .globl r_clone_thread
    .type r_clone_thread, @function
r_clone_thread:
    mov %rdx, %r8
    mov %rcx, %r9
    mov $435, %eax
    syscall
    test %rax, %rax
    jnz 1f
    xor %ebp, %ebp
    mov %r9, %rdi
    call *%r8
    hlt
1:  ret

    .section .note.GNU-stack,"",@progbits

    .bss
    .align 64
    .globl restore_stack_top
restore_stack:
    .skip 262144
restore_stack_top:
    .skip 64

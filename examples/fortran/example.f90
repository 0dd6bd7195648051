! SPDX-License-Identifier: MIT
! example.f90 — the plumbing the Fortran examples share (the Fortran twin of
! examples/example.h), kept out of their way so that each example shows only
! what checkpointing asks of a program.
!
! Every example takes the same options, anywhere on the command line:
!   -n N        size of the job (terms, iterations)
!   -d SECONDS  pause after each step (fractional; makes a quick job slow
!               enough to interrupt by hand or from a test)
!   -s STORE    checkpoint store directory (default NAME.ckpt)
!   -v          print "step K" on stderr after every step (tests count the
!               steps executed across interrupted runs with it)
! plus its own (see each example's usage line).
!
! Output discipline, which the tests rely on: stdout carries the final
! result only, so it is the same whether or not the run was interrupted;
! everything else (progress, "resumed at step K") goes to stderr, through
! ex_say, which flushes: gfortran buffers stderr when it is not a terminal,
! and a job killed with SIGKILL would lose what it said.
module example
   use, intrinsic :: iso_c_binding, only: c_int, c_long
   use, intrinsic :: iso_fortran_env, only: int64, real64, error_unit, output_unit
   implicit none
   private
   public :: ex_args, ex_parse, ex_usage, ex_step_done, ex_flush_result, ex_number
   public :: ex_say, ex_fail, ex_int

   type :: ex_args
      character(len=:), allocatable :: prog   ! program name, for messages
      character(len=:), allocatable :: store  ! -s
      character(len=:), allocatable :: usage  ! the usage line
      integer(int64) :: n = 0                 ! -n
      real(real64) :: delay = 0               ! -d
      logical :: trace = .false.              ! -v
      character(len=256) :: own_opts = ''     ! the example's own options, "t"
      ! The example's own options and the positional arguments, in order.
      character(len=1), allocatable :: opt_names(:)
      character(len=4096), allocatable :: opt_values(:)
      character(len=4096), allocatable :: positional(:)
   end type ex_args

   type, bind(C) :: timespec
      integer(c_long) :: tv_sec, tv_nsec
   end type timespec

   interface
      integer(c_int) function nanosleep(req, rem) bind(C, name='nanosleep')
         import :: c_int, timespec
         type(timespec), intent(in) :: req
         type(timespec), intent(out) :: rem
      end function nanosleep
   end interface

contains

   !> Writes a line on stderr, now.
   subroutine ex_say(line)
      character(len=*), intent(in) :: line
      write (error_unit, '(a)') line
      flush (error_unit)
   end subroutine ex_say

   !> An integer in decimal, for messages.
   function ex_int(k) result(r)
      integer(int64), intent(in) :: k
      character(len=:), allocatable :: r
      character(len=24) :: buf
      write (buf, '(i0)') k
      r = trim(buf)
   end function ex_int

   !> Says why on stderr and exits with status 1.
   subroutine ex_fail(line)
      character(len=*), intent(in) :: line
      call ex_say(line)
      stop 1, quiet=.true.
   end subroutine ex_fail

   !> Prints the usage line and exits with status 2.
   subroutine ex_usage(a)
      type(ex_args), intent(in) :: a
      call ex_say('usage: '//a%usage)
      stop 2, quiet=.true.
   end subroutine ex_usage

   !> A non-negative number, or exit 2 with a message naming the option.
   real(real64) function ex_number(a, opt, text)
      type(ex_args), intent(in) :: a
      character(len=*), intent(in) :: opt, text
      integer :: ios
      read (text, *, iostat=ios) ex_number
      if (ios /= 0 .or. .not. (ex_number >= 0) .or. len_trim(text) == 0 .or. &
          verify(trim(text), '0123456789.eE+-') /= 0) then
         call ex_say(a%prog//': -'//opt//': not a non-negative number: '''//trim(text)//'''')
         stop 2, quiet=.true.
      end if
   end function ex_number

   !> Reads the command line: the common options into a, the example's own
   !> (one-letter options listed in own, each taking a value) into
   !> a%opt_names/a%opt_values, the rest into a%positional. Options and
   !> positional arguments may be mixed; "--" ends the options.
   subroutine ex_parse(a, prog, store, usage, own)
      type(ex_args), intent(out) :: a
      character(len=*), intent(in) :: prog, store, usage, own
      character(len=4096) :: arg, val
      integer :: i, nargs, length
      logical :: only_positional
      a%prog = prog
      a%store = store
      a%usage = usage
      a%own_opts = own
      allocate (a%opt_names(0), a%opt_values(0), a%positional(0))
      nargs = command_argument_count()
      only_positional = .false.
      i = 1
      do while (i <= nargs)
         call get_command_argument(i, arg, length)
         if (length > len(arg)) call ex_usage(a)
         i = i + 1
         if (only_positional .or. arg(1:1) /= '-' .or. length == 1) then
            a%positional = [a%positional, arg]
            cycle
         end if
         if (arg == '--') then
            only_positional = .true.
            cycle
         end if
         if (arg == '-v') then
            a%trace = .true.
            cycle
         end if
         if (verify(arg(2:2), 'nds'//trim(own)) /= 0) call ex_usage(a)
         if (length > 2) then ! -n5
            val = arg(3:)
         else if (i <= nargs) then ! -n 5
            call get_command_argument(i, val, length)
            if (length > len(val)) call ex_usage(a)
            i = i + 1
         else
            call ex_usage(a)
         end if
         select case (arg(2:2))
         case ('n')
            a%n = int(ex_number(a, 'n', val), int64)
         case ('d')
            a%delay = ex_number(a, 'd', val)
         case ('s')
            a%store = trim(val)
         case default
            a%opt_names = [a%opt_names, arg(2:2)]
            a%opt_values = [a%opt_values, val]
         end select
      end do
   end subroutine ex_parse

   !> Called at the end of every step: trace it, then pause if asked to.
   subroutine ex_step_done(a, step)
      type(ex_args), intent(in) :: a
      integer(int64), intent(in) :: step
      type(timespec) :: req, rem
      if (a%trace) call ex_say('step '//ex_int(step))
      if (a%delay > 0) then
         req%tv_sec = int(a%delay, c_long)
         req%tv_nsec = min(int((a%delay - real(req%tv_sec, real64)) * 1d9, c_long), &
                           999999999_c_long)
         ! A signal (a checkpoint request) cuts the pause short: sleep the
         ! rest (nanosleep fails only so, with the arguments above).
         do while (nanosleep(req, rem) /= 0)
            req = rem
         end do
      end if
   end subroutine ex_step_done

   !> Flushes stdout and says whether the result really reached it: a job
   !> must not be marked finished if its answer was lost (a full disk, say).
   logical function ex_flush_result(a)
      type(ex_args), intent(in) :: a
      integer :: ios
      flush (output_unit, iostat=ios)
      ex_flush_result = ios == 0
      if (.not. ex_flush_result) call ex_say(a%prog//': cannot write the result')
   end function ex_flush_result

end module example

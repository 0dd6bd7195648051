! SPDX-License-Identifier: MIT
! cairn.f90 — the Fortran interface to libcairn: module cairn.
!
!     use cairn
!     type(cairn_t) :: ck
!     integer(int64), target :: i          ! protected variables need TARGET
!     real(real64), allocatable, target :: x(:, :)
!     logical :: resumed
!
!     call cairn_open(ck, 'job.ckpt')                ! the store, a directory
!     call cairn_protect(ck, 'i', i)                 ! scalars ...
!     call cairn_protect(ck, 'x', x)                 ! ... and arrays of any rank and kind
!     call cairn_restore(ck, restored=resumed)       ! .true.: i and x hold the checkpoint
!     do while (i < n)
!        ...                                         ! work on x
!        i = i + 1
!        call cairn_step(ck)                         ! cheap unless a checkpoint is due
!     end do
!     call cairn_complete(ck)                        ! a rerun starts from scratch
!     call cairn_close(ck)
!
! Every procedure mirrors the C function of the same name (include/cairn.h,
! libcairn(3), cairn-fortran(3)). The C return code goes to the optional
! argument STAT: 0 (or CAIRN_RESTORED, CAIRN_CHECKPOINTED, ...) on success,
! a negative code on failure (CAIRN_E* below, or -errno), which
! cairn_strerror() describes. Without STAT a failure of cairn_open,
! cairn_protect, cairn_restore or cairn_complete prints a message and stops
! the program (ERROR STOP); a failed checkpoint (cairn_step,
! cairn_checkpoint) never does: libcairn has said why on stderr, the
! previous checkpoint is intact, and the job goes on.
!
! Protected memory: libcairn keeps the address given to cairn_protect and
! reads it at every checkpoint, writes it on restore. So:
!  - give protected variables the TARGET attribute. Without it the compiler
!    may keep a variable in a register across cairn_step() (it does not know
!    the library reads it there), and the address is not guaranteed to stay
!    valid after the call;
!  - protect whole contiguous arrays: an array section with a stride, or a
!    non-contiguous pointer, is refused (CAIRN_EINVAL) instead of silently
!    protecting a temporary copy;
!  - an allocatable array must be allocated, to its final shape, before it is
!    protected, and stay allocated until cairn_close; a restored run must
!    allocate it to the same shape (the image says how many bytes each
!    region holds: a different size gives CAIRN_EMISMATCH).
module cairn
   use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_size_t, c_double, c_char, &
                                          c_ptr, c_null_ptr, c_null_char, c_associated, &
                                          c_f_pointer
   use, intrinsic :: iso_fortran_env, only: error_unit
   implicit none
   private

   ! CAIRN_VERSION_MAJOR, _MINOR, _PATCH and _NUMBER (of the cairn.h the
   ! module was built with; cairn_version() is the library's), the CAIRN_E*
   ! error codes and CAIRN_MAX_SIGNALS, taken from include/cairn.h when the
   ! module is built. (No CAIRN_VERSION_STRING: Fortran names ignore case,
   ! and cairn_version_string() is the function.)
   include 'cairn_constants.inc'

   ! Results (enum cairn_result).
   integer(c_int), parameter, public :: CAIRN_FRESH = 0          ! cairn_restore: nothing to restore
   integer(c_int), parameter, public :: CAIRN_RESTORED = 1       ! cairn_restore: memory filled
   integer(c_int), parameter, public :: CAIRN_CHECKPOINTED = 1   ! cairn_step: a checkpoint was written
   integer(c_int), parameter, public :: CAIRN_EXIT_REQUESTED = 2 ! cairn_step: signal, exit now
   ! Interval policies (enum cairn_policy), for cairn_stats_t.
   integer(c_int), parameter, public :: CAIRN_POLICY_TIME = 0
   integer(c_int), parameter, public :: CAIRN_POLICY_STEPS = 1
   integer(c_int), parameter, public :: CAIRN_POLICY_AUTO = 2

   ! An open store; cairn_open sets it, cairn_close clears it.
   type, public :: cairn_t
      private
      type(c_ptr) :: h = c_null_ptr
   end type cairn_t

   ! cairn_stats_t of cairn.h (unsigned 64-bit counters as integer(c_int64_t)).
   type, bind(C), public :: cairn_stats_t
      integer(c_int64_t) :: checkpoints = 0     ! committed by this process
      integer(c_int64_t) :: failed = 0          ! attempts that failed
      integer(c_int64_t) :: bytes_written = 0   ! image bytes committed by this process
      real(c_double) :: seconds_writing = 0     ! wall time inside checkpoints
      real(c_double) :: last_cost = 0           ! seconds of the last checkpoint
      real(c_double) :: interval = 0            ! current interval in seconds (0 = steps)
      integer(c_int64_t) :: steps = 0           ! steps, across restarts
      integer(c_int64_t) :: restores = 0        ! times the job was restored, across restarts
      integer(c_int64_t) :: generation = 0      ! newest committed or restored generation
      character(kind=c_char) :: policy(96) = c_null_char ! how the interval was chosen
   end type cairn_stats_t

   public :: cairn_open, cairn_protect, cairn_restore, cairn_step, cairn_checkpoint
   public :: cairn_complete, cairn_close, cairn_is_open, cairn_get_stats, cairn_stats_policy
   public :: cairn_strerror, cairn_version, cairn_version_string, cairn_optimal_interval

   ! Bits of cairn_f_open's `set` (fortran/cairn_fortran.c): which options
   ! were given.
   integer(c_int), parameter :: F_INTERVAL = 1, F_STEPS = 2, F_AUTO = 4, F_MTBI = 8, &
                                F_KEEP = 16, F_EXIT_CODE = 32, F_COMPRESS = 64, &
                                F_VERBOSE = 128, F_EXIT_ON_SIGNAL = 256

   interface
      integer(c_int) function c_open(out, store, set, interval, every_steps, mtbi, keep, &
                                     exit_code, compress, verbose, exit_on_signal, key_file) &
         bind(C, name='cairn_f_open')
         import :: c_int, c_int64_t, c_double, c_char, c_ptr
         type(c_ptr), intent(out) :: out
         character(kind=c_char), intent(in) :: store(*)
         integer(c_int), value :: set, keep, exit_code, compress, verbose, exit_on_signal
         real(c_double), value :: interval, mtbi
         integer(c_int64_t), value :: every_steps
         character(kind=c_char), intent(in) :: key_file(*)
      end function c_open

      integer(c_int) function c_protect(h, name, x) bind(C, name='cairn_f_protect')
         import :: c_int, c_char, c_ptr
         type(c_ptr), value :: h
         character(kind=c_char), intent(in) :: name(*)
         type(*), dimension(..), intent(in) :: x
      end function c_protect

      integer(c_int) function c_restore(h) bind(C, name='cairn_restore')
         import :: c_int, c_ptr
         type(c_ptr), value :: h
      end function c_restore

      integer(c_int) function c_step(h) bind(C, name='cairn_step')
         import :: c_int, c_ptr
         type(c_ptr), value :: h
      end function c_step

      integer(c_int) function c_checkpoint(h) bind(C, name='cairn_checkpoint')
         import :: c_int, c_ptr
         type(c_ptr), value :: h
      end function c_checkpoint

      integer(c_int) function c_complete(h) bind(C, name='cairn_complete')
         import :: c_int, c_ptr
         type(c_ptr), value :: h
      end function c_complete

      subroutine c_close(h) bind(C, name='cairn_close')
         import :: c_ptr
         type(c_ptr), value :: h
      end subroutine c_close

      integer(c_int) function c_get_stats(h, out, size) bind(C, name='cairn_f_get_stats')
         import :: c_int, c_ptr, c_size_t, cairn_stats_t
         type(c_ptr), value :: h
         type(cairn_stats_t), intent(out) :: out
         integer(c_size_t), value :: size
      end function c_get_stats

      type(c_ptr) function c_strerror(err) bind(C, name='cairn_strerror')
         import :: c_int, c_ptr
         integer(c_int), value :: err
      end function c_strerror

      integer(c_int) function c_version() bind(C, name='cairn_version')
         import :: c_int
      end function c_version

      type(c_ptr) function c_version_string() bind(C, name='cairn_version_string')
         import :: c_ptr
      end function c_version_string

      real(c_double) function c_optimal_interval(cost, mtbi) bind(C, name='cairn_optimal_interval')
         import :: c_double
         real(c_double), value :: cost, mtbi
      end function c_optimal_interval

      integer(c_size_t) function c_strlen(s) bind(C, name='strlen')
         import :: c_size_t, c_ptr
         type(c_ptr), value :: s
      end function c_strlen
   end interface

contains

   ! A NUL-terminated copy of a Fortran string (trailing blanks dropped).
   pure function c_str(s) result(r)
      character(len=*), intent(in) :: s
      character(kind=c_char, len=:), allocatable :: r
      r = trim(s)//c_null_char
   end function c_str

   ! A Fortran copy of a C string (empty for a null pointer).
   function f_str(p) result(r)
      type(c_ptr), intent(in) :: p
      character(len=:), allocatable :: r
      character(kind=c_char), pointer :: chars(:)
      integer :: i, n
      if (.not. c_associated(p)) then
         r = ''
         return
      end if
      n = int(c_strlen(p))
      call c_f_pointer(p, chars, [n])
      allocate (character(len=n) :: r)
      do i = 1, n
         r(i:i) = chars(i)
      end do
   end function f_str

   ! The outcome of a call: into stat if present; otherwise, for a failure,
   ! a message naming the call and ERROR STOP (fatal = .false.: the caller
   ! goes on, libcairn has already explained on stderr).
   subroutine outcome(rc, what, stat, fatal)
      integer(c_int), intent(in) :: rc
      character(len=*), intent(in) :: what
      integer, intent(out), optional :: stat
      logical, intent(in) :: fatal
      if (present(stat)) then
         stat = int(rc)
      else if (rc < 0 .and. fatal) then
         write (error_unit, '(a)') 'cairn: '//what//': '//cairn_strerror(int(rc))
         flush (error_unit)
         error stop 1
      end if
   end subroutine outcome

   !> Opens (creating if needed) the checkpoint store, a directory, takes its
   !> lock and installs the checkpoint signal handlers. The optional
   !> arguments set cairn_options_t fields (libcairn(3)); CAIRN_* environment
   !> variables override them, as in C:
   !>   interval     seconds between checkpoints (CAIRN_POLICY_TIME)
   !>   every_steps  checkpoint every N calls to cairn_step (CAIRN_POLICY_STEPS)
   !>   auto         .true.: interval from Young/Daly (CAIRN_POLICY_AUTO)
   !>   mtbi         mean time between interruptions, seconds (for auto)
   !>   keep         generations kept (default 2)
   !>   exit_code    exit with this status after each periodic checkpoint
   !>   compress     zstd level 1..19, 0 = off
   !>   verbose      -1 quiet, 0 normal, 1 a line per checkpoint
   !>   exit_on_signal  .false.: cairn_step returns CAIRN_EXIT_REQUESTED after
   !>                a checkpoint signal instead of exiting
   !>   key_file     authenticate images with this key ("default": per user)
   subroutine cairn_open(c, store, stat, interval, every_steps, auto, mtbi, keep, exit_code, &
                         compress, verbose, exit_on_signal, key_file)
      type(cairn_t), intent(inout) :: c
      character(len=*), intent(in) :: store
      integer, intent(out), optional :: stat
      real(c_double), intent(in), optional :: interval, mtbi
      integer, intent(in), optional :: every_steps, keep, exit_code, compress, verbose
      logical, intent(in), optional :: auto, exit_on_signal
      character(len=*), intent(in), optional :: key_file
      integer(c_int) :: set, rc, c_keep, c_exit_code, c_compress, c_verbose, c_exit_on_signal
      real(c_double) :: c_interval, c_mtbi
      integer(c_int64_t) :: c_steps
      character(kind=c_char, len=:), allocatable :: key

      set = 0
      c_interval = 0; c_mtbi = 0; c_steps = 0; c_keep = 0; c_exit_code = 0
      c_compress = 0; c_verbose = 0; c_exit_on_signal = 0
      key = c_null_char ! none
      if (present(interval)) then
         set = ior(set, F_INTERVAL); c_interval = interval
      end if
      if (present(every_steps)) then
         set = ior(set, F_STEPS); c_steps = int(every_steps, c_int64_t)
      end if
      if (present(auto)) then
         if (auto) set = ior(set, F_AUTO)
      end if
      if (present(mtbi)) then
         set = ior(set, F_MTBI); c_mtbi = mtbi
      end if
      if (present(keep)) then
         set = ior(set, F_KEEP); c_keep = int(keep, c_int)
      end if
      if (present(exit_code)) then
         set = ior(set, F_EXIT_CODE); c_exit_code = int(exit_code, c_int)
      end if
      if (present(compress)) then
         set = ior(set, F_COMPRESS); c_compress = int(compress, c_int)
      end if
      if (present(verbose)) then
         set = ior(set, F_VERBOSE); c_verbose = int(verbose, c_int)
      end if
      if (present(exit_on_signal)) then
         set = ior(set, F_EXIT_ON_SIGNAL)
         c_exit_on_signal = merge(1_c_int, 0_c_int, exit_on_signal)
      end if
      if (present(key_file)) key = c_str(key_file)
      if (c_associated(c%h)) then
         rc = CAIRN_ESTATE ! open already: close it first
      else
         rc = c_open(c%h, c_str(store), set, c_interval, c_steps, c_mtbi, c_keep, &
                     c_exit_code, c_compress, c_verbose, c_exit_on_signal, key)
         if (rc < 0) c%h = c_null_ptr
      end if
      call outcome(rc, 'cairn_open("'//trim(store)//'")', stat, .true.)
   end subroutine cairn_open

   !> Registers X, a scalar or a contiguous array of any type, kind and rank,
   !> under NAME (1 to 255 characters, unique in the store). Before
   !> cairn_restore; X must have the TARGET attribute and stay in place until
   !> cairn_close.
   subroutine cairn_protect(c, name, x, stat)
      type(cairn_t), intent(in) :: c
      character(len=*), intent(in) :: name
      type(*), dimension(..), intent(inout), target :: x
      integer, intent(out), optional :: stat
      integer(c_int) :: rc
      if (.not. c_associated(c%h)) then
         rc = CAIRN_ESTATE
      else
         rc = c_protect(c%h, c_str(name), x)
      end if
      call outcome(rc, 'cairn_protect("'//trim(name)//'")', stat, .true.)
   end subroutine cairn_protect

   !> Fills the protected variables from the newest valid image. STAT gets
   !> CAIRN_FRESH (no image: variables untouched), CAIRN_RESTORED, or a
   !> negative error; RESTORED says which of the first two it was.
   subroutine cairn_restore(c, stat, restored)
      type(cairn_t), intent(in) :: c
      integer, intent(out), optional :: stat
      logical, intent(out), optional :: restored
      integer(c_int) :: rc
      if (.not. c_associated(c%h)) then
         rc = CAIRN_ESTATE
      else
         rc = c_restore(c%h)
      end if
      if (present(restored)) restored = rc == CAIRN_RESTORED
      call outcome(rc, 'cairn_restore', stat, .true.)
   end subroutine cairn_restore

   !> Once per iteration of the main loop: writes a checkpoint when one is
   !> due (STAT = CAIRN_CHECKPOINTED), and after a checkpoint signal exits the
   !> program (or, with exit_on_signal = .false., STAT = CAIRN_EXIT_REQUESTED).
   subroutine cairn_step(c, stat)
      type(cairn_t), intent(in) :: c
      integer, intent(out), optional :: stat
      integer(c_int) :: rc
      if (.not. c_associated(c%h)) then
         rc = CAIRN_ESTATE
      else
         rc = c_step(c%h)
      end if
      call outcome(rc, 'cairn_step', stat, .false.)
   end subroutine cairn_step

   !> Writes a checkpoint now.
   subroutine cairn_checkpoint(c, stat)
      type(cairn_t), intent(in) :: c
      integer, intent(out), optional :: stat
      integer(c_int) :: rc
      if (.not. c_associated(c%h)) then
         rc = CAIRN_ESTATE
      else
         rc = c_checkpoint(c%h)
      end if
      call outcome(rc, 'cairn_checkpoint', stat, .false.)
   end subroutine cairn_checkpoint

   !> The job has finished: its images are removed and a rerun starts from
   !> scratch. Call it after the results are safely written.
   subroutine cairn_complete(c, stat)
      type(cairn_t), intent(in) :: c
      integer, intent(out), optional :: stat
      integer(c_int) :: rc
      if (.not. c_associated(c%h)) then
         rc = CAIRN_ESTATE
      else
         rc = c_complete(c%h)
      end if
      call outcome(rc, 'cairn_complete', stat, .true.)
   end subroutine cairn_complete

   !> Prints the summary line, puts back the signal handlers, releases the
   !> lock. A handle that is not open is left alone.
   subroutine cairn_close(c)
      type(cairn_t), intent(inout) :: c
      if (c_associated(c%h)) call c_close(c%h)
      c%h = c_null_ptr
   end subroutine cairn_close

   !> .true. between a successful cairn_open and cairn_close.
   logical function cairn_is_open(c)
      type(cairn_t), intent(in) :: c
      cairn_is_open = c_associated(c%h)
   end function cairn_is_open

   !> Counters since cairn_open, and across restarts where stated.
   subroutine cairn_get_stats(c, stats, stat)
      type(cairn_t), intent(in) :: c
      type(cairn_stats_t), intent(out) :: stats
      integer, intent(out), optional :: stat
      integer(c_int) :: rc
      if (.not. c_associated(c%h)) then
         rc = CAIRN_ESTATE
      else
         rc = c_get_stats(c%h, stats, int(storage_size(stats) / 8, c_size_t))
      end if
      call outcome(rc, 'cairn_get_stats', stat, .true.)
   end subroutine cairn_get_stats

   !> The policy field of cairn_stats_t as a Fortran string.
   function cairn_stats_policy(stats) result(r)
      type(cairn_stats_t), intent(in) :: stats
      character(len=:), allocatable :: r
      integer :: n
      n = 0
      do while (n < size(stats%policy))
         if (stats%policy(n + 1) == c_null_char) exit
         n = n + 1
      end do
      allocate (character(len=n) :: r)
      r = transfer(stats%policy(1:n), r)
   end function cairn_stats_policy

   !> Describes any code these procedures return, -errno values included.
   function cairn_strerror(err) result(r)
      integer, intent(in) :: err
      character(len=:), allocatable :: r
      r = f_str(c_strerror(int(err, c_int)))
   end function cairn_strerror

   !> CAIRN_VERSION_NUMBER of the library linked (MAJOR*10000 + MINOR*100 + PATCH).
   integer function cairn_version()
      cairn_version = int(c_version())
   end function cairn_version

   !> CAIRN_VERSION_STRING of the library linked, "0.1.0".
   function cairn_version_string() result(r)
      character(len=:), allocatable :: r
      r = f_str(c_version_string())
   end function cairn_version_string

   !> The checkpoint interval that loses the least time (Daly), for a
   !> checkpoint of COST seconds and a mean time between interruptions MTBI.
   real(c_double) function cairn_optimal_interval(cost, mtbi)
      real(c_double), intent(in) :: cost, mtbi
      cairn_optimal_interval = c_optimal_interval(cost, mtbi)
   end function cairn_optimal_interval

end module cairn

! SPDX-License-Identifier: MIT
! api.f90 — the Fortran module cairn, call by call (ctest fortran_api).
!
! Runs in a scratch directory given as the only argument. Protects scalars
! and arrays of several types, kinds and ranks, checkpoints, overwrites them,
! restores them in a second handle and compares bit for bit; then the error
! paths: a strided section, protecting after restore, a size mismatch, a
! busy store, calls on a closed handle, and cairn_strerror for every
! code. Prints "ok N - what" per check and exits 1 on the first failure.
! With a second argument, fails a call without STAT, which must stop the
! program with a message (fortran_api_fatal).
program api
   use, intrinsic :: iso_fortran_env, only: int8, int16, int32, int64, real32, real64, &
                                            error_unit
   use cairn
   implicit none

   type :: particle
      real(real64) :: pos(3)
      integer(int32) :: id
   end type particle

   integer :: checks = 0
   ! What test_round_trip protects: one variable of each sort.
   integer(int8), target :: i1
   integer(int16), target :: i2(5)
   integer(int32), target :: i4(2, 3)
   integer(int64), target :: i8(2, 2, 2)
   real(real32), target :: r4(0:3)
   real(real64), allocatable, target :: r8(:, :)
   complex(real64), target :: z(3)
   logical, target :: flags(4)
   character(len=10), target :: label
   type(particle), target :: parts(2)
   real(real64), target :: empty(0)
   real(real64), target :: big(2, 2, 2, 2, 2, 2, 2)
   real(real64), pointer :: view(:)
   character(len=4096) :: dir
   character(len=:), allocatable :: store

   call get_command_argument(1, dir)
   if (len_trim(dir) == 0) then
      write (error_unit, '(a)') 'usage: fortran_api SCRATCH_DIR'
      stop 2
   end if
   store = trim(dir)//'/api.ckpt'
   if (command_argument_count() > 1) then
      call fatal() ! fortran_api_fatal: must not return
      stop 0
   end if

   call test_version()
   call test_round_trip()
   call test_errors()
   call test_strerror()
   call test_steps()
   write (*, '(a,i0,a)') 'fortran_api: all ', checks, ' checks passed'
   deallocate (store, r8)

contains

   subroutine check(cond, what)
      logical, intent(in) :: cond
      character(len=*), intent(in) :: what
      checks = checks + 1
      if (.not. cond) then
         write (*, '(a,i0,a)') 'not ok ', checks, ' - '//what
         flush (6)
         error stop 1
      end if
      write (*, '(a,i0,a)') 'ok ', checks, ' - '//what
   end subroutine check

   ! A failure without STAT: a message naming the call, then ERROR STOP.
   subroutine fatal()
      type(cairn_t) :: c
      real(real64), target :: a(10)
      call cairn_open(c, trim(dir)//'/fatal.ckpt', verbose=-1)
      call cairn_protect(c, 'strided', a(::2))
   end subroutine fatal

   subroutine test_version()
      character(len=16) :: want
      write (want, '(i0,".",i0,".",i0)') CAIRN_VERSION_MAJOR, CAIRN_VERSION_MINOR, &
         CAIRN_VERSION_PATCH
      call check(cairn_version() == CAIRN_VERSION_NUMBER, 'cairn_version() = CAIRN_VERSION_NUMBER')
      call check(cairn_version_string() == trim(want), 'cairn_version_string() = '//trim(want))
      call check(abs(cairn_optimal_interval(60d0, 14400d0) - 1274.84d0) < 0.01d0, &
                 'cairn_optimal_interval(60, 4h) = 1274.84 s (Daly, as cairn advise)')
   end subroutine test_version

   ! Every kind of variable, saved and read back in another handle.
   subroutine test_round_trip()
      type(cairn_t) :: c
      integer :: rc
      logical :: restored
      type(cairn_stats_t) :: st

      allocate (r8(3, 4))
      call fill()
      call cairn_open(c, store, stat=rc, every_steps=1000, keep=3, verbose=-1)
      call check(rc == 0 .and. cairn_is_open(c), 'cairn_open with options')
      call protect_all(c)
      view => r8(:, 2) ! a contiguous pointer into a protected array is fine
      call cairn_protect(c, 'view', view, stat=rc)
      call check(rc == 0, 'cairn_protect of a contiguous pointer')
      call cairn_restore(c, stat=rc, restored=restored)
      call check(rc == CAIRN_FRESH .and. .not. restored, 'cairn_restore: CAIRN_FRESH on an empty store')
      call cairn_checkpoint(c, stat=rc)
      call check(rc == 0, 'cairn_checkpoint')
      call cairn_get_stats(c, st, stat=rc)
      call check(rc == 0 .and. st%checkpoints == 1 .and. st%generation == 1, &
                 'cairn_get_stats: 1 checkpoint, generation 1')
      call check(cairn_stats_policy(st) == 'every 1000 steps', &
                 'cairn_stats_policy: "'//cairn_stats_policy(st)//'"')
      call cairn_close(c)
      call check(.not. cairn_is_open(c), 'cairn_close clears the handle')
      call cairn_close(c) ! twice: a no-op

      call scramble()
      call cairn_open(c, store, verbose=-1)
      call protect_all(c)
      call cairn_protect(c, 'view', view)
      call cairn_restore(c, stat=rc, restored=restored)
      call check(rc == CAIRN_RESTORED .and. restored, 'cairn_restore: CAIRN_RESTORED')
      call verify_all()
      call cairn_get_stats(c, st)
      call check(st%restores == 1, 'cairn_get_stats: restores = 1')
      call cairn_complete(c, stat=rc)
      call check(rc == 0, 'cairn_complete')
      call cairn_close(c)

      call cairn_open(c, store, verbose=-1)
      call protect_all(c)
      call cairn_protect(c, 'view', view)
      call cairn_restore(c, restored=restored)
      call check(.not. restored, 'after cairn_complete a rerun starts fresh')
      call cairn_close(c)

   end subroutine test_round_trip

   subroutine protect_all(h)
      type(cairn_t), intent(in) :: h
      call cairn_protect(h, 'i1', i1)
      call cairn_protect(h, 'i2', i2)
      call cairn_protect(h, 'i4', i4)
      call cairn_protect(h, 'i8', i8)
      call cairn_protect(h, 'r4', r4)
      call cairn_protect(h, 'r8', r8)
      call cairn_protect(h, 'z', z)
      call cairn_protect(h, 'flags', flags)
      call cairn_protect(h, 'label', label)
      call cairn_protect(h, 'parts', parts)
      call cairn_protect(h, 'empty', empty)
      call cairn_protect(h, 'rank 7', big)
   end subroutine protect_all

   subroutine fill()
      integer :: k
      i1 = -7
      i2 = [(int(1000 * k, int16), k=1, 5)]
      i4 = reshape([(k, k=1, 6)], [2, 3])
      i8 = reshape([(huge(0_int64) - k, k=1, 8)], [2, 2, 2])
      r4 = [0.1, 0.2, 0.3, 0.4]
      r8 = reshape([(1d0 / k, k=1, 12)], [3, 4])
      z = [(cmplx(k, -k, real64), k=1, 3)]
      flags = [.true., .false., .true., .true.]
      label = 'fortran'
      parts(1) = particle([1d0, 2d0, 3d0], 11)
      parts(2) = particle([4d0, 5d0, 6d0], 22)
      big = reshape([(sqrt(real(k, real64)), k=1, 128)], shape(big))
   end subroutine fill

   subroutine scramble()
      i1 = 0; i2 = 0; i4 = 0; i8 = 0; r4 = 0; r8 = 0; z = 0
      flags = .false.; label = ''; parts(1) = particle(0d0, 0); parts(2) = parts(1)
      big = 0
   end subroutine scramble

   subroutine verify_all()
      integer(int16) :: w2(5)
      integer(int32) :: w4(2, 3)
      integer(int64) :: w8(2, 2, 2)
      real(real32) :: x4(0:3)
      real(real64) :: x8(3, 4), bigw(2, 2, 2, 2, 2, 2, 2)
      complex(real64) :: wz(3)
      logical :: wf(4)
      integer :: k
      w2 = [(int(1000 * k, int16), k=1, 5)]
      w4 = reshape([(k, k=1, 6)], [2, 3])
      w8 = reshape([(huge(0_int64) - k, k=1, 8)], [2, 2, 2])
      x4 = [0.1, 0.2, 0.3, 0.4]
      x8 = reshape([(1d0 / k, k=1, 12)], [3, 4])
      wz = [(cmplx(k, -k, real64), k=1, 3)]
      wf = [.true., .false., .true., .true.]
      bigw = reshape([(sqrt(real(k, real64)), k=1, 128)], shape(bigw))
      call check(i1 == -7, 'integer(int8) scalar restored')
      call check(all(i2 == w2), 'integer(int16) rank 1 restored')
      call check(all(i4 == w4), 'integer(int32) rank 2 restored')
      call check(all(i8 == w8), 'integer(int64) rank 3 restored')
      call check(all(r4 == x4), 'real(real32) rank 1, lower bound 0, restored')
      call check(all(r8 == x8), 'allocatable real(real64) rank 2 restored')
      call check(all(z == wz), 'complex(real64) restored')
      call check(all(flags .eqv. wf), 'logical restored')
      call check(label == 'fortran', 'character(len=10) restored')
      call check(all(parts(2)%pos == [4d0, 5d0, 6d0]) .and. parts(1)%id == 11 .and. &
                 parts(2)%id == 22, 'derived type array restored')
      call check(all(big == bigw), 'rank 7 array restored')
      call check(all(view == x8(:, 2)), 'pointer target restored')
   end subroutine verify_all


   subroutine test_errors()
      type(cairn_t) :: c, other
      real(real64), target :: a(10), b(11), late
      integer :: rc
      a = 1
      call cairn_open(c, store, stat=rc, verbose=-1)
      call check(rc == 0, 'cairn_open again')
      call cairn_open(c, store, stat=rc)
      call check(rc == CAIRN_ESTATE, 'cairn_open on an open handle: CAIRN_ESTATE')
      call cairn_open(other, store, stat=rc, verbose=-1)
      call check(rc == CAIRN_EBUSY .and. .not. cairn_is_open(other), &
                 'a second cairn_open of the store: CAIRN_EBUSY')
      call cairn_open(other, trim(dir)//'/other.ckpt', stat=rc, interval=1d0, every_steps=1)
      call check(rc == CAIRN_EINVAL, 'two interval policies: CAIRN_EINVAL')
      call cairn_open(other, trim(dir)//'/other.ckpt', stat=rc, keep=0)
      call check(rc == CAIRN_EINVAL, 'keep = 0: CAIRN_EINVAL')
      call cairn_protect(c, 'strided', a(1:10:2), stat=rc)
      call check(rc == CAIRN_EINVAL, 'a strided section: CAIRN_EINVAL')
      call cairn_protect(c, '', a, stat=rc)
      call check(rc == CAIRN_EINVAL, 'an empty name: CAIRN_EINVAL')
      call cairn_protect(c, repeat('n', 256), a, stat=rc)
      call check(rc == CAIRN_EINVAL, 'a name of 256 characters: CAIRN_EINVAL')
      call cairn_protect(c, 'a', a, stat=rc)
      call check(rc == 0, 'cairn_protect a(10)')
      call cairn_protect(c, 'a   ', b, stat=rc)
      call check(rc == CAIRN_EINVAL, 'the same name twice (trailing blanks dropped): CAIRN_EINVAL')
      call cairn_restore(c, stat=rc)
      call check(rc == CAIRN_FRESH, 'cairn_restore after complete: fresh')
      call cairn_protect(c, 'late', late, stat=rc)
      call check(rc == CAIRN_ESTATE, 'cairn_protect after cairn_restore: CAIRN_ESTATE')
      call cairn_checkpoint(c, stat=rc)
      call check(rc == 0, 'checkpoint of a(10)')
      call cairn_close(c)

      call cairn_open(c, store, stat=rc, verbose=-1)
      call cairn_protect(c, 'a', b)
      call cairn_restore(c, stat=rc)
      call check(rc == CAIRN_EMISMATCH, 'a(10) restored into b(11): CAIRN_EMISMATCH')
      call cairn_close(c)

      call cairn_step(c, stat=rc)
      call check(rc == CAIRN_ESTATE, 'cairn_step on a closed handle: CAIRN_ESTATE')
      call cairn_restore(c, stat=rc)
      call check(rc == CAIRN_ESTATE, 'cairn_restore on a closed handle: CAIRN_ESTATE')
      call cairn_protect(c, 'a', a, stat=rc)
      call check(rc == CAIRN_ESTATE, 'cairn_protect on a closed handle: CAIRN_ESTATE')
      call cairn_step(c) ! without stat: not fatal
      call check(.true., 'cairn_step without stat goes on after a failure')
   end subroutine test_errors

   subroutine test_strerror()
      integer, parameter :: codes(*) = [CAIRN_ECORRUPT, CAIRN_EFOREIGN, CAIRN_EVERSION, &
                                        CAIRN_EMISMATCH, CAIRN_ENOIMAGE, CAIRN_EBUSY, &
                                        CAIRN_ESTATE, CAIRN_EINVAL, CAIRN_ETRUNCATED, &
                                        CAIRN_ECODEC, CAIRN_EAUTH, CAIRN_ENOTSUP]
      integer :: k
      character(len=:), allocatable :: text
      do k = 1, size(codes)
         text = cairn_strerror(codes(k))
         call check(index(text, 'unknown') == 0 .and. len(text) > 5, &
                    'cairn_strerror: "'//text//'"')
      end do
      call check(cairn_strerror(CAIRN_EINVAL) == 'invalid argument', &
                 'CAIRN_EINVAL is "invalid argument", as in cairn.h')
      call check(cairn_strerror(-2) == 'No such file or directory', 'cairn_strerror(-ENOENT)')
   end subroutine test_strerror

   ! cairn_step counts steps and checkpoints every N of them.
   subroutine test_steps()
      type(cairn_t) :: c
      integer(int64), target :: i
      integer :: rc, written
      type(cairn_stats_t) :: st
      call cairn_open(c, trim(dir)//'/steps.ckpt', every_steps=4, verbose=-1)
      call cairn_protect(c, 'i', i)
      call cairn_restore(c)
      written = 0
      do i = 1, 10
         call cairn_step(c, stat=rc)
         if (rc == CAIRN_CHECKPOINTED) written = written + 1
      end do
      call check(written == 2, 'every_steps=4: 2 checkpoints in 10 steps')
      call cairn_get_stats(c, st)
      call check(st%steps == 10 .and. st%checkpoints == 2, 'cairn_get_stats: 10 steps')
      call cairn_complete(c)
      call cairn_close(c)
   end subroutine test_steps

end program api

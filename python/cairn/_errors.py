"""cairn.Error, the exception of the cairn module (defined in Python so that
it behaves like any exception class; the C half raises it)."""


class Error(Exception):
    """An error reported by libcairn.

    Attributes:
      code     libcairn's negative error code: one of the cairn.E* constants
               (cairn.EBUSY, cairn.EMISMATCH, ...) or -errno from the system
               (for example -errno.ENOSPC)
      message  cairn.strerror(code), the description of the code
      errno    the positive errno for system errors, else None
      path     the store's path, or None
      hint     what the module knows about the cause, or None

    str(e) reads like an OSError's: "[cairn -30006] checkpoint store is in
    use by another process: 'job.ckpt' (...)". libcairn also prints on
    stderr which file, region or section failed, unless CAIRN_QUIET is set.
    """

    __module__ = "cairn"  # it is cairn.Error to its users (and to pickle)

    def __init__(self, code, message=None, path=None, hint=None):
        code = int(code)
        if message is None:
            from ._cairn import strerror
            message = strerror(code)
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.path = path
        self.hint = hint

    @property
    def errno(self):
        return -self.code if -4096 < self.code < 0 else None

    def __str__(self):
        text = f"[cairn {self.code}] {self.message}"
        if self.path is not None:
            text += f": {self.path!r}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def __reduce__(self):
        return (type(self), (self.code, self.message, self.path, self.hint))

"""Prints where `make install` puts the package cairn/ for a prefix, for the
python3 running this script (the one the module was built for):

  - the prefix is this user's base (PREFIX=$HOME/.local, or
    $PYTHONUSERBASE): the user site directory,
    ~/.local/lib/python3.X/site-packages, which python3 puts on its path;
  - else the first site directory on python3's path under the prefix
    (Debian: /usr/local/lib/python3.X/dist-packages for /usr/local,
    /usr/lib/python3/dist-packages for /usr);
  - else PREFIX/lib/python3.X/site-packages, which is not on the path:
    a note on stderr says to add it to PYTHONPATH.
"""
import os
import site
import sys


def main():
    prefix = os.path.realpath(sys.argv[1])
    user_base = os.path.realpath(site.getuserbase())
    if prefix == user_base:
        print(site.getusersitepackages())
        return
    candidates = list(sys.path)
    try:
        candidates += site.getsitepackages()
    except AttributeError:
        pass
    for path in candidates:
        real = os.path.realpath(path) if path else ""
        # PREFIX/lib/..., not PREFIX/local/lib/... (/usr/local is not /usr)
        if real.startswith(prefix + os.sep) and \
                os.path.relpath(real, prefix).split(os.sep)[0] in ("lib", "lib64") and \
                os.path.basename(real) in ("site-packages", "dist-packages"):
            print(path)
            return
    ver = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    path = os.path.join(prefix, "lib", ver, "site-packages")
    print(f"the Python module goes to {path}, which {sys.executable} does not search: "
          f"set PYTHONPATH={path} to import it", file=sys.stderr)
    print(path)


main()

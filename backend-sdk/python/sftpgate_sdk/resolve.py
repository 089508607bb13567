"""A symlink-aware path walk confined to the session root, for any storage.

Backends that store a directory tree themselves (in memory, in a database)
all need the same walk: follow each component from the session's root,
expand symlinks (absolute targets from the session root, relative ones from
the link's directory), refuse any ".." that climbs above the root, stop
link loops. walk() does that over a `lookup` callback, so the storage
decides only how to find one name in one directory.

Thread safety: walk() keeps no state; it is as safe as `lookup` is. Run it
inside whatever lock or transaction makes the lookups consistent.
"""

from .errors import BackendError, StatusCode
from .paths import path_components

__all__ = ["Entry", "Walk", "walk", "MAX_SYMLINKS"]

MAX_SYMLINKS = 40  # As Linux: more expansions in one walk is a loop.


class Entry:
    """What `lookup` returns for a name that exists.

    handle:      the storage's own reference to the object (an inode, a
                 row id...), passed back to `lookup` when it is a directory.
    is_dir:      True for a directory.
    link_target: the stored target when the object is a symlink, else None.
    """

    __slots__ = ("handle", "is_dir", "link_target")

    def __init__(self, handle, is_dir=False, link_target=None):
        self.handle = handle
        self.is_dir = is_dir
        self.link_target = link_target


class Walk:
    """The result of walk().

    parent: handle of the directory holding the final name, or None when the
            path resolves to the session root itself.
    name:   the final component ("" for the root).
    entry:  the Entry found there, or None when the final name is missing
            (its parent exists: creating it is possible).
    path:   the canonical session-view path (symlinks in it resolved).
    """

    __slots__ = ("parent", "name", "entry", "path")

    def __init__(self, parent, name, entry, path):
        self.parent = parent
        self.name = name
        self.entry = entry
        self.path = path


def walk(root, path, lookup, follow_final=True, max_symlinks=MAX_SYMLINKS):
    """Resolves normalized session path `path` from the root directory
    handle `root`.

    `lookup(dir_handle, name)` returns an Entry, or None if `name` is not in
    that directory. Symlinks in every component but the last are followed;
    the last is followed only with `follow_final`. Raises BackendError:
    NOT_FOUND when a directory on the way is missing or is not a directory,
    PERMISSION_DENIED when a symlink climbs above the root,
    FAILED_PRECONDITION after `max_symlinks` expansions (a loop).
    """
    # stack[i] = (name, handle) of the directories from the root down.
    stack = [("", root)]
    pending = list(reversed(path_components(path)))  # Next component last.
    expansions = 0
    while pending:
        name = pending.pop()
        last = not pending
        if name == "." or name == "":
            continue
        if name == "..":
            if len(stack) == 1:
                raise BackendError(StatusCode.PERMISSION_DENIED, "symlink leaves the root")
            stack.pop()
            continue
        entry = lookup(stack[-1][1], name)
        if entry is None:
            if last:
                return Walk(stack[-1][1], name, None, _join(stack, name))
            raise BackendError(StatusCode.NOT_FOUND, "no such file or directory")
        if entry.link_target is not None and (not last or follow_final):
            expansions += 1
            if expansions > max_symlinks:
                raise BackendError(StatusCode.FAILED_PRECONDITION,
                                   "too many levels of symbolic links")
            target = entry.link_target
            if target.startswith("/"):
                del stack[1:]
            pending.extend(reversed(target.split("/")))
            if not target.strip("/"):
                pending.append(".")  # A target of "/" names the root.
            continue
        if last:
            return Walk(stack[-1][1], name, entry, _join(stack, name))
        if not entry.is_dir:
            raise BackendError(StatusCode.NOT_FOUND, "not a directory")
        stack.append((name, entry.handle))
    # The path named a directory already on the stack: "/", or a walk
    # that ended on "." or "..".
    if len(stack) == 1:
        return Walk(None, "", Entry(root, is_dir=True), "/")
    name, handle = stack.pop()
    return Walk(stack[-1][1], name, Entry(handle, is_dir=True), _join(stack, name))


def _join(stack, name):
    return "/" + "/".join([n for n, _ in stack[1:]] + [name])

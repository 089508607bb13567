"""Lexical path helpers, the Python twin of backend-sdk/cpp's paths.h.

Vocabulary: a *normalized* path is absolute and canonical: it starts with
"/", has no empty, "." or ".." components, no trailing "/" (except "/"
itself) and no NUL. Every path on the wire (backend.proto) is normalized and
in the *session's view*, where "/" is Session.root.

These functions are purely lexical: they never touch storage and know
nothing of symlinks. A backend that follows symlinks must confine the result
of each link itself (resolve_beneath / resolve_link_target help).

Thread safety: every function is pure and safe to call concurrently.
"""

from .errors import BackendError, StatusCode

__all__ = [
    "normalize_path",
    "is_normalized_path",
    "join_path",
    "split_path",
    "path_components",
    "is_beneath",
    "resolve_beneath",
    "resolve_link_target",
    "is_valid_name",
]


def _collapse(path, refuse_above_root):
    """Splits `path` into canonical components, applying "." and ".."."""
    if "\0" in path:
        raise BackendError(StatusCode.INVALID_ARGUMENT, "path contains a NUL byte")
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            elif refuse_above_root:
                raise BackendError(StatusCode.PERMISSION_DENIED, "path leaves the root")
            continue
        parts.append(part)
    return parts


def normalize_path(path):
    """Returns the normalized form of `path`.

    A relative path (including "") is taken relative to "/". ".." at the root
    stays at the root (as inside a chroot), so the result never leaves "/".
    Raises BackendError(INVALID_ARGUMENT) if `path` contains NUL.
      normalize_path("a//b/./c/..") == "/a/b"; normalize_path("/../x") == "/x"
    """
    return "/" + "/".join(_collapse(path, refuse_above_root=False))


def is_valid_name(name):
    """True when `name` can be one directory entry: non-empty, not "." or
    "..", free of "/" and NUL."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def is_normalized_path(path):
    """True when `path` is absolute and already normalized."""
    if not path.startswith("/"):
        return False
    if path == "/":
        return True
    return all(is_valid_name(part) for part in path[1:].split("/"))


def join_path(directory, name):
    """Appends `name` to `directory` with exactly one "/" between them.

    Purely textual (no normalization); a leading "/" in `name` is dropped,
    never treated as a new root. An empty `name` returns `directory`.
    """
    name = name.lstrip("/")
    if not name:
        return directory
    if not directory.endswith("/"):
        directory += "/"
    return directory + name


def split_path(normalized_path):
    """("/a", "b") for "/a/b", ("/", "a") for "/a", ("/", "") for "/"."""
    slash = normalized_path.rfind("/")
    if slash < 0:
        return "/", normalized_path
    return normalized_path[:slash] or "/", normalized_path[slash + 1:]


def path_components(normalized_path):
    """["a", "b"] for "/a/b"; [] for "/"."""
    return [part for part in normalized_path.split("/") if part]


def is_beneath(root, path):
    """True when normalized `path` is `root` or lies beneath it, compared
    component-wise ("/ab" is not beneath "/a")."""
    if root == "/":
        return path.startswith("/")
    return path == root or path.startswith(root + "/")


def resolve_beneath(root, session_path):
    """Maps a session path into the backend's namespace beneath `root`.

    `root` must be normalized; `session_path` is absolute or relative to the
    session's "/". Unlike normalize_path, a ".." that would climb above the
    session's "/" raises BackendError(PERMISSION_DENIED) instead of being
    clamped; NUL raises INVALID_ARGUMENT.
      resolve_beneath("/srv/u", "/a/../b") == "/srv/u/b"
    """
    if not is_normalized_path(root):
        raise BackendError(StatusCode.INVALID_ARGUMENT, "root is not a normalized path")
    out = join_path(root, "/".join(_collapse(session_path, refuse_above_root=True)))
    if not is_beneath(root, out):  # Cannot happen given the above; last guard.
        raise BackendError(StatusCode.PERMISSION_DENIED, "path leaves the root")
    return out


def resolve_link_target(link_path, target):
    """The session-view path a symlink at normalized `link_path` points to.

    An absolute `target` is read relative to the session's root; a relative
    one relative to the link's directory. A target that climbs above the
    session's root raises BackendError(PERMISSION_DENIED), as the contract
    requires.
    """
    if target.startswith("/"):
        return resolve_beneath("/", target)
    parent, _ = split_path(link_path)
    return resolve_beneath("/", join_path(parent, target))

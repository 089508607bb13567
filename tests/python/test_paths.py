"""Unit tests of the Python SDK's path helpers (sftpgate_sdk.paths) and of
the confined symlink walk (sftpgate_sdk.resolve). Same cases as the C++
SDK's paths_test where the functions correspond."""

import unittest

from sftpgate_sdk import BackendError, StatusCode
from sftpgate_sdk import paths
from sftpgate_sdk.resolve import Entry, walk


class NormalizeTest(unittest.TestCase):
    def test_collapses_dots_and_slashes(self):
        self.assertEqual(paths.normalize_path("a//b/./c/.."), "/a/b")
        self.assertEqual(paths.normalize_path("/a/b/"), "/a/b")
        self.assertEqual(paths.normalize_path(""), "/")
        self.assertEqual(paths.normalize_path("///"), "/")

    def test_dotdot_clamps_at_root(self):
        self.assertEqual(paths.normalize_path("/../x"), "/x")
        self.assertEqual(paths.normalize_path("../../.."), "/")

    def test_nul_is_invalid(self):
        with self.assertRaises(BackendError) as ctx:
            paths.normalize_path("/a\0b")
        self.assertEqual(ctx.exception.code, StatusCode.INVALID_ARGUMENT)

    def test_is_normalized(self):
        for good in ("/", "/a", "/a/b", "/a b/.c", "/..x"):
            self.assertTrue(paths.is_normalized_path(good), good)
        for bad in ("", "a", "/a/", "//a", "/a//b", "/.", "/a/..", "/a/./b", "/a\0"):
            self.assertFalse(paths.is_normalized_path(bad), bad)

    def test_valid_name(self):
        self.assertTrue(paths.is_valid_name("x.txt"))
        for bad in ("", ".", "..", "a/b", "a\0"):
            self.assertFalse(paths.is_valid_name(bad), bad)


class JoinSplitTest(unittest.TestCase):
    def test_join(self):
        self.assertEqual(paths.join_path("/", "a"), "/a")
        self.assertEqual(paths.join_path("/a", "b/c"), "/a/b/c")
        self.assertEqual(paths.join_path("/a", "/b"), "/a/b")  # never a new root
        self.assertEqual(paths.join_path("/a", ""), "/a")

    def test_split(self):
        self.assertEqual(paths.split_path("/a/b"), ("/a", "b"))
        self.assertEqual(paths.split_path("/a"), ("/", "a"))
        self.assertEqual(paths.split_path("/"), ("/", ""))

    def test_components(self):
        self.assertEqual(paths.path_components("/a/b"), ["a", "b"])
        self.assertEqual(paths.path_components("/"), [])

    def test_is_beneath(self):
        self.assertTrue(paths.is_beneath("/a", "/a"))
        self.assertTrue(paths.is_beneath("/a", "/a/b"))
        self.assertFalse(paths.is_beneath("/a", "/ab"))
        self.assertFalse(paths.is_beneath("/a/b", "/a"))
        self.assertTrue(paths.is_beneath("/", "/x"))


class ResolveBeneathTest(unittest.TestCase):
    def test_maps_into_root(self):
        self.assertEqual(paths.resolve_beneath("/srv/u", "/a/../b"), "/srv/u/b")
        self.assertEqual(paths.resolve_beneath("/srv/u", "/"), "/srv/u")
        self.assertEqual(paths.resolve_beneath("/", "x/y"), "/x/y")

    def test_refuses_escapes(self):
        for escape in ("/../v", "..", "/a/../../b", "a/../../.."):
            with self.assertRaises(BackendError) as ctx:
                paths.resolve_beneath("/srv/u", escape)
            self.assertEqual(ctx.exception.code, StatusCode.PERMISSION_DENIED, escape)

    def test_refuses_bad_root_and_nul(self):
        for root, path in (("srv", "/a"), ("/srv/", "/a"), ("/srv", "/a\0")):
            with self.assertRaises(BackendError) as ctx:
                paths.resolve_beneath(root, path)
            self.assertEqual(ctx.exception.code, StatusCode.INVALID_ARGUMENT)

    def test_link_targets(self):
        self.assertEqual(paths.resolve_link_target("/a/l", "b/c"), "/a/b/c")
        self.assertEqual(paths.resolve_link_target("/a/l", "/etc"), "/etc")
        self.assertEqual(paths.resolve_link_target("/a/l", "../x"), "/x")
        with self.assertRaises(BackendError) as ctx:
            paths.resolve_link_target("/a/l", "../../x")
        self.assertEqual(ctx.exception.code, StatusCode.PERMISSION_DENIED)


class BackendErrorTest(unittest.TestCase):
    def test_needs_a_failure_code(self):
        with self.assertRaises(ValueError):
            BackendError(StatusCode.OK, "fine")
        error = BackendError(StatusCode.NOT_FOUND)
        self.assertEqual(error.code, StatusCode.NOT_FOUND)
        self.assertTrue(error.message)


# A tiny tree for walk(): directories are dicts, symlinks ("link", target),
# files strings.
TREE = {
    "a": {"f": "file", "up": ("link", ".."), "abs": ("link", "/a/f"),
          "self": ("link", "self"), "out": ("link", "../../etc"),
          "dirlink": ("link", "/b"), "dangling": ("link", "missing")},
    "b": {"g": "file"},
    "f2": "file",
}


def lookup(directory, name):
    child = directory.get(name)
    if child is None:
        return None
    if isinstance(child, tuple):
        return Entry(child, link_target=child[1])
    return Entry(child, is_dir=isinstance(child, dict))


class WalkTest(unittest.TestCase):
    def walk(self, path, follow=True):
        return walk(TREE, path, lookup, follow_final=follow)

    def assert_code(self, code, path, follow=True):
        with self.assertRaises(BackendError) as ctx:
            self.walk(path, follow)
        self.assertEqual(ctx.exception.code, code, path)

    def test_plain_paths(self):
        found = self.walk("/a/f")
        self.assertIs(found.parent, TREE["a"])
        self.assertEqual((found.name, found.path), ("f", "/a/f"))
        self.assertEqual(found.entry.handle, "file")

    def test_root(self):
        found = self.walk("/")
        self.assertIsNone(found.parent)
        self.assertIs(found.entry.handle, TREE)
        self.assertEqual(found.path, "/")

    def test_missing_final_gives_parent(self):
        found = self.walk("/a/new")
        self.assertIsNone(found.entry)
        self.assertIs(found.parent, TREE["a"])
        self.assertEqual(found.path, "/a/new")

    def test_missing_or_file_in_the_middle(self):
        self.assert_code(StatusCode.NOT_FOUND, "/nope/x")
        self.assert_code(StatusCode.NOT_FOUND, "/f2/x")

    def test_symlinks_followed(self):
        self.assertEqual(self.walk("/a/abs").path, "/a/f")
        self.assertEqual(self.walk("/a/dirlink/g").path, "/b/g")
        found = self.walk("/a/up")
        self.assertIsNone(found.parent)  # ".." of /a is the root
        self.assertEqual(found.path, "/")
        self.assertEqual(self.walk("/a/up/b/g").path, "/b/g")

    def test_final_symlink_not_followed(self):
        found = self.walk("/a/abs", follow=False)
        self.assertEqual(found.entry.link_target, "/a/f")
        self.assertEqual(found.path, "/a/abs")

    def test_dangling_symlink_names_its_target(self):
        found = self.walk("/a/dangling")
        self.assertIsNone(found.entry)
        self.assertEqual(found.path, "/a/missing")

    def test_escape_and_loop(self):
        self.assert_code(StatusCode.PERMISSION_DENIED, "/a/out")
        self.assert_code(StatusCode.PERMISSION_DENIED, "/a/out/passwd")
        self.assert_code(StatusCode.FAILED_PRECONDITION, "/a/self")
        # Not following the final link means no loop and no escape.
        self.assertEqual(self.walk("/a/self", follow=False).name, "self")
        self.assertEqual(self.walk("/a/out", follow=False).name, "out")


if __name__ == "__main__":
    unittest.main()

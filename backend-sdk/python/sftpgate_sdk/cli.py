"""The command line of sftpgate's Python programs, alike to the C++ ones
(backend-sdk/cpp/include/sftpgate/command_line.h): flag names take '-' or
'_' alike (--pool-size == --pool_size), --help lists every flag with its
default and exits 0, a usage error (unknown flag, bad value) exits 2.

    parser = sdk.cli.ArgumentParser(description="my backend")
    parser.add_argument("--pool-size", type=int, default=32, help="...")
    args = parser.parse_args()
"""

import argparse
import sys


def normalize_flag_names(args):
    """`args` with every "--flag_name[=value]" spelled "--flag-name[=value]"
    (values and everything after "--" untouched)."""
    out = []
    for i, arg in enumerate(args):
        if arg == "--":
            out.extend(args[i:])
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            arg = "--" + name.replace("_", "-") + eq + value
        out.append(arg)
    return out


class ArgumentParser(argparse.ArgumentParser):
    """argparse.ArgumentParser that shows defaults in --help and takes
    underscores in flag names. Define flags with dashes."""

    def __init__(self, **kwargs):
        kwargs.setdefault("formatter_class",
                          argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(**kwargs)

    def parse_args(self, args=None, namespace=None):
        args = sys.argv[1:] if args is None else list(args)
        return super().parse_args(normalize_flag_names(args), namespace)

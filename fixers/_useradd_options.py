"""The options of `useradd` and `adduser` (shadow-utils', Debian's and BusyBox's) that take a
value: what tells a command line's operand, the user's name, from the options' values
(`useradd -u 1000 -m app --skel /etc/skel` creates `app`: GNU getopt lets options follow it).

One table for every reader of those command lines: DF201's user choice (`_user_choice`) and
DF104's reading of the accounts a RUN creates (`_cache_at_run`).
"""

from __future__ import annotations

UID_OPTIONS = frozenset({"-u", "--uid"})
# `-g`/`--gid` is the primary group; `-G` useradd's other groups, `--ingroup` adduser's group.
GROUP_OPTIONS = frozenset({"-g", "--gid", "-G", "--ingroup"})
HOME_OPTIONS = frozenset({"-d", "--home-dir", "--home", "-h"})
# The other options that take a value (`-h` is adduser's home, BusyBox's too).
OTHER_VALUE_OPTIONS = frozenset(
    {
        "-s",
        "--shell",
        "-c",
        "--comment",
        "--gecos",
        "-k",
        "--skel",
        "-K",
        "--key",
        "-e",
        "-f",
        "-p",
        "--password",
        "-Z",
        "-b",
        "--base-dir",
        "--firstuid",
        "--lastuid",
    }
)

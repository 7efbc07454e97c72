"""What the build rejects in a file BuildKit's parser accepts, in BuildKit's words.

Two passes, as BuildKit makes them: its instruction parse reads every instruction first
(unknown instructions and flags, argument counts, flag values it parses itself: durations,
`--network`), then the conversion to LLB reads the values it needs (ports, signals, mounts,
`--chmod`, `--checksum`). A value holding a `$` is only known after ARG/ENV expansion and is
never rejected; neither is anything only some BuildKit versions reject (a false rejection
would stop dockfix from checking a file that builds).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dockfix.syntax import (
    INSTRUCTIONS,
    NOT_ONBUILD_TRIGGERS,
    Dockerfile,
    Instruction,
    ParseError,
    arg_pairs,
    env_pairs,
)


def build_error(doc: Dockerfile) -> ParseError | None:
    """What the build rejects in a file BuildKit's parser accepts: an unknown instruction
    (keywords are case-insensitive), a trigger ONBUILD does not allow, an instruction before
    the first FROM, arguments or flags the instruction cannot take (`COPY file`, a bare
    `USER`, `RUN --foo`, `HEALTHCHECK --interval=xyz` …), then values the conversion to LLB
    rejects (`EXPOSE abc`, `STOPSIGNAL FOO`, `--mount=type=bogus`, `--chmod=abc` …)."""
    in_stage = False
    # A file that names its frontend (`# syntax=docker/dockerfile:1` pulls the newest 1.x)
    # may use flags newer than any this table knows: an unknown flag is left to that frontend.
    frontend_named = doc.directive("syntax") is not None
    for instr in doc.instructions:
        if instr.keyword not in INSTRUCTIONS:
            return ParseError(f"unknown instruction {instr.keyword_raw}", instr.start_line)
        in_stage = in_stage or instr.keyword == "FROM"
        if not in_stage and instr.keyword != "ARG":
            return ParseError("no build stage in current context", instr.start_line)
        problem = _arguments_error(instr) or _flags_error(instr, frontend_named)
        if problem is not None:
            return ParseError(problem, instr.start_line)
        trigger = instr.trigger
        if trigger is None:
            continue
        if trigger.keyword in NOT_ONBUILD_TRIGGERS:
            return ParseError(
                f"{trigger.keyword} isn't allowed as an ONBUILD trigger", instr.start_line
            )
        if trigger.keyword not in INSTRUCTIONS:
            return ParseError(f"unknown instruction {trigger.keyword_raw}", instr.start_line)
    for instr in doc.instructions:
        check = _CONVERSION_CHECKS.get(instr.keyword)
        problem = check(instr) if check is not None else None
        if problem is not None:
            return ParseError(problem, instr.start_line)
    return None


# --- the instruction parse: arguments -------------------------------------------------------

# Instructions BuildKit rejects without arguments, and how it says so.
_AT_LEAST_ONE = frozenset(
    {"ENV", "LABEL", "EXPOSE", "VOLUME", "ARG", "ONBUILD", "SHELL", "HEALTHCHECK"}
)
_EXACTLY_ONE = frozenset({"USER", "WORKDIR", "STOPSIGNAL", "MAINTAINER"})
# A stage name BuildKit accepts (compared in lower case: `AS Build` only gets a warning).
_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*")


def _arguments_error(instr: Instruction) -> str | None:
    """Why BuildKit's instruction parse rejects ``instr``'s arguments, or None. The words
    are its JSON array's or its argument text split at blanks, as BuildKit splits them."""
    kw = instr.keyword
    json = instr.json_args if kw != "HEALTHCHECK" else None  # (HEALTHCHECK's is its CMD's)
    # (split where BuildKit splits: at the blanks Go's parser knows, not at every Unicode space)
    words = json if json is not None else [w for w, _, _ in instr.args_words()]
    if kw == "FROM":
        return _from_error(words)
    if kw in ("COPY", "ADD"):
        if len(words) < 2:
            return (
                f"{kw} requires at least two arguments, but only one was provided. "
                "Destination could not be determined"
            )
        if instr.heredocs and words[-1].startswith("<<"):
            return f"{kw} cannot accept a heredoc as a destination"
        return None
    if not words and kw in _AT_LEAST_ONE:
        return f"{kw} requires at least one argument"
    if not words and kw in _EXACTLY_ONE:
        return f"{kw} requires exactly one argument"
    if kw in ("ENV", "LABEL") and any(name == "" for name, _ in env_pairs(instr)):
        return f"{kw} names can not be blank"
    if kw == "ARG" and any(name == "" for name, _ in arg_pairs(instr)):
        return "ARG names can not be blank"
    if kw == "VOLUME" and any(not w.strip(" \t\n\r\v\f") for w in words):
        return "VOLUME specified can not be an empty string"
    if kw == "SHELL" and instr.json_args is None:
        return "SHELL requires the arguments to be in JSON form"
    if kw == "HEALTHCHECK":
        return _healthcheck_error(instr, words)
    return None


def _from_error(words: list[str]) -> str | None:
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2]
        if _STAGE_NAME.fullmatch(name.lower()) is None:
            return (
                f'invalid name for build stage: "{name}", '
                "name can't start with a number or contain symbols"
            )
        return None
    return None if len(words) == 1 else "FROM requires either one or three arguments"


def _healthcheck_error(instr: Instruction, words: list[str]) -> str | None:
    kind = words[0].upper()
    if kind == "NONE":
        return "HEALTHCHECK NONE takes no arguments" if len(words) > 1 else None
    if kind != "CMD":
        return f'Unknown type "{kind}" in HEALTHCHECK (try CMD)'
    command = instr.json_args if instr.json_args is not None else words[1:]
    return None if command else "Missing command after HEALTHCHECK CMD"


# --- the instruction parse: flags -----------------------------------------------------------

_TEXT, _BOOL, _REPEATED = "text", "bool", "repeated"
# The flags each instruction takes and their kind; an instruction missing here takes none
# (ARG and STOPSIGNAL are left out: BuildKit does not read their flags). Flags only a newer
# BuildKit or the labs syntax knows are listed too (`--parents`, `--security`).
_FLAGS: dict[str, dict[str, str]] = {
    "FROM": {"platform": _TEXT},
    "RUN": {"mount": _REPEATED, "network": _TEXT, "security": _TEXT, "device": _REPEATED},
    "COPY": {
        "from": _TEXT,
        "chown": _TEXT,
        "chmod": _TEXT,
        "link": _BOOL,
        "parents": _BOOL,
        "exclude": _REPEATED,
    },
    "ADD": {
        "chown": _TEXT,
        "chmod": _TEXT,
        "link": _BOOL,
        "keep-git-dir": _BOOL,
        "checksum": _TEXT,
        "unpack": _BOOL,
        "parents": _BOOL,
        "exclude": _REPEATED,
    },
    "HEALTHCHECK": {
        "interval": _TEXT,
        "timeout": _TEXT,
        "start-period": _TEXT,
        "start-interval": _TEXT,
        "retries": _TEXT,
    },
}
_FLAGS_UNREAD = frozenset({"ARG", "STOPSIGNAL"})
_NETWORK_MODES = frozenset({"none", "host", "default"})
_DURATION_FLAGS = ("interval", "timeout", "start-period", "start-interval")


def _flags_error(instr: Instruction, frontend_named: bool = False) -> str | None:
    """BuildKit's flag parse: unknown (unless the file names its frontend), repeated or
    valueless flags, booleans, then the values the instruction parse reads itself."""
    kw = instr.keyword
    if kw in _FLAGS_UNREAD or (kw == "HEALTHCHECK" and _healthcheck_is_none(instr)):
        return None
    known = _FLAGS.get(kw, {})
    seen: set[str] = set()
    for flag in instr.flags:
        kind = known.get(flag.name)
        if kind is None:
            if frontend_named:
                continue
            return f"unknown flag: --{flag.name}"
        if kind != _REPEATED and flag.name in seen:
            return f"duplicate flag specified: --{flag.name}"
        seen.add(flag.name)
        if flag.value is None:
            if kind != _BOOL:
                return f"missing a value on flag: --{flag.name}"
        elif kind == _BOOL:
            if flag.value == "":
                return f"missing a value on flag: --{flag.name}"
            if flag.value.lower() not in ("true", "false") and "$" not in flag.value:
                return f"expecting boolean value for flag --{flag.name}, not: {flag.value}"
    if kw == "RUN":
        return _run_flags_error(instr)
    if kw == "HEALTHCHECK":
        return _healthcheck_flags_error(instr)
    return None


def _healthcheck_is_none(instr: Instruction) -> bool:
    words = instr.args_words()
    return bool(words) and words[0][0].upper() == "NONE"


def _run_flags_error(instr: Instruction) -> str | None:
    for network in instr.flag_values("network"):
        if network not in _NETWORK_MODES and "$" not in network:
            return f'invalid network mode "{network}"'
    for mount in instr.flag_values("mount"):
        if mount == "":
            return "failed to parse csv mounts: EOF"
    return None


def _healthcheck_flags_error(instr: Instruction) -> str | None:
    for name in _DURATION_FLAGS:
        flag = instr.flag(name)
        # (BuildKit versions differ on `µs`: a value outside ASCII is left to them)
        if flag is None or not flag.value or "$" in flag.value or not flag.value.isascii():
            continue
        nanoseconds, problem = go_duration(flag.value)
        if problem is not None:
            return problem
        if nanoseconds != 0 and nanoseconds < 1_000_000:
            return f'Interval "{name}" cannot be less than 1ms'
    retries = instr.flag("retries")
    if retries is None or not retries.value or "$" in retries.value:
        return None
    value = retries.value
    if re.fullmatch(r"[+-]?[0-9]+", value) is None:
        return f"strconv.ParseInt: parsing {_go_quote(value)}: invalid syntax"
    if not -(2**31) <= int(value) < 2**31:  # (read as a 32-bit number)
        return f"strconv.ParseInt: parsing {_go_quote(value)}: value out of range"
    return f"--retries cannot be negative ({int(value)})" if int(value) < 0 else None


# Go's time.ParseDuration: units, and the nanoseconds each is worth.
_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def go_duration(text: str) -> tuple[int, str | None]:
    """Go's ``time.ParseDuration``: (nanoseconds, None), or (0, its error message)."""
    invalid = f"time: invalid duration {_go_time_quote(text)}"
    rest = text
    negative = rest[:1] == "-"
    if rest[:1] in ("-", "+"):
        rest = rest[1:]
    if rest == "0":
        return 0, None
    if rest == "":
        return 0, invalid
    total = 0
    while rest:
        if not (rest[0] == "." or (rest[0].isascii() and rest[0].isdigit())):
            return 0, invalid
        part = _DURATION_PART.match(rest)
        assert part is not None  # (the pattern matches any text)
        whole, fraction, unit = part.group(1), part.group(2), part.group(3)
        if not whole and not fraction:
            return 0, invalid
        if not unit:
            return 0, f"time: missing unit in duration {_go_time_quote(text)}"
        scale = _DURATION_UNITS.get(unit)
        if scale is None:
            return (
                0,
                f"time: unknown unit {_go_time_quote(unit)} in duration {_go_time_quote(text)}",
            )
        if whole and int(whole) >= 2**63:
            return 0, invalid
        value = int(whole or "0") * scale
        if fraction:
            value += int(fraction) * scale // 10 ** len(fraction)
        total += value
        if total > 2**63 - 1:
            return 0, invalid
        rest = rest[part.end() :]
    return (-total if negative else total), None


def _go_time_quote(text: str) -> str:
    """The time package's quoting: bytes outside printable ASCII as ``\\x..``."""
    out = []
    for ch in text:
        if ch.isascii() and ch >= " ":
            out.append("\\" + ch if ch in '"\\' else ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
    return '"' + "".join(out) + '"'


def _go_quote(text: str) -> str:
    """strconv.Quote for the text it leaves readable (escapes the rest as JSON does)."""
    inner = []
    for ch in text:
        if ch in '"\\':
            inner.append("\\" + ch)
        elif ch.isprintable():
            inner.append(ch)
        else:
            inner.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x80 else f"\\u{ord(ch):04x}")
    return '"' + "".join(inner) + '"'


# --- the conversion to LLB ------------------------------------------------------------------

# Characters whose meaning only the build's word expansion knows: a value holding one is
# not judged.
_EXPANDED = re.compile(r"[$'\"\\`]")


def _expose_error(instr: Instruction) -> str | None:
    for word, _, _ in instr.args_words():
        # (`IP:host:container` forms are left to BuildKit: their rules changed over versions)
        if _EXPANDED.search(word) or ":" in word:
            continue
        port, _, proto = word.partition("/")
        if port == "":
            return f'invalid port: "{word}": no port specified'
        if proto and proto.lower() not in ("tcp", "udp", "sctp"):
            return f'invalid port: "{word}": invalid proto: {proto}'
        if not _port_range_ok(port):
            return f"invalid containerPort: {port}"
    return None


def _port_range_ok(text: str) -> bool:
    first, dash, last = text.partition("-")
    numbers = [first, last] if dash else [first]
    if any(re.fullmatch(r"[+]?[0-9]+", n) is None or int(n) > 65535 for n in numbers):
        return False
    return int(numbers[0]) <= int(numbers[-1])


# Linux's signal names (without SIG), as Docker's signal table spells them.
_SIGNALS = (
    frozenset(
        [
            "ABRT",
            "ALRM",
            "BUS",
            "CHLD",
            "CLD",
            "CONT",
            "FPE",
            "HUP",
            "ILL",
            "INT",
            "IO",
            "IOT",
            "KILL",
            "PIPE",
            "POLL",
            "PROF",
            "PWR",
            "QUIT",
            "SEGV",
            "STKFLT",
            "STOP",
            "SYS",
            "TERM",
            "TRAP",
            "TSTP",
            "TTIN",
            "TTOU",
            "URG",
            "USR1",
            "USR2",
            "VTALRM",
            "WINCH",
            "XCPU",
            "XFSZ",
            "RTMIN",
            "RTMAX",
        ]
    )
    | {f"RTMIN+{n}" for n in range(1, 16)}
    | {f"RTMAX-{n}" for n in range(1, 15)}
)


def _stopsignal_error(instr: Instruction) -> str | None:
    signal = instr.args
    if _EXPANDED.search(signal) or signal.startswith("["):
        return None
    if re.fullmatch(r"[+-]?[0-9]+", signal) is not None and -(2**63) <= int(signal) < 2**63:
        return None if int(signal) != 0 else f"invalid signal: {signal}"
    name = signal.upper()
    name = name[3:] if name.startswith("SIG") else name
    return None if name in _SIGNALS else f"invalid signal: {signal}"


# chmod's symbolic modes: `u+x`, `ug=rwX,o-w`, `u=g` … (BuildKit lets who and what mix)
_SYMBOLIC_CLAUSE = r"[ugoa]*(?:[-+=][rwxXstugo]*)+"
_SYMBOLIC_MODE = re.compile(f"{_SYMBOLIC_CLAUSE}(?:,{_SYMBOLIC_CLAUSE})*")


def _copy_error(instr: Instruction) -> str | None:
    chmod = instr.flag("chmod")
    if chmod is not None and chmod.value and not _EXPANDED.search(chmod.value):
        mode = chmod.value
        if mode[0].isascii() and mode[0].isdigit():
            if re.fullmatch(r"[0-7]+", mode) is None or int(mode, 8) > 0o7777:
                return (
                    f"invalid chmod parameter: '{mode}'. "
                    "it should be octal string and between 0 and 07777"
                )
        elif _SYMBOLIC_MODE.fullmatch(mode) is None:
            return "invalid syntax"
    return None


_DIGEST_SIZES = {"sha256": 64, "sha384": 96, "sha512": 128}
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


def _add_error(instr: Instruction) -> str | None:
    problem = _copy_error(instr)
    checksum = instr.flag("checksum")
    if problem is not None or checksum is None or not checksum.value:
        return problem
    if _EXPANDED.search(checksum.value) or instr.json_args is not None:
        return None
    sources = [w for w, _, _ in instr.args_words()][:-1]
    if len(sources) > 1:
        return "checksum can't be specified for multiple sources"
    source = sources[0]
    if _EXPANDED.search(source):
        return None
    if not any(mark in source for mark in (":", "@", ".git")):
        return "checksum requires HTTP(S) or Git sources"
    # (a Git source's checksum is a commit; other schemes are left to BuildKit)
    if not source.startswith(("http://", "https://")) or ".git" in source:
        return None
    return _digest_error(checksum.value)


def _digest_error(digest: str) -> str | None:
    algorithm, _, encoded = digest.partition(":")
    if not algorithm or not encoded:
        return "invalid checksum digest format"
    size = _DIGEST_SIZES.get(algorithm)
    if size is None:
        if _DIGEST.fullmatch(digest) is None:
            return "invalid checksum digest format"
        return "unsupported digest algorithm"
    if len(encoded) != size:
        return "invalid checksum digest length"
    return None if re.fullmatch(r"[a-f0-9]+", encoded) else "invalid checksum digest format"


def _run_error(instr: Instruction) -> str | None:
    for mount in instr.flag_values("mount"):
        if mount and not _EXPANDED.search(mount):
            problem = _mount_error(mount)
            if problem is not None:
                return problem
    return None


_MOUNT_TYPES = frozenset({"bind", "cache", "tmpfs", "secret", "ssh"})
_MOUNT_BOOLS = frozenset({"readonly", "ro", "readwrite", "rw", "required"})
_MOUNT_TEXTS = frozenset(
    {"type", "from", "source", "src", "target", "dst", "destination", "id", "env", "sharing"}
)
_MOUNT_NUMBERS = {"mode": 8, "uid": 10, "gid": 10}  # (the base each is read in)
# Go's strconv.ParseBool
_GO_BOOLS = frozenset(
    ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]
)
# go-units' RAMInBytes (tmpfs `size`)
_RAM_SIZE = re.compile(r"[0-9]+(?:\.[0-9]+)* ?[kKmMgGtTpP]?[iI]?[bB]?")


def _mount_error(mount: str) -> str | None:
    """BuildKit's ``--mount`` reading: its fields in order, then what each type forbids."""
    kind = "bind"
    target = ""
    seen: dict[str, str] = {}
    for field in mount.split(","):
        key, eq, value = field.partition("=")
        key = key.lower()
        if not eq and key not in _MOUNT_BOOLS:
            return f"invalid field '{field}' must be a key=value pair"
        if key == "type":
            if value.lower() not in _MOUNT_TYPES:
                return f'unsupported mount type "{value}"'
            kind = value.lower()
        elif key in ("required", "size") and kind not in _MOUNT_KEY_TYPES[key]:
            return f"unexpected key '{key}' for mount type '{kind}'"
        elif key == "size":
            if _RAM_SIZE.fullmatch(value) is None:
                return f"invalid value for size: {value}"
        elif key in ("target", "dst", "destination"):
            target = value
        elif key in _MOUNT_BOOLS:
            if eq and value not in _GO_BOOLS:
                return f"invalid value for {key}: {value}"
        elif key == "sharing":
            if value.lower() not in ("shared", "private", "locked"):
                return f'unsupported sharing value "{value}"'
        elif key in _MOUNT_NUMBERS:
            if not _go_uint32(value, _MOUNT_NUMBERS[key]):
                return f"invalid value {value} for {key}"
        elif key not in _MOUNT_TEXTS:
            return f"unexpected key '{key}' in '{field}'"
        seen[key] = value
    return _mount_type_error(kind, target, seen)


_MOUNT_KEY_TYPES = {"required": frozenset({"secret", "ssh"}), "size": frozenset({"tmpfs"})}


def _mount_type_error(kind: str, target: str, seen: dict[str, str]) -> str | None:
    if kind in ("bind", "tmpfs"):
        for key in ("mode", "uid", "gid"):
            if key in seen:
                return f'{key} not allowed for "{kind}" type mounts'
    if "sharing" in seen and kind != "cache":
        if kind == "secret":
            return "secret mount should not define sharing"
        return f"invalid cache sharing set for {kind} mount"
    if kind == "secret":
        if not target and not any(seen.get(k) for k in ("id", "source", "src")):
            return "invalid secret mount. one of source, target required"
        return None
    # (a relative or missing target is the working directory's, maybe the base image's: only
    # `/` itself is known to be the root)
    if kind != "ssh" and target == "/":
        return 'invalid mount target "/"'
    return None


def _go_uint32(text: str, base: int) -> bool:
    digits = "01234567" if base == 8 else "0123456789"
    return bool(text) and all(c in digits for c in text) and int(text, base) < 2**32


_CONVERSION_CHECKS: dict[str, Callable[[Instruction], str | None]] = {
    "EXPOSE": _expose_error,
    "STOPSIGNAL": _stopsignal_error,
    "COPY": _copy_error,
    "ADD": _add_error,
    "RUN": _run_error,
}

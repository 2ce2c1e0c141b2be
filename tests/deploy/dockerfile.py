"""Just enough of Docker's file formats to test ours without an engine.

``parse`` reads a Dockerfile into instructions (line continuations, comments, parser
directives, JSON exec form); ``DockerIgnore`` answers whether a path is left out of the build
context, with Docker's rules: patterns are anchored at the context root, ``*`` and ``?`` stay
within one path segment, ``**`` spans any number, a pattern that matches a directory leaves out
everything below it, ``!`` re-includes, and the last matching line wins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_DIRECTIVE = re.compile(r"^#\s*([a-z]+)\s*=\s*(\S+)\s*$")
_FLAG = re.compile(r"^--([a-z-]+)(?:=(\S*))?$")


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str  # upper case
    value: str  # the rest, continuation lines joined

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array form (``["a", "b"]``), or None for the shell form."""
        text = self.value.strip()
        if not text.startswith("["):
            return None
        parsed = json.loads(text)
        if not (isinstance(parsed, list) and all(isinstance(p, str) for p in parsed)):
            raise ValueError(f"line {self.line}: {self.keyword} JSON must be a list of strings")
        return parsed

    def flags_and_args(self) -> tuple[dict[str, str], list[str]]:
        """``--name=value`` options before the arguments (COPY --from=..., HEALTHCHECK ...)."""
        words = self.value.split()
        flags: dict[str, str] = {}
        while words and (m := _FLAG.match(words[0])):
            flags[m.group(1)] = m.group(2) or ""
            words.pop(0)
        return flags, words


@dataclass(frozen=True)
class Dockerfile:
    directives: dict[str, str]
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def stages(self) -> list[list[Instruction]]:
        """Instructions grouped by FROM (each group starts with its FROM)."""
        out: list[list[Instruction]] = []
        for ins in self.instructions:
            if ins.keyword == "FROM":
                out.append([])
            if out:
                out[-1].append(ins)
        return out


KEYWORDS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
        "MAINTAINER",
    ]
)


def parse(text: str) -> Dockerfile:
    """Instructions of a Dockerfile; ``ValueError`` naming the line on anything unknown."""
    directives: dict[str, str] = {}
    instructions: list[Instruction] = []
    lines = text.splitlines()
    in_header = True
    i = 0
    while i < len(lines):
        raw = lines[i]
        number = i + 1
        i += 1
        stripped = raw.strip()
        if in_header and (m := _DIRECTIVE.match(stripped)):
            directives[m.group(1)] = m.group(2)
            continue
        in_header = False
        if not stripped or stripped.startswith("#"):
            continue
        parts = [stripped]
        while parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1]
            if i >= len(lines):
                raise ValueError(f"line {number}: continuation at the end of the file")
            nxt = lines[i].strip()
            i += 1
            if nxt.startswith("#"):
                parts.append("\\")  # a comment inside a continuation: dropped, go on
                continue
            parts.append(nxt)
        joined = " ".join(p.strip() for p in parts if p.strip()).strip()
        keyword, _, value = joined.partition(" ")
        if keyword.upper() not in KEYWORDS:
            raise ValueError(f"line {number}: unknown instruction {keyword!r}")
        if "<<" in value and keyword.upper() in ("RUN", "COPY"):
            raise ValueError(f"line {number}: heredocs are not supported by this parser")
        ins = Instruction(number, keyword.upper(), value.strip())
        ins.exec_form  # noqa: B018 - raises on a malformed JSON form
        instructions.append(ins)
    if not instructions or instructions[0].keyword not in ("FROM", "ARG"):
        raise ValueError("a Dockerfile starts with FROM (or ARG before it)")
    return Dockerfile(directives, instructions)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i)
            out.append(pattern[i : end + 1])
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


class DockerIgnore:
    def __init__(self, text: str) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            line = line.lstrip("!").strip().strip("/")
            line = re.sub(r"/+", "/", line).removeprefix("./")
            self.rules.append((negate, _pattern_regex(line)))

    def excluded(self, path: str) -> bool:
        """Whether ``path`` (relative to the context root, ``/``-separated) is left out."""
        parts = path.strip("/").split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        result = False
        for negate, regex in self.rules:
            if any(regex.match(p) for p in prefixes):
                result = not negate
        return result

    def excluded_files(self, root: Path, source: str) -> list[str]:
        """Files a ``COPY source`` would send that the context leaves out."""
        base = root / source
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        rel = [p.relative_to(root).as_posix() for p in files]
        return [r for r in rel if "__pycache__" not in r and self.excluded(r)]

#!/usr/bin/env python3
"""Checks that the library's source files import each other without a cycle.

Every `.rs` file under `crates/spinbat/src` is a node. A file depends on another when its
code names an item of it: a path `crate::a::b::Item`, `super::Item`, `self::child::Item` or
a plain `child::Item` of a declared child module. A path is resolved to the deepest module
file on it, and through `pub use` re-exports to the file that defines the item, so a
re-export is the module's interface and not a dependency of its own. `mod x;` lines and
doc comments (`//!`, `///`, ``[`crate::x`]`` links) and inline test modules are not
dependencies.

Exit status 1 and every cycle (a strongly connected component of more than one file) on
stderr when there is one; `--graph` prints the edges.

    python3 scripts/check-acyclic.py [--graph] [SRC_DIR]
"""

import re
import sys
from pathlib import Path

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_RE = re.compile(r"\buse\s+([^;]+);", re.S)
PUB_USE_RE = re.compile(r"^\s*pub(?:\([a-z]+\))?\s+use\s+([^;]+);", re.M)
MOD_RE = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_0-9]+)\s*;", re.M)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] if '"' not in line else line for line in text.splitlines())


def strip_tests(text: str) -> str:
    """Drops an inline `#[cfg(test)] mod tests { ... }` (by habit the end of a file): its
    `super` is the file itself, and tests may reach anywhere."""
    m = re.search(r"#\[cfg\(test\)\]\s*mod\s+[a-z_]+\s*\{", text)
    return text[: m.start()] if m else text


def strip_strings(text: str) -> str:
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


class Crate:
    def __init__(self, src: Path):
        self.src = src
        self.files = sorted(src.rglob("*.rs"))
        # module path (tuple) -> file
        self.modules = {}
        for f in self.files:
            self.modules[self.module_path(f)] = f
        self.text = {f: strip_tests(strip_strings(strip_comments(f.read_text()))) for f in self.files}
        # re-exports: (module path, item) -> full path of the item it names
        self.reexports = {}
        for f in self.files:
            mod = self.module_path(f)
            for m in PUB_USE_RE.finditer(self.text[f]):
                for full, alias in self.expand_use(m.group(1)):
                    path = self.absolute(mod, full)
                    if path:
                        self.reexports[(mod, alias)] = path

    def module_path(self, f: Path) -> tuple:
        rel = f.relative_to(self.src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        return tuple(parts)

    @staticmethod
    def expand_use(tree: str):
        """`a::{b, c::d as e}` -> [(['a','b'], 'b'), (['a','c','d'], 'e')]."""
        tree = re.sub(r"\s+", "", tree)
        out = []

        def walk(prefix, t):
            if t.startswith("{") and t.endswith("}"):
                depth, start = 0, 1
                for i, ch in enumerate(t):
                    if ch == "{":
                        depth += 1
                    elif ch == "}":
                        depth -= 1
                    if (ch == "," and depth == 1) or i == len(t) - 1:
                        part = t[start:i]
                        if part:
                            walk(prefix, part)
                        start = i + 1
                return
            m = re.match(r"([A-Za-z_0-9]+)::(.*)", t)
            if m and not t.startswith("{"):
                walk(prefix + [m.group(1)], m.group(2))
                return
            name, _, alias = t.partition("as")
            if name == "*":
                out.append((prefix + ["*"], "*"))
            elif name == "self":
                out.append((prefix, alias or (prefix[-1] if prefix else "")))
            else:
                out.append((prefix + [name], alias or name))

        walk([], tree)
        return out

    def absolute(self, mod: tuple, parts: list):
        """The absolute module path of a `use`-style path written in module `mod`."""
        if not parts:
            return None
        head, rest = parts[0], parts[1:]
        if head == "crate":
            return tuple(rest)
        if head == "self":
            return mod + tuple(rest)
        if head == "super":
            base = mod
            while parts and parts[0] == "super":
                base = base[:-1]
                parts = parts[1:]
            return base + tuple(parts)
        if mod + (head,) in self.modules:
            return mod + tuple(parts)
        if (head,) in self.modules and mod == ():
            return tuple(parts)
        return None  # an external crate or a local item

    def resolve(self, path: tuple, seen=None):
        """The file that defines the item (or module) at the absolute `path`."""
        seen = seen or set()
        for k in range(len(path), -1, -1):
            prefix = path[:k]
            if prefix in self.modules:
                if k < len(path):
                    key = (prefix, path[k])
                    if key in self.reexports and key not in seen:
                        seen.add(key)
                        return self.resolve(self.reexports[key] + path[k + 1 :], seen)
                return self.modules[prefix]
        return None

    def edges(self):
        result = {f: set() for f in self.files}
        for f in self.files:
            mod = self.module_path(f)
            text = self.text[f]
            # `pub use` lines are the interface, not a dependency
            body = PUB_USE_RE.sub("", text)
            children = set(MOD_RE.findall(text))
            body = MOD_RE.sub("", body)
            paths = []
            for m in USE_RE.finditer(body):
                for full, _ in self.expand_use(m.group(1)):
                    if full and full[-1] == "*":
                        full = full[:-1]
                    paths.append(full)
            for m in PATH_RE.finditer(body):
                paths.append([m.group(1)] + m.group(2).split("::")[1:])
            for child in children:
                for m in re.finditer(r"\b" + child + r"((?:::[A-Za-z_][A-Za-z0-9_]*)+)", body):
                    paths.append([child] + m.group(1).split("::")[1:])
            for p in paths:
                absolute = self.absolute(mod, p)
                if absolute is None:
                    continue
                target = self.resolve(absolute)
                if target is not None and target != f:
                    result[f].add(target)
        return result


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def self_test():
    """The check must see a loop through a re-export and a child's `super::`, and none in
    a parent that only declares and re-exports."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "p").mkdir()
        (root / "lib.rs").write_text("pub mod p;\npub mod q;\n")
        (root / "p/mod.rs").write_text("mod a;\nmod b;\npub use a::A;\npub use b::B;\n")
        (root / "p/a.rs").write_text("use super::B;\npub struct A(B);\n")
        (root / "p/b.rs").write_text("pub struct B;\n")
        (root / "q.rs").write_text("use crate::p::A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n")
        assert not cycles(Crate(root).edges()), "false cycle"
        (root / "p/b.rs").write_text("pub struct B(Box<crate::q::Q>);\n")
        (root / "q.rs").write_text("pub struct Q(crate::p::A);\n")
        found = cycles(Crate(root).edges())
        assert found and len(found[0]) == 3, found
    print("check-acyclic: self-test passed")


def main():
    if "--self-test" in sys.argv:
        self_test()
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    src = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "crates/spinbat/src"
    crate = Crate(src)
    graph = crate.edges()
    if "--graph" in sys.argv:
        for f, ts in graph.items():
            for t in sorted(ts):
                print(f"{f.relative_to(src)} -> {t.relative_to(src)}")
    found = cycles(graph)
    if not found:
        print(f"check-acyclic: {len(graph)} files of {src}, no import cycle")
        return 0
    for comp in found:
        names = ", ".join(str(f.relative_to(src)) for f in comp)
        print(f"check-acyclic: import cycle of {len(comp)} files: {names}", file=sys.stderr)
        # one concrete loop through the component, edge by edge
        inside = set(comp)
        start = comp[0]
        path, seen = [start], {start}
        while True:
            nxt = sorted(t for t in graph[path[-1]] if t in inside)
            step = next((t for t in nxt if t not in seen), None)
            if step is None:
                step = next((t for t in nxt if t in seen), None)
                if step is not None:
                    path.append(step)
                break
            path.append(step)
            seen.add(step)
        print("    e.g. " + " -> ".join(str(f.relative_to(src)) for f in path), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Runs the README's commands the way a new user would: in a fresh clone of this
# repository's HEAD, in a temporary directory, and fails on the first command that fails.
#
#   1. clones HEAD (committed files only) into a mktemp folder and checks every relative
#      link of README.md (`[text](path)`) points to a file of the clone;
#   2. runs every ```sh block of README.md, in order, each in its own
#      `bash -e -u -o pipefail` from the clone's root, with the already-built
#      target/release/spinbat first on PATH (built with `cargo build --release -p
#      spinbat-cli` only if missing). Files carry over from block to block, shell state
#      (cd, variables) does not;
#   3. runs the README's Python session (a ```python block of `>>>` lines) as a doctest
#      (ELLIPSIS; NORMALIZE_WHITESPACE, as pandas pads lines) with .venv-py/bin/python, made
#      by scripts/python-tests.sh; without it (or without spinbat and pandas in it) the
#      session is skipped with a message;
#   4. checks the clone's `git status --porcelain` is empty: the commands leave nothing in
#      the tree but ignored scratch files (out/, examples' outputs).
#
# README conventions (see README.md):
#   * a block that must not run (installs, builds, long runs, cluster commands) is preceded,
#     on the last non-blank line before its fence, by `<!-- readme-check: skip (reason) -->`;
#   * shell commands go in ```sh blocks: ```bash, ```shell, ```console and ```zsh fences are
#     refused, so that no command escapes the check; output goes in plain ``` blocks.
#
# Usage: scripts/readme-check.sh            KEEP=1 keeps the clone (its path is printed)
# Environment: CARGO_TARGET_DIR (where target/release/spinbat is), BLOCK_TIMEOUT (seconds
# per block, default 300).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
bin="$target/release"
block_timeout="${BLOCK_TIMEOUT:-300}"
start=$SECONDS

if [ ! -x "$bin/spinbat" ]; then
  echo "== readme-check: $bin/spinbat missing, cargo build --release -p spinbat-cli"
  (cd "$root" && cargo build --release --quiet -p spinbat-cli)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/spinbat-readme-check.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  trap 'echo "readme-check: kept $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
clone="$tmp/spinbat"
head="$(git -C "$root" rev-parse HEAD)"
git clone --quiet --no-checkout "$root" "$clone"
git -C "$clone" fetch --quiet "$root" "$head" 2>/dev/null || true  # a detached HEAD
git -C "$clone" -c advice.detachedHead=false checkout --quiet "$head"
echo "== readme-check: README.md of $(git -C "$root" rev-parse --short HEAD) in a fresh clone, $clone"
if ! git -C "$root" diff --quiet HEAD -- README.md 2>/dev/null; then
  echo "   note: README.md has uncommitted changes; the clone checks the committed one"
fi

# Split README.md into blocks: $tmp/blocks/NNN.{sh,py} with NNN.line (first line of the
# block in README.md) and NNN.skip (the reason) for skipped ones; refuse other shell fences
# and relative links to files the clone lacks.
mkdir "$tmp/blocks"
python3 - "$clone/README.md" "$tmp/blocks" <<'PY'
import os, re, sys

readme, out = sys.argv[1], sys.argv[2]
lines = open(readme, encoding="utf-8").read().split("\n")
errors, blocks, prose = [], [], []
k = 0
while k < len(lines):
    m = re.match(r"^\s*```\s*([A-Za-z0-9_+-]*)", lines[k])
    if not m:
        prose.append(lines[k])
        k += 1
        continue
    lang, begin = m.group(1).lower(), k
    end = next((j for j in range(k + 1, len(lines)) if lines[j].strip().startswith("```")), None)
    if end is None:
        errors.append(f"README.md:{begin + 1}: a ``` fence that is never closed")
        break
    prev = next((lines[j].strip() for j in range(begin - 1, -1, -1) if lines[j].strip()), "")
    skip = re.match(r"<!--\s*readme-check:\s*skip\b\s*(.*?)\s*-->", prev)
    body = lines[begin + 1 : end]
    if lang in ("bash", "shell", "console", "zsh", "shell-session"):
        errors.append(f"README.md:{begin + 1}: ```{lang} block: write shell commands in ```sh blocks "
                      "(they run in CI; mark one that must not run with <!-- readme-check: skip (reason) -->)")
    elif lang == "sh":
        blocks.append(("sh", begin + 1, body, skip.group(1) if skip else None))
    elif lang in ("python", "pycon") and any(l.startswith(">>>") for l in body):
        blocks.append(("py", begin + 1, body, skip.group(1) if skip else None))
    k = end + 1

# relative links: [text](path) outside code blocks must exist in the clone
text = re.sub(r"`[^`\n]*`(?!\])", "", "\n".join(prose))  # inline code, unless it is a link's text
base = os.path.dirname(readme)
for target in re.findall(r"\]\(([^)\s]+)\)", text):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
        continue
    path = target.split("#")[0]
    if path and not os.path.exists(os.path.normpath(os.path.join(base, path))):
        errors.append(f"README.md: the link ({target}) points to no file of the repository")

if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
for n, (kind, line, body, skip) in enumerate(blocks):
    stem = os.path.join(out, f"{n:03d}")
    with open(f"{stem}.{kind}", "w", encoding="utf-8") as f:
        f.write("\n".join(body) + "\n")
    with open(f"{stem}.line", "w") as f:
        f.write(f"{line}\n")
    if skip is not None:
        with open(f"{stem}.skip", "w") as f:
            f.write((skip.strip("() ") or "marked skip") + "\n")
PY

fail() {  # fail LINE FILE OUTPUT STATUS
  echo "readme-check: FAILED: the block at README.md:$1 exited with status $4 (in a clone of HEAD; KEEP=1 keeps it)" >&2
  echo "---- block" >&2
  sed 's/^/    /' "$2" >&2
  echo "---- its output (stdout and stderr)" >&2
  sed 's/^/    /' "$3" >&2
  echo "----" >&2
  exit 1
}

ran=0
skipped=0
py="$root/.venv-py/bin/python"
for stem in "$tmp"/blocks/*.line; do
  [ -e "$stem" ] || continue
  stem="${stem%.line}"
  block="$stem.sh"
  [ -e "$block" ] || block="$stem.py"
  line="$(cat "$stem.line")"
  first="$(grep -m1 -v '^\s*\(#.*\|mkdir .*\)\?$' "$block" || true)"  # what it is about
  if [ -e "$stem.skip" ]; then
    echo "   skip README.md:$line ($(cat "$stem.skip")): $first"
    skipped=$((skipped + 1))
    continue
  fi
  case "$block" in
  *.sh)
    echo "   run  README.md:$line: $first"
    status=0
    (cd "$clone" && PATH="$bin:$PATH" timeout "$block_timeout" bash -e -u -o pipefail "$block") \
      >"$stem.out" 2>&1 </dev/null || status=$?
    [ "$status" = 0 ] || fail "$line" "$block" "$stem.out" "$status"
    ;;
  *.py)
    if [ ! -x "$py" ] || ! "$py" -c 'import spinbat, pandas' >/dev/null 2>&1; then
      echo "   skip README.md:$line (Python session): no $root/.venv-py with spinbat and pandas;" \
        "scripts/python-tests.sh makes it"
      skipped=$((skipped + 1))
      continue
    fi
    echo "   run  README.md:$line: the Python session, as a doctest with .venv-py"
    cp "$block" "$stem.txt"
    status=0
    (cd "$clone" && PATH="$bin:$PATH" timeout "$block_timeout" "$py" -m doctest -o ELLIPSIS -o NORMALIZE_WHITESPACE "$stem.txt") \
      >"$stem.out" 2>&1 </dev/null || status=$?
    [ "$status" = 0 ] || fail "$line" "$block" "$stem.out" "$status"
    ;;
  esac
  ran=$((ran + 1))
done

left="$(git -C "$clone" status --porcelain)"
if [ -n "$left" ]; then
  echo "readme-check: FAILED: the README's commands left files in the tree (git status --porcelain):" >&2
  echo "$left" | sed 's/^/    /' >&2
  echo "write outputs to out/ (ignored) or add them to .gitignore" >&2
  exit 1
fi
echo "== readme-check: ok, $ran blocks ran, $skipped skipped, tree clean, $((SECONDS - start)) s"

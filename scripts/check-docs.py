#!/usr/bin/env python3
"""check-docs: every name the pages give must exist, every C sample must build.

Reads README.md, CONTRIBUTING.md and docs/**/*.md (docs/testing.md, "The pages are tested
too", says how to write a page so that this check understands it) and checks, with the page
and line of each failure:

  links      [text](target): the target file exists (relative to the page)
  paths      stack/..., tests/..., apps/... in text or code: the file or folder exists
             (globs, {a,b} and NAME placeholders allowed); build/X is a target of the Makefile
  files      a bare name.c / .h / .sh / .md / .pkt exists somewhere in the tree
  tests      test_NAME is a file or a function under tests/
  functions  `name()`, and a name_with_underscore() outside backquotes, is defined or called
             in the tree, or is a C library function
  names      `snake_case`, `CamelCase`, `UPPER_CASE`, `struct x`, `a->b`: in the tree, the
             system headers or /proc/sys (Linux's sysctl names); a span right after "Linux's"
             (or another project's name) names that software and is not checked
  sizes      `sizeof(struct x) = N`: the compiler agrees
  options    `--opt` and every --opt on a tapstack command line exists in the program
  make       `make TARGET` names a target of the Makefile or mk/*.mk
  C samples  ```c blocks: a program (with main) compiles with -Wall -Wextra -Werror and
             links against build/libtapstack.a; a `struct x {` block declares only members
             the real struct has; <!-- check-docs: body H... --> compiles the block as a
             function body after #include of each H; <!-- check-docs: excerpt FILE -->
             requires every line to appear in FILE in order
  commands   <!-- check-docs: run --> before a fenced block: each "$ cmd" line runs (bash,
             from the top of the tree, no root needed) and exits 0; the other lines are
             expected output, each of which must appear in the real output ("..." skips)
  members    <!-- check-docs: members struct x 2 --> before a table: each `a.b` in its second
             column is a member of struct x (docs/glossary.md's TCB table)
  states     <!-- check-docs: states --> before a state diagram: every state of the code's
             name table is drawn, and no hyphenated name that is not a state
  defines    <!-- check-docs: defines FILE --> before a picture: each NAME = VALUE in it is a
             #define of FILE with that value (header layouts)
  course     <!-- check-docs: course --> on a page: Goal, RFC, Code, Tests, and Exercises
             answered in docs/answers.md (the course template of CONTRIBUTING.md)
  labels     <!-- check-docs: labels MUST-1..69 REC-1 --> on a page: each label is the first
             cell of exactly one table row (docs/rfc-map.md)
  comments   the tree's own files cite no .md file that is not in the repository
  gaps       docs/tcp-gaps.md has a section for exactly the DRILL-N entries that
             tests/drill/expectations.txt cites

<!-- check-docs: external NAME... --> anywhere on a page declares names (or files) of other
software that the page may mention: a Linux function, a file the reader creates.

Ends with "check-docs: N passed, N failed"; exit status 1 on any failure.
Usage: scripts/check-docs.py [-v] [PAGE...]   (CC, BUILD, LDLIBS and DRILL_CORPUS from the
environment; `make check-docs` passes the Makefile's)
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
CC = os.environ.get("CC", "gcc")
LDLIBS = os.environ.get("LDLIBS", "-luring -lpthread").split()  # the Makefile's, via make
BUILD = os.environ.get("BUILD", "build")
CORPUS = os.environ.get("DRILL_CORPUS", "../shared/packetdrill")
VERBOSE = "-v" in sys.argv
TOP_DIRS = ("apps", "stack", "drivers", "tests", "scripts", "docs", "mk", "preload", "build")

passed = 0
failures = []


def ok():
    global passed
    passed += 1


def fail(page, line, msg):
    f = f"{page}:{line}: {msg}"
    if f not in failures:
        failures.append(f)


# ---------------------------------------------------------------- the tree, read once

def tree_files():
    r = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        out = r.stdout.split("\n")
    else:  # an exported tree without git: every file but the build
        out = [os.path.relpath(os.path.join(d, n)) for d, dirs, names in os.walk(".")
               for n in names if not d.startswith(("./build", "./.git"))]
    return sorted({f for f in out if f and os.path.exists(f)})  # a path in a merge is listed per stage


FILES = tree_files()
FILESET = set(FILES)
DIRS = {os.path.dirname(f) for f in FILES}
for d in list(DIRS):
    while d:
        DIRS.add(d)
        d = os.path.dirname(d)
BASENAMES = {os.path.basename(f) for f in FILES}
CODE_EXT = (".c", ".h", ".sh", ".mk", ".py", ".txt", ".pc.in", ".map")
CODE_FILES = [f for f in FILES
              if (f.endswith(CODE_EXT) or f == "Makefile" or f.startswith("scripts/"))
              and not f.startswith("tests/fuzz/corpus") and not f.endswith(".md")
              and f != "scripts/check-docs.py"]


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except (IsADirectoryError, FileNotFoundError):
        return ""


CODE_TEXT = "\n".join(read(f) for f in CODE_FILES)
CODE_WORDS = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", CODE_TEXT))
TEST_TEXT = "\n".join(read(f) for f in CODE_FILES if f.startswith("tests/"))
TEST_WORDS = set(re.findall(r"\btest_[A-Za-z0-9_]+", TEST_TEXT))
TEST_WORDS |= {os.path.splitext(os.path.basename(f))[0] for f in FILES if f.startswith("tests/")}

_sys_words = None


def sys_words():
    """Words of the system headers, libc's exported symbols and /proc/sys names (lazily)."""
    global _sys_words
    if _sys_words is None:
        words = set()
        for d in ("/usr/include",):
            for dirpath, _, names in os.walk(d):
                for n in names:
                    if n.endswith(".h"):
                        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", read(os.path.join(dirpath, n))))
        for lib in glob.glob("/lib/x86_64-linux-gnu/libc.so.6") + glob.glob("/usr/lib/*/libc.so.6"):
            out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True).stdout
            words.update(l.split()[-1].split("@")[0] for l in out.splitlines() if l.strip())
        for dirpath, dirs, names in os.walk("/proc/sys"):
            words.update(names)
            words.update(dirs)
        _sys_words = words
    return _sys_words


def make_targets():
    """Targets of the Makefile and mk/*.mk, simple variables expanded, BUILD as build."""
    texts = [read(f) for f in ["Makefile"] + [f for f in FILES if f.startswith("mk/") and f.endswith(".mk")]]
    var = {"BUILD": "build"}
    for text in texts:
        for m in re.finditer(r"^([A-Z_]+)\s*[:?]?=\s*(.*)$", text, re.M):
            if m.group(1) != "BUILD" and "$(shell" not in m.group(2) and "$(" not in m.group(2).replace("$(BUILD)", ""):
                var.setdefault(m.group(1), m.group(2).strip())

    def expand(t):
        for _ in range(5):
            t = re.sub(r"\$\(([A-Z_]+)\)", lambda m: var.get(m.group(1), m.group(0)), t)
        return t
    targets = set()
    for text in texts:
        for m in re.finditer(r"^([A-Za-z0-9_.$()/%-][^:=\n]*?)\s*:(?!=)", text, re.M):
            for t in m.group(1).split():
                targets.add(expand(t))
        for m in re.finditer(r"^\.PHONY:(.*)$", text, re.M):
            targets.update(m.group(1).split())
    return targets


MAKE_TARGETS = make_targets()


def program_options():
    """Long options of the programs: --name literals and getopt_long table entries."""
    opts = set()
    for f in CODE_FILES:
        text = read(f)
        opts.update(re.findall(r"--([a-z][a-z0-9_-]*)", text))
        opts.update(re.findall(r'\{\s*"([a-z][a-z0-9-]*)"\s*,\s*(?:no|required|optional)_argument', text))
    return opts


OPTIONS = program_options()

# ---------------------------------------------------------------- single claims

PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]*(?![A-Za-z0-9])")


def expand_braces(s):
    m = re.search(r"\{([^{}]*,[^{}]*)\}", s)
    if not m:
        return [s]
    out = []
    for alt in m.group(1).split(","):
        out += expand_braces(s[:m.start()] + alt + s[m.end():])
    return out


def path_exists(p):
    p = p.rstrip("/")
    if p in FILESET or p in DIRS or os.path.exists(p):
        return True
    if any(c in p for c in "*?["):
        return bool([f for f in FILES if glob.fnmatch.fnmatchcase(f, p)]
                    or [d for d in DIRS if glob.fnmatch.fnmatchcase(d, p)])
    return False


def target_exists(t):
    return t in MAKE_TARGETS or any(glob.fnmatch.fnmatchcase(t, m.replace("%", "*")) for m in MAKE_TARGETS)


def check_build_path(page, line, p):
    rest = p[len("build/"):].rstrip("/")
    if rest.startswith("tests/") and rest.count("/") == 1:
        name = PLACEHOLDER.sub("*", rest.split("/")[1])
        good = any(glob.fnmatch.fnmatchcase(f, "tests/unit/" + name + ".c") for f in FILES)
    elif "/" not in rest:
        good = target_exists("build/" + rest) or any(
            glob.fnmatch.fnmatchcase(t, "build/" + PLACEHOLDER.sub("*", rest)) for t in MAKE_TARGETS)
    else:
        return  # a run's output (build/bench/results.json, build/tsan/...): not a claim about the tree
    if good:
        ok()
    else:
        fail(page, line, f"{p}: no rule builds it")


def check_path(page, line, p):
    p = re.sub(r":\d+(-\d+)?$", "", p)
    p = p.rstrip(".,;:)'\"")
    if p.startswith("build/"):
        check_build_path(page, line, p)
        return
    for alt in expand_braces(p):
        if path_exists(alt):
            continue
        generic = PLACEHOLDER.sub("*", alt)
        if generic != alt and path_exists(generic):
            continue
        fail(page, line, f"{alt}: no such file or folder in the tree")
        return
    ok()


def check_basename(page, line, name):
    if re.fullmatch(r"[A-Z][A-Z0-9_]*\.(pkt|c|sh)", name) or name in EXTERNAL:
        return  # a placeholder (SCRIPT.pkt) or a file the page itself makes
    if name in BASENAMES or name in FILESET:
        ok()
        return
    if name.endswith(".pkt"):
        if name in read("tests/drill/expectations.txt"):
            ok()
            return
    if not name.endswith(".md") and glob.glob(f"{CORPUS}/**/{name}", recursive=True):
        ok()  # a file of the packetdrill corpus, the input `make drill` reads
        return
    fail(page, line, f"{name}: no file of that name in the repository")


def check_test(page, line, name):
    if name in TEST_WORDS or name.rstrip("_") in TEST_WORDS:
        ok()
    elif any(w.startswith(name) for w in TEST_WORDS) and name.endswith("_"):
        ok()
    else:
        fail(page, line, f"{name}: no test of that name under tests/")


HINT = " (a name of other software? declare it on the page: <!-- check-docs: external NAME -->)"


def claim(page, line, name, found, what):
    """One name checked: counted as passed, or reported; names the page declares external skip."""
    if name in EXTERNAL:
        return
    if found:
        ok()
    else:
        fail(page, line, f"{name}{what}")


def check_function(page, line, name):
    claim(page, line, name, name in CODE_WORDS or name in sys_words(),
          "(): no such function in the tree or the C library" + HINT)


def check_word(page, line, w):
    claim(page, line, w, w in CODE_WORDS or w in sys_words(),
          ": no such name in the tree (function, field, counter, constant)" + HINT)


def check_option(page, line, opt):
    claim(page, line, opt, opt[2:] in OPTIONS, ": no program or script of the tree has this option")


def check_make(page, line, words):
    build = None
    for w in words:
        if w.startswith("BUILD="):
            build = w[len("BUILD="):].rstrip("/")
        if "=" in w or w.startswith("-"):
            continue
        for alt in w.split("|"):  # `make run|demo|test`: each alternative
            if build and alt.startswith(build + "/"):
                alt = "build/" + alt[len(build) + 1:]
            if target_exists(alt):
                ok()
            else:
                fail(page, line, f"make {alt}: no such target in the Makefile or mk/*.mk")
        return


IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# A name worth checking: has an underscore, or is CamelCase with two capitals (ListenDrops).
def is_namey(w):
    if re.fullmatch(r"[A-Z0-9_]+", w):
        return "_" in w.strip("_")
    return "_" in w.strip("_") or bool(re.fullmatch(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+", w))


def check_span(page, line, span):
    s = span.strip()
    if not s:
        return
    if s.startswith("make "):
        check_make(page, line, s.split()[1:])
        return
    if s in EXTERNAL or re.fullmatch(r"[\w.-]+\.(c|h|sh|md|pkt|mk|py)", s):
        return  # a file: the basename check has it
    if s.startswith("--") and re.match(r"--[a-z]", s):
        check_option(page, line, s.split()[0].split("=")[0].rstrip(",."))
        return
    words = s.split()
    if words[0] in ("tapstack", "build/tapstack"):
        for o in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", s):
            check_option(page, line, o)
        return
    m = re.fullmatch(r"sizeof\(struct (" + IDENT + r")\) = (\d+)", s)
    if m:
        SIZES.append((page, line, m.group(1), int(m.group(2))))
        return
    m = re.fullmatch(r"struct\s+(" + IDENT + r")", s)
    if m:
        check_word(page, line, m.group(1))
        return
    # name() or name(args): a function (skip man-page references like poll(2))
    m = re.fullmatch(r"(" + IDENT + r")\((.*)\)\s*;?", s)
    if m and not re.fullmatch(r"\d+[a-z]?", m.group(2)):
        check_function(page, line, m.group(1))
        return
    # a->b, a.b (fields), a plain identifier
    if re.fullmatch(IDENT + r"((->|\.)" + IDENT + r")+", s) and not re.fullmatch(r"[A-Z.]+", s):
        for part in re.split(r"->|\.", s):
            if is_namey(part):
                check_word(page, line, part)
        return
    if re.fullmatch(IDENT, s) and is_namey(s) and not s.startswith("test_"):
        check_word(page, line, s)


SIZES = []  # (page, line, struct, bytes) from `sizeof(struct x) = N` spans


def check_sizes():
    """Compiles one program that prints the size of every struct a page gives a size for."""
    if not SIZES:
        return
    headers, known = [], []
    for page, line, name, _ in SIZES:
        hdr = next((f for f in CODE_FILES if f.endswith(".h") and f.startswith(("stack/", "drivers/"))
                    and re.search(r"struct\s+" + name + r"\s*\{", read(f))), None)
        if hdr is None:
            fail(page, line, f"struct {name}: defined in no header of stack/ or drivers/")
            continue
        headers.append(hdr)
        known.append(name)
    src = "#include <stdio.h>\n" + "".join(f'#include "{h}"\n' for h in sorted(set(headers)))
    src += "int main(void)\n{\n" + "".join(
        f'\tprintf("{n} %zu\\n", sizeof(struct {n}));\n' for n in sorted(set(known))) + "\treturn 0;\n}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path, exe = os.path.join(tmp, "sizes.c"), os.path.join(tmp, "sizes")
        with open(path, "w") as fh:
            fh.write(src)
        r = subprocess.run([CC] + BASE_FLAGS + [path, "-o", exe], capture_output=True, text=True)
        if r.returncode:
            fail("scripts/check-docs.py", 0, "the sizeof program does not compile:\n" + indent(r.stderr))
            return
        real = dict(l.split() for l in subprocess.run([exe], capture_output=True, text=True).stdout.splitlines())
    for page, line, name, n in SIZES:
        if name not in real:
            continue
        if int(real[name]) == n:
            ok()
        else:
            fail(page, line, f"sizeof(struct {name}) is {real[name]}, not {n}")


# ---------------------------------------------------------------- C samples

def cc(args, src, suffix=".c"):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample" + suffix)
        with open(path, "w") as fh:
            fh.write(src)
        r = subprocess.run([CC] + args(path, tmp), capture_output=True, text=True)
        return r.returncode, r.stderr


BASE_FLAGS = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-I", "stack", "-I", "."]


def strip_comments(code):
    code = re.sub(r"/\*.*?\*/", " ", code, flags=re.S)
    return re.sub(r"//[^\n]*", " ", code)


def struct_body(name):
    for f in CODE_FILES:
        if not f.endswith((".c", ".h")):
            continue
        text = read(f)
        m = re.search(r"struct\s+" + name + r"\s*\{", text)
        if m:
            depth, i = 1, m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            return strip_comments(text[m.end():i - 1])
    for dirpath, _, names in os.walk("/usr/include"):
        for n in names:
            text = read(os.path.join(dirpath, n))
            m = re.search(r"struct\s+" + name + r"\s*\{", text)
            if m:
                return strip_comments(text[m.end():text.find("};", m.end())])
    return None


def member_names(body):
    names = []
    for decl in strip_comments(body).split(";"):
        decl = decl.strip()
        if not decl:
            continue
        m = re.search(r"\(\s*\*\s*(" + IDENT + r")\s*\)", decl)
        if m:
            names.append(m.group(1))
            continue
        decl = re.sub(r"\[[^\]]*\]", "", decl).split(":")[0]
        m = re.search(r"(" + IDENT + r")\s*$", decl)
        if m:
            names.append(m.group(1))
    return names


def check_members(page, line, row, spec):
    """<!-- check-docs: members struct NAME COLUMN -->: in the table after it, each `a.b` span
    of column COLUMN (1-based) names members of struct NAME (nested struct members as a.b)."""
    if len(spec) < 3 or spec[0] != "struct":
        fail(page, line, "members marker: expected 'members struct NAME COLUMN'")
        return
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    col = int(spec[2]) - 1
    if col >= len(cells) or set(cells[col]) <= set("-: "):
        return
    body = struct_body(spec[1])
    if body is None:
        fail(page, line, f"struct {spec[1]}: not defined in the tree")
        return
    for m in SPAN_RE.finditer(cells[col]):
        inner, owner = body, spec[1]
        for part in re.split(r"\.|->", m.group(2)):
            if inner is None or part not in set(re.findall(IDENT, inner)):
                fail(page, line, f"struct {owner} has no member {part}")
                break
            ok()
            # a member that is itself a named struct: its fields come next (rtt.srtt_us)
            sub = re.search(r"struct\s+(" + IDENT + r")\s+\*?" + part + r"\s*[;\[]", inner)
            if sub:
                inner, owner = struct_body(sub.group(1)), sub.group(1)


def check_states(page, line, block):
    """<!-- check-docs: states --> before a state diagram: it shows every state of the TCP
    name table (tcp_state_name()) and no hyphenated STATE-NAME the code does not have."""
    src = next((read(f) for f in CODE_FILES if f.endswith(".c")
                and re.search(r"^const char \*tcp_state_name\(", read(f), re.M)), "")
    names = set(re.findall(r'\[TCPS_[A-Z0-9_]+\]\s*=\s*"([A-Z0-9-]+)"', src))
    if not names:
        fail(page, line, "states marker: no state name table (TCPS_... = \"NAME\") in the tree")
        return
    shown = set(re.findall(r"\b[A-Z]+(?:-[A-Z0-9]+)*\b", block))
    for n in sorted(names):
        if n in shown:
            ok()
        else:
            fail(page, line, f"the diagram does not show state {n}")
    for w in sorted(w for w in shown if "-" in w and w not in names):
        fail(page, line, f"the diagram shows {w}, which is no state of the code")


def check_defines(page, line, block, headers):
    """<!-- check-docs: defines FILE... --> before a picture: every `NAME = VALUE` in it
    agrees with a #define of one of the files (the offsets and codes a diagram shows)."""
    defs = {}
    for h in headers:
        for m in re.finditer(r"^#define\s+([A-Z][A-Z0-9_]*)\s+(0x[0-9a-fA-F]+|\d+)u?\b", read(h), re.M):
            defs[m.group(1)] = int(m.group(2), 0)
    if not defs:
        fail(page, line, f"defines marker: no #define in {' '.join(headers)}")
        return
    for n, l in enumerate(block, line + 1):
        for m in re.finditer(r"\b([A-Z][A-Z0-9_]*) = (0x[0-9a-fA-F]+|\d+)", l):
            name, val = m.group(1), int(m.group(2), 0)
            if name not in defs:
                fail(page, n, f"{name}: not defined in {' '.join(headers)}")
            elif defs[name] != val:
                fail(page, n, f"{name} is {defs[name]} in {' '.join(headers)}, not {val}")
            else:
                ok()


def check_c_sample(page, line, code, marker):
    if marker and marker[0] == "excerpt":
        target = marker[1] if len(marker) > 1 else ""
        text = read(target)
        if not text:
            fail(page, line, f"excerpt of {target}: no such file")
            return
        norm = lambda s: re.sub(r"\s+", " ", s).strip()
        hay = [norm(l) for l in text.splitlines()]
        pos = 0
        for l in code.splitlines():
            n = norm(re.sub(r"/\*.*?\*/|//.*$", "", l))  # the page may add comments
            if not n:
                continue
            while pos < len(hay) and n not in hay[pos]:
                pos += 1
            if pos == len(hay):
                fail(page, line, f"excerpt of {target}: line not found (in this order): {l.strip()}")
                return
            pos += 1
        ok()
        return
    if marker and marker[0] == "body":
        src = "".join(f'#include "{h}"\n' for h in marker[1:])
        src += "void check_docs_sample(void **state);\nvoid check_docs_sample(void **state)\n{\n"
        src += "#line %d \"%s\"\n" % (line + 1, page) + code + "\n}\n"
        rc, err = cc(lambda p, t: BASE_FLAGS + ["-Wno-unused", "-Wno-unused-parameter", "-c", p,
                                                  "-o", os.path.join(t, "s.o")], src)
        if rc:
            fail(page, line, "C sample (function body) does not compile:\n" + indent(err))
        else:
            ok()
        return
    m = re.match(r"\s*struct\s+(" + IDENT + r")\s*\{", code)
    if m and "main(" not in code:
        body = struct_body(m.group(1))
        if body is None:
            fail(page, line, f"struct {m.group(1)}: not defined in the tree or the system headers")
            return
        real = set(member_names(body))
        code_body = code[code.index("{") + 1:code.rindex("}")]
        missing = [n for n in member_names(code_body) if n not in real]
        if missing:
            fail(page, line, f"struct {m.group(1)} has no member {', '.join(missing)}")
        else:
            ok()
        return
    if re.search(r"\bmain\s*\(", code):
        lib = os.path.join(BUILD, "libtapstack.a")
        if not os.path.exists(lib):
            fail(page, line, f"C sample: {lib} is not built (run make check-docs, which builds it)")
            return
        src = "#line %d \"%s\"\n" % (line + 1, page) + code
        rc, err = cc(lambda p, t: BASE_FLAGS + [p, lib] + LDLIBS + ["-o", os.path.join(t, "a.out")], src)
        if rc:
            fail(page, line, "C sample does not compile and link against the library:\n" + indent(err))
        else:
            ok()
        return
    fail(page, line, "C sample: neither a program (main), a struct excerpt nor marked "
         "<!-- check-docs: body HEADER... --> or <!-- check-docs: excerpt FILE -->; "
         "pseudo-code belongs in a ```text block")


def indent(s, n=12):
    lines = s.strip().splitlines()[:n]
    return "\n".join("    " + l for l in lines)


# ---------------------------------------------------------------- commands

def check_commands(page, line, block):
    cmds, expected = [], []
    for l in block.splitlines():
        if l.startswith("$ "):
            cmds.append(l[2:])
        elif l.strip() and l.strip() != "...":
            expected.append(l.strip())
    if not cmds:
        fail(page, line, "<!-- check-docs: run --> block has no '$ command' line")
        return
    script = "set -e\n" + "\n".join(cmds) + "\n"
    try:
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, MAKEFLAGS="", MAKELEVEL=""))
    except subprocess.TimeoutExpired:
        fail(page, line, "commands did not finish within 300 s")
        return
    out = r.stdout + r.stderr
    if r.returncode:
        fail(page, line, f"commands exit with status {r.returncode}:\n" + indent(out[-2000:]))
        return
    norm = lambda s: re.sub(r"\s+", " ", s).strip()
    nout = norm(out)
    for e in expected:
        parts = [norm(p) for p in e.split("...") if norm(p)]
        if not all(p in nout for p in parts):
            fail(page, line, f"expected output not seen: {e}")
            return
    ok()


# ---------------------------------------------------------------- a page

PATH_RE = re.compile(r"(?<![\w./~<@:=-])((?:\.\./)*(?:" + "|".join(TOP_DIRS) +
                     r")/(?:[A-Za-z0-9_.*?/{},-]|\[[a-z]+\])*(?:[A-Za-z0-9_*}/-]|\[[a-z]+\]))")
BASENAME_RE = re.compile(r"(?<![\w./<-])([A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:c|h|sh|md|pkt|mk|py))\b(?![\w/-])")
TEST_RE = re.compile(r"(?<![\w/.])(test_[a-z0-9_]+)")
LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SPAN_RE = re.compile(r"(`+)(.+?)\1")
OTHER_SOFTWARE_RE = re.compile(r"\b(?:Linux|Linux's|BSD's|FreeBSD's|OpenBSD's|lwIP's|smoltcp's|gVisor's|"
                               r"glibc's|nginx's|packetdrill's|the kernel's)\s*$")
MARK_RE = re.compile(r"<!--\s*check-docs:\s*(.*?)\s*-->")


def check_text(page, lineno, text, in_code):
    """Names in a line of prose (in_code False) or of a non-C fenced block."""
    for m in PATH_RE.finditer(text):
        p = m.group(1)
        if p.startswith("../"):
            p = os.path.normpath(os.path.join(os.path.dirname(page), p))
            if p.startswith(".."):
                fail(page, lineno, f"{m.group(1)}: outside the repository")
                continue
        check_path(page, lineno, p)
    for m in BASENAME_RE.finditer(text):
        check_basename(page, lineno, m.group(1))
    for m in TEST_RE.finditer(text):
        check_test(page, lineno, m.group(1))
    # name() with an underscore outside backquotes (prose, diagrams) is a function too
    for m in re.finditer(r"(?<![\w`.>-])([a-z][a-z0-9]*_[a-z0-9_]+)\(\)", SPAN_RE.sub(" ", text)):
        if not m.group(1).startswith("test_"):
            check_function(page, lineno, m.group(1))
    if in_code:
        for cmdline in re.split(r"[|;&]", text.split(" #")[0]):
            ws = cmdline.split()
            if not ws:
                continue
            if ws[0] == "$" and len(ws) > 1:
                ws = ws[1:]
            if ws[0] in ("build/tapstack", "tapstack", "build/tapstack-kernel", "build/tapstack-drill"):
                for o in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", cmdline.split("#")[0]):
                    check_option(page, lineno, o)
            elif ws[0] == "make" and not text.lstrip().startswith("#"):
                check_make(page, lineno, ws[1:])
        return
    for m in LINK_RE.finditer(text):
        target = m.group(1).split("#")[0]
        if not target or re.match(r"[a-z]+:", target):
            continue
        p = os.path.normpath(os.path.join(os.path.dirname(page), target))
        if p.startswith("..") or not path_exists(p):
            fail(page, lineno, f"link to {m.group(1)}: no such file in the repository")
        else:
            ok()
    for m in SPAN_RE.finditer(text):
        before = text[:m.start()]
        if not before.strip():
            before = PREV_LINE[0] + " "  # "Linux's" may end the line before
        if OTHER_SOFTWARE_RE.search(before.rstrip()):
            continue  # "Linux's `tcp_sendmsg`": a name of that software, not of this tree
        check_span(page, lineno, m.group(2))


EXTERNAL = set()
PREV_LINE = [""]  # the line before the one check_text() reads (a phrase may wrap)


def check_labels(page, lines, spec):
    """<!-- check-docs: labels MUST-1..69 REC-1 ... -->: each label is the first cell of
    exactly one table row of the page (a requirement map with no gap and no duplicate)."""
    want = []
    for item in spec:
        m = re.fullmatch(r"([A-Z]+)-(\d+)\.\.(\d+)", item)
        if m:
            want += [f"{m.group(1)}-{i}" for i in range(int(m.group(2)), int(m.group(3)) + 1)]
        else:
            want.append(item)
    rows = {}
    for n, l in enumerate(lines, 1):
        m = re.match(r"\|\s*([A-Z]+-\d+)\s*\|", l)
        if m:
            rows.setdefault(m.group(1), []).append(n)
    for label in want:
        where = rows.get(label, [])
        if len(where) == 1:
            ok()
        elif not where:
            fail(page, 1, f"requirement {label} has no row")
        else:
            fail(page, where[1], f"requirement {label} has {len(where)} rows (lines {where})")
    for label, where in rows.items():
        if label not in want:
            fail(page, where[0], f"{label} is not one of the labels this page declares")


COURSE_PARTS = ("**Goal.**", "**RFC.**", "**Code.**", "**Tests.**")


def check_course(page, lines):
    """<!-- check-docs: course -->: the page follows the course template (CONTRIBUTING.md,
    "Pages"): Goal, RFC, Code and Tests at the top, an Exercises section answered in
    docs/answers.md under the page's own heading."""
    text = "\n".join(lines)
    for part in COURSE_PARTS:
        if part in text:
            ok()
        else:
            fail(page, 1, f"course page without its {part} line (CONTRIBUTING.md, Pages)")
    if "\n## Exercises\n" not in text:
        fail(page, 1, "course page without a '## Exercises' section")
        return
    ex = text[text.index("\n## Exercises\n"):]
    m = re.search(r"\(answers\.md#([a-z0-9-]+)\)", ex)
    if not m:
        fail(page, 1, "the exercises do not link to their answers (answers.md#ANCHOR)")
        return
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-")
               for h in re.findall(r"^## (.+)$", read("docs/answers.md"), re.M)}
    if m.group(1) in anchors:
        ok()
    else:
        fail(page, 1, f"answers.md has no section for #{m.group(1)}")


def check_page(page):
    lines = read(page).split("\n")
    EXTERNAL.clear()
    for l in lines:
        for m in [MARK_RE.match(l.strip())] if l.strip().startswith("<!--") else []:
            if not m:
                continue
            words = m.group(1).split()
            if words and words[0] == "external":
                EXTERNAL.update(words[1:])
            if words and words[0] == "labels":
                check_labels(page, lines, words[1:])
            if words and words[0] == "course":
                check_course(page, lines)
    i = 0
    marker = None
    while i < len(lines):
        l = lines[i]
        mm = MARK_RE.match(l.strip()) if l.strip().startswith("<!--") else None
        if mm:
            if not mm.group(1).startswith("external"):
                marker = mm.group(1).split()
            i += 1
            continue
        fence = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", l)
        if fence:
            lang, start = fence.group(3), i + 1
            j = start
            while j < len(lines) and not lines[j].strip().startswith(fence.group(2)):
                j += 1
            block = "\n".join(lines[start:j])
            if marker and marker[0] == "states":
                check_states(page, start, block)
            if marker and marker[0] == "defines":
                check_defines(page, start, lines[start:j], marker[1:])
            if lang == "c":
                check_c_sample(page, start, block, marker)
            elif marker and marker[0] == "run":
                check_commands(page, start, block)
            if lang != "c":
                for k in range(start, j):
                    check_text(page, k + 1, lines[k], True)
            marker = None
            i = j + 1
            continue
        if marker and marker[0] == "members" and l.startswith("|"):
            check_members(page, i + 1, l, marker[1:])
            check_text(page, i + 1, l, False)
            i += 1
            continue
        if l.strip():
            marker = None  # a marker applies to the block right after it
        check_text(page, i + 1, l, False)
        PREV_LINE[0] = l
        i += 1


def check_tree_comments():
    """The tree's own files (code, scripts) cite only .md files that the repository has."""
    for f in CODE_FILES:
        for n, l in enumerate(read(f).splitlines(), 1):
            for m in BASENAME_RE.finditer(l):
                name = m.group(1)
                if name.endswith(".md"):
                    if name in BASENAMES:
                        ok()
                    else:
                        fail(f, n, f"{name}: cites a file that is not in the repository")


def check_gap_entries():
    """docs/tcp-gaps.md has a section for exactly the DRILL-N entries that
    tests/drill/expectations.txt still cites: a gap that got fixed leaves the page too."""
    page, exp = "docs/tcp-gaps.md", "tests/drill/expectations.txt"
    if not (os.path.exists(page) and os.path.exists(exp)):
        return
    cited = set(re.findall(r"\bDRILL-\d+\b", read(exp)))
    sections = {}
    for n, l in enumerate(read(page).splitlines(), 1):
        m = re.match(r"## (DRILL-\d+)\b", l)
        if m:
            sections[m.group(1)] = n
    for d in sorted(cited):
        if d in sections:
            ok()
        else:
            fail(page, 1, f"{d} is cited by {exp} but has no section here")
    for d, n in sorted(sections.items()):
        if d not in cited:
            fail(page, n, f"{d} is no longer cited by {exp}: the gap is closed, move it to the fixed list")


def main():
    pages = [a for a in sys.argv[1:] if not a.startswith("-")]
    if not pages:
        pages = [p for p in ("README.md", "CONTRIBUTING.md") if os.path.exists(p)]
        pages += sorted(f for f in FILES if f.startswith("docs/") and f.endswith(".md"))
        check_tree_comments()
        check_gap_entries()
    for p in pages:
        before = len(failures)
        check_page(p)
        if VERBOSE:
            print(f"{p}: {len(failures) - before} failures")
    check_sizes()
    for f in failures:
        print(f)
    print(f"check-docs: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

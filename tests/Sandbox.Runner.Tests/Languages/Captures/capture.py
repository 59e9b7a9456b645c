#!/usr/bin/python3
"""Captures what the real toolchains print for the cases in this folder and writes ../CapturedOutput.cs.

Run as root on a machine with the catalog's toolchains (Debian 12 here):

    python3 tests/Sandbox.Runner.Tests/Languages/Captures/capture.py

Each case (<language id>/<name>.<ext>) is written to the catalog's source file name and compiled and run
with the catalog's own commands (src/Sandbox.Runner/Languages/languages.yaml) the way the sandbox runs
them: in a private mount namespace where a fresh directory is /work (the cwd) and another is /tmp, the
root read-only, as uid 65534 with only PATH, HOME=/tmp and LANG=C.UTF-8, under a memory and pids cgroup
(v1) when one can be made. So tools print the paths the sandbox shows (main.c, /work/main.py, ./main.go).
Besides the cases, every language's `runtime` case is also run under another file name (other.<ext>, or
Other.java) to capture output that names a different file. It also checks that every language's `hello`
prints exactly "Hello, world!\\n" and that its starter runs.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../../.."))
CATALOG = os.path.join(ROOT, "src/Sandbox.Runner/Languages/languages.yaml")
OUTPUT = os.path.join(HERE, "..", "CapturedOutput.cs")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
COMPILE_MB, RUN_MB, PIDS = 512, 256, 64
CGROUPS = {c: f"/sys/fs/cgroup/{c}/sandbox-capture" for c in ("memory", "pids")}

SANDBOX = r'''
mount --bind "$WORK" /work && mount --bind "$TMP" /tmp && mount -o remount,bind,ro / || exit 99
cd /work && exec setpriv --reuid=65534 --regid=65534 --clear-groups \
  env -i PATH="$SANDBOX_PATH" HOME=/tmp LANG=C.UTF-8 "$@"
'''


def cgroups_ready():
    try:
        for path in CGROUPS.values():
            os.makedirs(path, exist_ok=True)
        return True
    except OSError:
        return False


def limit(memory_mb):
    memory = CGROUPS["memory"]
    size = str(memory_mb * 1024 * 1024)
    # memsw must stay >= the memory limit: write in the order that keeps it so.
    for name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.limit_in_bytes"):
        try:
            with open(os.path.join(memory, name), "w") as f:
                f.write(size)
        except OSError:
            pass
    with open(os.path.join(CGROUPS["pids"], "pids.max"), "w") as f:
        f.write(str(PIDS))


def enter_cgroups():
    for path in CGROUPS.values():
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


class Box:
    def __init__(self, use_cgroups):
        self.base = tempfile.mkdtemp(prefix="sandbox-capture-")
        self.use_cgroups = use_cgroups

    def fresh(self, file_name, text):
        for d in ("work", "tmp"):
            path = os.path.join(self.base, d)
            shutil.rmtree(path, ignore_errors=True)
            os.mkdir(path)
            os.chown(path, 65534, 65534)
        os.chmod(os.path.join(self.base, "tmp"), 0o1777)
        source = os.path.join(self.base, "work", file_name)
        with open(source, "w") as f:
            f.write(text)
        os.chown(source, 65534, 65534)

    def step(self, argv, memory_mb, source):
        argv = [a.replace("{source}", source).replace("{memoryMb}", str(memory_mb)) for a in argv]
        if self.use_cgroups:
            limit(memory_mb)
        env = {"WORK": os.path.join(self.base, "work"), "TMP": os.path.join(self.base, "tmp"),
               "SANDBOX_PATH": PATH, "PATH": PATH}
        result = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "/bin/bash", "-c", SANDBOX, "sandbox"] + argv,
            capture_output=True, text=True, timeout=120, env=env,
            preexec_fn=enter_cgroups if self.use_cgroups else None)
        return result.returncode, result.stdout, result.stderr

    def run(self, language, text, source_file=None, run_argv=None):
        source = source_file or language["sourceFile"]
        self.fresh(source, text)
        steps = {}
        if language.get("compile"):
            steps["compile"] = self.step(language["compile"], COMPILE_MB, source)
            if steps["compile"][0] != 0:
                return steps
        steps["run"] = self.step(run_argv or language["run"], RUN_MB, source)
        return steps

    def close(self):
        shutil.rmtree(self.base, ignore_errors=True)


def pascal(text):
    return "".join(part[:1].upper() + part[1:] for part in text.replace("-", "_").split("_"))


def literal(text):
    quotes = 3
    while '"' * quotes in text:
        quotes += 1
    fence = '"' * quotes
    body = text[:-1] if text.endswith("\n") else text
    lines = "\n".join(("        " + line) if line else "" for line in body.split("\n"))
    tail = ' + "\\n"' if text.endswith("\n") else ""
    return f"{fence}\n{lines}\n        {fence}{tail}"


def main():
    with open(CATALOG) as f:
        languages = yaml.safe_load(f)["languages"]
    box = Box(cgroups_ready())
    failures = []
    entries = []
    sources = []
    try:
        for language in languages:
            lid = language["id"]
            hello = box.run(language, language["hello"])
            if hello.get("run", (1, "", ""))[:2] != (0, "Hello, world!\n"):
                failures.append(f"{lid}: hello gave {hello}")
            starter = box.run(language, language["starter"])
            if starter.get("run", (1,))[0] != 0:
                failures.append(f"{lid}: starter gave {starter}")
            cases = sorted(glob.glob(os.path.join(HERE, lid, "*")))
            for path in cases:
                name = os.path.splitext(os.path.basename(path))[0]
                with open(path) as f:
                    text = f.read()
                entries.append((lid, name, box.run(language, text)))
                sources.append((lid, name, text))
                if name == "runtime":
                    ext = os.path.splitext(language["sourceFile"])[1]
                    other = "Other.java" if lid == "java" else "other" + ext
                    run_argv = ["Other" if a == "Main" else a for a in language["run"]]
                    entries.append((lid, "renamed", box.run(
                        language, text.replace("class Main", "class Other"), other, run_argv)))
            print(f"{lid}: {len(cases)} cases", file=sys.stderr)
    finally:
        box.close()
        for path in CGROUPS.values():
            try:
                os.rmdir(path)
            except OSError:
                pass

    out = ["// <auto-generated>",
           "// Written by Languages/Captures/capture.py from the real toolchains' output; do not edit by hand.",
           "// </auto-generated>",
           "",
           "#nullable enable",
           "",
           "namespace Sandbox.Runner.Tests.Languages;",
           "",
           "/// <summary>What the real compilers and runtimes printed for the cases in Languages/Captures.</summary>",
           "internal static class CapturedOutput",
           "{"]
    for lid, name, steps in entries:
        for step, (code, stdout, stderr) in steps.items():
            text = stderr if step == "run" else stdout + stderr
            if not text:
                continue
            source = f"{lid}/{name}" if name != "renamed" else f"{lid}/runtime under another file name"
            out.append(f"    /// <summary>{source}: {step} step, exit {code}.</summary>")
            out.append(f"    public const string {pascal(lid)}{pascal(name)}{pascal(step)} = {literal(text)};")
            out.append("")
    for lid, name, text in sources:
        out.append(f"    /// <summary>The source of the case {lid}/{name}.</summary>")
        out.append(f"    public const string {pascal(lid)}{pascal(name)}Source = {literal(text)};")
        out.append("")

    out.append("    /// <summary>Every case run under the catalog's own file name, with what each step printed (null: the step did not run).</summary>")
    out.append("    public static readonly CapturedCase[] Cases =")
    out.append("    [")
    for lid, name, steps in entries:
        if name == "renamed":
            continue
        compile = steps.get("compile")
        run = steps.get("run")
        prefix = f"{pascal(lid)}{pascal(name)}"
        def text_or_null(step, text):
            return f"{prefix}{step}" if text else '""'
        c_exit = str(compile[0]) if compile else "null"
        c_text = text_or_null("Compile", compile[1] + compile[2]) if compile else "null"
        r_exit = str(run[0]) if run else "null"
        r_text = text_or_null("Run", run[2]) if run else "null"
        out.append(f'        new("{lid}", "{name}", {prefix}Source, {c_exit}, {c_text}, {r_exit}, {r_text}),')
    out.append("    ];")
    out.append("}")
    out.append("")
    out.append("/// <summary>One captured case: the language, the case name, its source, and each step's exit code and output.</summary>")
    out.append("internal sealed record CapturedCase(string Language, string Name, string Source, int? CompileExit, string? CompileOutput, int? RunExit, string? RunStderr);")
    with open(OUTPUT, "w") as f:
        f.write("\n".join(out) + "\n")
    for failure in failures:
        print("FAIL " + failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

"""Every flag llama-server accepts is accepted by ours (issue 17).

The spellings come from ../shared/reference/llama-server-flags.txt (the reference build's
--help) and from data/llama_server_flags.json (llama.cpp's common/arg.cpp, extracted by
scripts/extract_llama_server_flags.py): how many values each takes, its environment
variable and its --help section. Each flag is passed with a sample value to
`mmojo-server --version ...`, which parses the whole command line and exits: it must not be
refused, it must consume exactly its values (the flag's value count is the oracle's, so a
wrong count leaves a stray argument or a missing value, both errors), and a flag we do not
act on must say so in one notice line naming it."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD

HERE = Path(__file__).resolve().parent
REFERENCE_LIST = HERE.parent.parent.parent / "shared" / "reference" / "llama-server-flags.txt"
ORACLE = json.loads((HERE / "data" / "llama_server_flags.json").read_text())["options"]
BINARY = BUILD / "mmojo-server"

# Added by other branches of issue 17's work (tools: reasoning; harden: TLS). Until they are
# merged these may be refused; once merged they are tested like every other flag.
OWNED_ELSEWHERE: set[str] = set()   # flags another part of the project owns (none left)


def oracle_by_spelling() -> dict[str, tuple[dict, bool]]:
    out = {}
    for opt in ORACLE:
        for n in opt["names"]:
            out[n] = (opt, False)
        for n in opt["negatives"]:
            out[n] = (opt, True)
    return out


BY_SPELLING = oracle_by_spelling()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("flags")
    (d / "prompt.txt").write_text("hello\n")
    (d / "template.jinja").write_text("{{ messages[0]['content'] }}")
    (d / "keys.txt").write_text("# keys\nsecret-1\n\nsecret-2\n")
    (d / "grammar.gbnf").write_text('root ::= "yes" | "no"\n')
    (d / "schema.json").write_text('{"type": "object", "properties": {"a": {"type": "integer"}}}')
    return {"prompt": str(d / "prompt.txt"), "template": str(d / "template.jinja"), "keys": str(d / "keys.txt"),
            "log": str(d / "log.txt"), "grammar": str(d / "grammar.gbnf"), "schema": str(d / "schema.json")}


def sample_values(spelling: str, opt: dict, files: dict[str, str]) -> list[str]:
    """Values of the right kind for the flag (a number works for every numeric option)."""
    names = set(opt["names"])
    if opt["values"] == 0:
        return []
    if opt["values"] == 2:
        return ["1", "2"]
    if names & {"-f", "--file"}:
        return [files["prompt"]]
    if "--chat-template-file" in names:
        return [files["template"]]
    if "--api-key-file" in names:
        return [files["keys"]]
    if "--log-file" in names:
        return [files["log"]]
    if names & {"-ctk", "-ctv"}:
        return ["f16"]
    if "--logit-bias" in names:
        return ["15043+1"]
    if "--load-mode" in names:
        return ["mmap"]
    if "--host" in names:
        return ["127.0.0.1"]
    if "--chat-template" in names:
        return ["chatml"]
    if "--chat-template-kwargs" in names:
        return ['{"enable_thinking": false}']
    if "--grammar" in names:
        return ['root ::= "yes" | "no"']
    if "--grammar-file" in names:
        return [files["grammar"]]
    if "--json-schema" in names:
        return ['{"type": "object"}']
    if "--json-schema-file" in names:
        return [files["schema"]]
    if "--reasoning-format" in names:
        return ["deepseek"]
    return ["1"]


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_ARG_")}
    full_env.update(env or {})
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=30, env=full_env)


def test_oracle_covers_the_reference_list():
    listed = REFERENCE_LIST.read_text().split()
    assert len(listed) == 331
    assert sorted(set(listed) - set(BY_SPELLING)) == []


def test_every_llama_server_flag_is_accepted(files):
    spellings = sorted(set(REFERENCE_LIST.read_text().split()) | set(BY_SPELLING))
    refused, skipped = [], []
    for spelling in spellings:
        opt, negative = BY_SPELLING[spelling]
        values = [] if negative else sample_values(spelling, opt, files)
        r = run(["--version", spelling, *values])
        if r.returncode != 0 or "mmojo-server" not in r.stdout:
            if spelling in OWNED_ELSEWHERE:
                skipped.append(spelling)
                continue
            refused.append(f"{spelling} {' '.join(values)}: rc {r.returncode}: {r.stderr.strip()[:200]}")
            continue
        # A flag we do not act on leaves exactly one notice, naming the flag as written.
        notices = [line for line in r.stderr.splitlines() if line.startswith("notice:")]
        assert len(notices) <= 1, (spelling, notices)
        if notices:
            assert notices[0].startswith(f"notice: {spelling} ") and "ignored: " in notices[0], notices[0]
    assert refused == [], "\n".join(refused)
    assert len(spellings) - len(skipped) >= 331 - len(OWNED_ELSEWHERE)


def test_every_environment_variable_is_read(files):
    """Each LLAMA_ARG_* variable of llama-server is accepted with a sample value, the
    variable named in our --help; for on/off pairs the LLAMA_ARG_NO_ form too."""
    help_text = run(["--help"]).stdout
    refused = []
    for opt in ORACLE:
        env = opt["env"]
        if not env or set(opt["names"]) & OWNED_ELSEWHERE:
            continue
        assert f"(env: {env})" in help_text, env
        value = "1" if opt["values"] == 0 else sample_values(opt["names"][0], opt, files)[0]
        tries = [{env: value}]
        if opt["negatives"] and env.startswith("LLAMA_ARG_"):
            tries.append({env.replace("LLAMA_ARG_", "LLAMA_ARG_NO_", 1): "1"})
        for e in tries:
            r = run(["--version"], env=e)
            if r.returncode != 0:
                refused.append(f"{e}: {r.stderr.strip()[:200]}")
    assert refused == [], "\n".join(refused)


def help_sections(text: str) -> dict[str, str]:
    """Spelling -> the --help section it is listed in."""
    section, out = None, {}
    for line in text.splitlines():
        m = re.match(r"----- (\w+) -----", line)
        if m:
            section = m.group(1)
            continue
        if line.startswith("-") and section:
            head = re.split(r"\s{2,}", line)[0]
            for part in head.split(", "):
                out[part.split(" ")[0]] = section
    return out


def test_help_groups_flags_as_llama_server_does():
    sections = help_sections(run(["--help"]).stdout)
    wrong = []
    for spelling, (opt, _) in BY_SPELLING.items():
        if spelling in OWNED_ELSEWHERE and spelling not in sections:
            continue
        assert spelling in sections, f"{spelling} missing from --help"
        if sections[spelling] != opt["section"]:
            wrong.append(f"{spelling}: ours {sections[spelling]}, llama-server {opt['section']}")
    assert wrong == [], "\n".join(wrong)


def test_ignored_flag_notice_and_implemented_flags_are_silent():
    r = run(["--version", "-ngl", "99", "--spec-draft-model", "d.gguf", "-t", "2", "-tb", "3", "-ub", "64",
             "--keep", "5", "--threads-http", "4", "--ignore-eos", "-l", "2-inf", "--temperature", "0.7"])
    assert r.returncode == 0, r.stderr
    notices = [line for line in r.stderr.splitlines() if line.startswith("notice:")]
    assert len(notices) == 2, r.stderr
    assert "-ngl" in notices[0] and "CPU only" in notices[0]
    assert "--spec-draft-model" in notices[1] and "speculative decoding" in notices[1]


def test_unknown_flags_are_still_refused():
    r = run(["--version", "--no-such-flag"])
    assert r.returncode != 0 and "unknown argument '--no-such-flag'" in r.stderr


# ---- implemented flags, end to end in CLI mode on stories260K -------------------------

def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    from server_helpers import STORIES
    return run(["--cli", "-m", str(STORIES), "-p", "Once upon a time", "--temp", "0", *args], env=env)


def generated_count(stderr: str) -> int:
    m = re.search(r"generation: (\d+) tokens", stderr)
    assert m, stderr
    return int(m.group(1))


def test_threads_batch_and_ubatch_leave_greedy_output_unchanged():
    base = cli("-n", "24")
    assert base.returncode == 0, base.stderr
    split = cli("-n", "24", "-t", "1", "-tb", "2", "-ub", "3")
    assert split.returncode == 0, split.stderr
    assert split.stdout == base.stdout and len(base.stdout) > 0
    assert "pass 3" in split.stderr   # the forward-pass size the context reports


def test_ignore_eos_bans_end_of_generation():
    # A +100 bias on stories260K's EOS (id 2) ends generation at once; --ignore-eos gives
    # EOS a -inf bias as llama.cpp does, so the text is the unbiased greedy one (which
    # does not reach EOS within 40 tokens).
    plain = cli("-n", "40")
    assert plain.returncode == 0 and generated_count(plain.stderr) == 40, plain.stderr
    forced_eos = cli("-n", "40", "-l", "2+100")
    assert "stopped: end of generation" in forced_eos.stderr and generated_count(forced_eos.stderr) == 0
    ignored = cli("-n", "40", "-l", "2+100", "--ignore-eos")
    assert ignored.returncode == 0 and generated_count(ignored.stderr) == 40, ignored.stderr
    assert ignored.stdout == plain.stdout


def test_log_file_and_log_disable(tmp_path):
    log = tmp_path / "mmojo.log"
    r = cli("-n", "4", "--log-file", str(log))
    assert r.returncode == 0 and r.stdout
    assert "model:" not in r.stderr and "model:" in log.read_text()
    quiet = cli("-n", "4", "--log-disable")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == r.stdout


def test_mlock_locks_or_warns():
    r = cli("-n", "4", "--mlock")
    assert r.returncode == 0, r.stderr
    # Either the lock succeeded (no warning) or the warning says why (e.g. ulimit -l).
    warnings = [line for line in r.stderr.splitlines() if "--mlock" in line]
    assert all("warning: --mlock: mlockall failed" in w for w in warnings), warnings

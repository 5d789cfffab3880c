"""The `statmech` command line, run as subprocesses: commands, user errors, kill/resume, dask."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import numpy as np
import pytest

from statmech.archive import open_archive
from statmech.runs.staging import staged_records
from statmech.scan import load_scan, run_scan

from _archives import archive_contents, assert_runs_equal, compact_data_offset
from _toy import cli, toy_env

#: An archive of schema 1 (runs without checksums), written by earlier statmech.
SCHEMA_1_ARCHIVE = Path(__file__).resolve().parent / "archives" / "schema1.h5"


pytestmark = pytest.mark.usefixtures("toy_registry")  # conftest.py


def _ok(proc, code=0):
    assert (
        proc.returncode == code
    ), f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _write_scan(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


# -- commands ---------------------------------------------------------------------------------------------------


def test_version_and_help_with_examples(capsys):
    import statmech
    from statmech.cli import main

    proc = _ok(cli("--version"))
    assert proc.stdout.strip() == f"statmech {statmech.__version__}"
    # argparse help is the same in-process; one subprocess above checks the real entry
    for command in ["experiments", "run", "scan", "ls", "show", "plot", "demo"]:
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        text = capsys.readouterr().out
        assert "example:" in text and f"statmech {command}" in text, command
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_experiments_lists_every_entry_point_and_flags_unavailable_ones():
    proc = _ok(cli("experiments"))
    for name in ("rem", "curie-weiss", "speciation", "hopfield-capacity", "retrieval", "toy"):
        assert name in proc.stdout
    assert "n (int, default 16): number of draws" in proc.stdout
    listed = {
        line.split()[0].rstrip(":")
        for line in proc.stdout.splitlines()
        if line and not line.startswith(" ")
    }
    for name in ("speciation", "bridge"):
        assert name in listed
    proc = _ok(cli("experiments", "toy"))
    assert "from _toy:toy" in proc.stdout and "has a plot" in proc.stdout


def test_run_archive_recognise_show_ls_and_plot(tmp_path, capsys):
    from statmech.cli import main

    out = tmp_path / "runs.h5"
    proc = _ok(
        cli(
            "run",
            "toy",
            "-p",
            "n=5",
            "-p",
            "label=c",
            "--seed",
            "4",
            "-o",
            out,
            "--plot",
            tmp_path / "a.png",
        )
    )
    assert "archived as run" in proc.stdout and (tmp_path / "a.png").stat().st_size > 1000
    run_id = proc.stdout.split("archived as run ")[1].split()[0]
    again = _ok(
        cli(
            "run",
            "toy",
            "-p",
            "label=c",
            "-p",
            "n=5",
            "--seed",
            "4",
            "-o",
            out,
            "--plot",
            tmp_path / "b.png",
        )
    )
    assert "already in" in again.stderr and "not recomputed" in again.stderr
    assert (tmp_path / "b.png").exists()  # plotted from the archived result
    # the rest in-process (same code path, without a subprocess' start-up cost)
    assert main(["run", "toy", "-p", "n=6", "-o", str(out)]) == 0
    with open_archive(out) as arc:
        assert len(arc) == 2
        np.testing.assert_array_equal(
            arc.load(run_id).arrays["x"][1], np.random.default_rng(4).standard_normal(5)
        )
    capsys.readouterr()
    assert main(["ls", str(out), "--where", "n=5"]) == 0
    ls = capsys.readouterr().out
    assert run_id in ls and "1 of 2 runs" in ls
    assert main(["ls", str(out), "--json"]) == 0
    assert {r["run_id"] for r in __import__("json").loads(capsys.readouterr().out)} >= {run_id}
    assert main(["show", str(out), run_id[:8]]) == 0
    show = capsys.readouterr().out
    for text in (
        "experiment  toy",
        "label = c",
        "y(k=3, sample=5) float64",
        "hdf5_version",
        "seed        4",
    ):
        assert text in show
    assert main(["plot", str(out), run_id, "-o", str(tmp_path / "c.png")]) == 0
    assert main(["plot", str(out), "--experiment", "toy", "-o", str(tmp_path / "d.png")]) == 0
    assert (tmp_path / "c.png").exists() and (tmp_path / "d.png").exists()


def _mistakes(tmp_path):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    empty = _write_scan(tmp_path / "empty.toml", 'experiment = "toy"\n[grid]\nn = []\n')
    bad = _write_scan(tmp_path / "bad.toml", 'experiment = "toy"\n[grid]\nscale = [1.0, "x"]\n')
    ghost = "speciation" if not _importable("diffusion.experiments") else "nope2"
    one = _write_scan(tmp_path / "one.toml", 'experiment = "toy"\n[grid]\nn = [1]\n')
    huge = _write_scan(tmp_path / "huge.toml", 'experiment = "toy"\n[grid]\nn = [3, 1000000000000000]\n')
    return foreign, [
        (("run", "nope"), "unknown experiment 'nope'"),
        (("run", "toy", "-p", "m=1"), "has no parameter 'm'"),
        (("run", "toy", "-p", "n=1.5"), "parameter 'n' expects int"),
        (("run", "toy", "-p", "n"), "-p expects key=value"),
        (("run", "toy", "-p", "n=0"), "rejected its input: ValueError: n must be >= 1"),
        (("run", ghost), "cannot be loaded" if ghost == "speciation" else "unknown experiment"),
        (("ls", tmp_path / "missing.h5"), "no such file"),
        (("ls", text), "not an HDF5 file"),
        (("ls", foreign), "not a statmech archive"),
        (("run", "toy", "-o", foreign), "not a statmech archive"),
        (("show", foreign, "abc"), "not a statmech archive"),
        (("scan", tmp_path / "missing.toml"), "no such scan file"),
        (
            ("scan", empty, "-o", tmp_path / "e.h5"),
            "empty.toml:3: [grid] n: gives no values: the scan has zero points",
        ),
        (
            ("scan", bad, "-o", tmp_path / "b.h5"),
            "bad.toml:3: [grid] scale: item 1: parameter 'scale' expects float",
        ),
        (("run", "toy", "-o", tmp_path / "no" / "dir.h5"), "does not exist"),
        (("plot", foreign, "-o", tmp_path / "f.png"), "give either a RUN_ID or --experiment"),
        # checked before anything is computed (issue 9, item 6)
        (("run", "toy", "-o", tmp_path / "never.h5", "--plot", tmp_path / "fig.xyz"),
         "format 'xyz' is not supported; use one of"),
        (("run", "toy", "--plot", tmp_path / "fig"), "needs an extension giving its format"),
        (("run", "toy", "--plot", tmp_path / "no" / "fig.png"), "does not exist"),
        (("scan", one, "-o", tmp_path / "s.h5", "--plot", tmp_path / "f.xyz"), "format 'xyz' is not supported"),
        (("run", "toy", "-p", "n=1000000000000000"),
         "experiment 'toy' would need 35.5 PiB (4e+16 bytes), more than the"),
        (("scan", huge, "-o", tmp_path / "h.h5"),
         "huge.toml: point n=1000000000000000: experiment 'toy' would need 35.5 PiB"),
    ]


def _check_error(args, fragment, code, stderr):
    assert code == 1, (args, code, stderr)
    assert "Traceback" not in stderr, (args, stderr)
    assert stderr.startswith("statmech: error: "), (args, stderr)
    assert fragment in stderr, (args, stderr)


def test_user_mistakes_in_subprocesses(tmp_path):
    foreign, cases = _mistakes(tmp_path)
    chosen = [
        cases[i] for i in (0, 2, 8, 12)
    ]  # unknown name, wrong type, foreign file, zero points
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda c: cli(*c[0]), chosen))
    for (args, fragment), proc in zip(chosen, procs):
        _check_error(args, fragment, proc.returncode, proc.stderr)
    usage = cli("run", "toy", "--seed", "-3")
    assert usage.returncode == 2 and "seed must be" in usage.stderr


def test_user_mistakes_give_one_line_errors_without_traceback(tmp_path, capsys):
    from statmech.cli import main

    foreign, cases = _mistakes(tmp_path)
    for args, fragment in cases:
        code = main([str(a) for a in args])
        _check_error(args, fragment, code, capsys.readouterr().err)
    assert not foreign.with_name("foreign.h5.staging").exists()
    assert not foreign.with_name("foreign.h5.lock").exists()
    assert not any((tmp_path / name).exists() for name in ("never.h5", "h.h5", "s.h5"))  # refused before starting


def test_bad_arguments_are_refused_before_any_computation(tmp_path, capsys, monkeypatch):
    from statmech.runs import scanner
    from statmech.runs.cli import main

    out = tmp_path / "runs.h5"
    assert main(["run", "toy", "-p", "n=4", "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["ls", str(out), "--where", "Q=3"]) == 1  # was "0 of 1 runs" and exit 0
    err = capsys.readouterr().err
    assert "no run has parameter 'Q'; known keys: delay, fail, label, marker, n, scale, steps, run_id" in err, err
    assert main(["plot", str(out), "--experiment", "toy", "--where", "Q=3", "-o", str(tmp_path / "p.png")]) == 1
    assert "no run has parameter 'Q'" in capsys.readouterr().err
    for bad in ("-5", "nan", "inf", "soon"):
        with pytest.raises(SystemExit) as info:
            main(["scan", "x.toml", "--publish-interval", bad])
        assert info.value.code == 2
        assert "--publish-interval: must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scan", "x.toml", "--jobs", "0"])
    assert "--jobs/-j: must be an integer >= 1" in capsys.readouterr().err

    # a long estimate is printed before the run starts (here the run is then interrupted at once)
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(scanner, "run_point", interrupted)
    assert main(["run", "toy", "-p", "n=300000000"]) == 130
    err = capsys.readouterr().err
    assert err.index("toy: estimated peak memory") < err.index("interrupted") and "time ~30 s" in err, err
    assert main(["run", "rem", "-p", "M=40", "-p", "samples=100000"]) == 130  # days of work, said first
    err = capsys.readouterr().err
    assert "rem: estimated" in err and " years (2^M x samples = 2^40 x 100000 levels" in err, err


def test_an_unwritable_folder_is_refused_before_computing(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        proc = cli("run", "toy", "-p", "delay=30", "--plot", folder / "fig.png")
        folder.chmod(0o755)
    elif _can_mount_tmpfs():  # root writes anywhere: mount a read-only file system there
        py = sys.executable
        proc = subprocess.run(
            ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o ro,size=64k tmpfs {folder} && "
             f"{py} -m statmech.cli run toy -p delay=30 --plot {folder}/fig.png"],
            capture_output=True, text=True, env=toy_env(), timeout=120)
    else:
        pytest.skip("needs a non-root user or root with unshare to make a read-only folder")
    assert proc.returncode == 1 and "does not take new files" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_memory_issue_9_examples_are_refused_at_once():
    pytest.importorskip("diffusion.experiments")
    from statmech.runs.cli import main

    start = time.monotonic()
    for args, fragment in (
        (["run", "collapse", "-p", "n_data=1000000000", "-p", "dims=100000", "-p", "n_finite=0"],
         "the memory is the n_data x max(dims) = 1000000000 x 100000 data set"),
        (["run", "speciation", "-p", "n_pairs=1000000000000"], "2 n_pairs x max(dims) = 2000000000000 x 1024"),
    ):
        proc = cli(*args)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "would need" in proc.stderr and fragment in proc.stderr, proc.stderr
    assert time.monotonic() - start < 60  # refused before allocating (it took minutes and 15 GB before)
    assert main is not None


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def test_show_and_plot_unknown_run(tmp_path, capsys):
    from statmech.cli import main

    out = tmp_path / "runs.h5"
    assert main(["run", "toy", "-o", str(out)]) == 0
    for args in (["show", str(out), "ffff"], ["plot", str(out), "ffff", "-o", str(tmp_path / "x.png")]):
        assert main(args) == 1
        err = capsys.readouterr().err
        assert "no run 'ffff'" in err and "Traceback" not in err


def test_check_and_verify_find_damaged_runs_and_show_names_them(tmp_path, capsys):
    from statmech.runs.cli import main

    out = tmp_path / "runs.h5"
    for n in (3, 4, 5):
        assert main(["run", "toy", "-p", f"n={n}", "-o", str(out)]) == 0
    assert main(["check", str(out)]) == 0
    assert "all 3 runs sound (schema 6)" in capsys.readouterr().out
    with open_archive(out) as arc:
        victim = arc.runs(n=4)[0].run_id
        offset = compact_data_offset(out, arc.file["runs"][victim]["x"])  # the run's own draws
    with open(out, "r+b") as handle:  # overwrite the values of one of its datasets (in its object header)
        handle.seek(offset)
        handle.write(b"\xff" * 8)
    assert main(["check", str(out)]) == 1
    text = capsys.readouterr().out
    assert f"{victim}  damaged: its datasets cannot be read" in text and "incorrect metadata checksum" in text
    assert "1 of 3 runs damaged" in text
    assert main(["ls", str(out)]) == 0  # attributes intact: listed as complete
    capsys.readouterr()
    assert main(["ls", str(out), "--verify"]) == 1
    text = capsys.readouterr().out
    assert f"{victim}*" in text and "1 damaged (*)" in text
    assert main(["show", str(out), victim]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"statmech: error: run {victim} in {out} is damaged") and "Traceback" not in err
    assert main(["plot", str(out), victim, "-o", str(tmp_path / "v.png")]) == 1
    assert "is damaged" in capsys.readouterr().err
    assert main(["check", str(SCHEMA_1_ARCHIVE)]) == 0  # schema 1: no checksums, read completely
    assert "8 runs of schema 1 carry no checksums" in capsys.readouterr().out


def test_runs_and_scans_speak_in_logs(tmp_path):
    # not a terminal: plain progress lines on stderr, spaced, then the results on stdout
    proc = _ok(cli("run", "toy", "-p", "delay=3.0", "-p", "steps=6"))
    lines = [line for line in proc.stderr.splitlines() if line.startswith("statmech: ")]
    assert lines and all(" run" in line and "elapsed, ETA" in line for line in lines), proc.stderr
    assert any("0/1 run, " not in line for line in lines)
    assert proc.stdout.startswith("run ") and "mean = " in proc.stdout
    scan_file = _write_scan(tmp_path / "s.toml", """
        experiment = "toy"
        [fixed]
        delay = 1.2
        steps = 3
        [grid]
        n = [1, 2, 3, 4]
        """)
    proc = _ok(cli("scan", scan_file, "-o", tmp_path / "s.h5", "--jobs", "2"))
    lines = [line for line in proc.stderr.splitlines() if line.startswith("statmech: ") and "points" in line]
    assert lines, proc.stderr  # at least one progress line in ~5 s
    assert lines[-1].startswith("statmech: 4/4 points"), lines


# -- scans: kill, interrupt, resume ------------------------------------------------------------------------------------

# 16 runs of ~0.13 MB each: publishing (which rewrites the archive) is a sizeable
# share of the wall time, so random kills land in it as well as in computing/staging.
KILL_SCAN = """
experiment = "toy"
seed = 5
[fixed]
n = 4000
delay = 0.03
[grid]
scale = { start = 0.5, stop = 3.0, num = 16 }
"""
N_KILL_POINTS = 16


def _check_consistent(path: Path, reference: dict) -> int:
    """The archive (if any) opens, holds only complete runs equal to the reference; staged files too."""
    n = 0
    if path.exists():
        got = archive_contents(path)
        assert all(v[3] == "complete" for v in got.values())
        assert_runs_equal(got, reference)
        with h5py.File(path, "r") as f:  # and plain h5py agrees
            assert set(f["runs"]) == set(got)
        n = len(got)
    for _, run_id, record in staged_records(path.with_name(path.name + ".staging")):  # logged, not yet published
        res = record.result
        arrays = {k: v[1] for k, v in res.arrays.items()}
        got = (record.params, record.seed, record.spawn_key, record.status, arrays, dict(res.scalars))
        assert_runs_equal({run_id: got}, reference)
    return n


def _finished(path: Path) -> set:
    """Run ids a killed scan finished: published, or logged in the staging folder."""
    done = set(archive_contents(path)) if path.exists() else set()
    return done | {rid for _, rid, _ in staged_records(path.with_name(path.name + ".staging"), decode=False)}


def _resume_command(scan_file, path, jobs):
    """``statmech scan SCAN -o PATH --jobs N --resume`` as a subprocess argument list."""
    return [sys.executable, "-m", "statmech.cli", "scan", scan_file, "-o", path, "--jobs", str(jobs), "--resume"]


def _kill_and_resume(tmp_path, kills: int, jobs: int, seed: int):
    scan_file = _write_scan(tmp_path / "kill.toml", KILL_SCAN)
    reference_path = tmp_path / "reference.h5"
    run_scan(load_scan(scan_file), reference_path, jobs=1)
    reference = archive_contents(reference_path)
    assert len(reference) == N_KILL_POINTS

    path = tmp_path / "runs.h5"
    rng = random.Random(seed)
    env = toy_env()
    for k in range(kills):
        proc = subprocess.Popen(
            _resume_command(scan_file, path, jobs),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.2, 1.6))
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, at a random moment
        proc.communicate()
        _check_consistent(path, reference)

    # finish; meanwhile a reader keeps opening the archive being written
    finished_before = len(_finished(path))
    proc = subprocess.Popen(
        _resume_command(scan_file, path, jobs),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    snapshots = 0
    while proc.poll() is None:
        if path.exists():
            with open_archive(path) as arc:
                assert all(info.status == "complete" for info in arc.runs())
            snapshots += 1
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0 and "Traceback" not in err, err
    computed = int(out.split(" computed")[0].rsplit(" ", 1)[1])
    assert computed == N_KILL_POINTS - finished_before  # nothing finished was computed again
    final = archive_contents(path)
    assert final.keys() == reference.keys()
    assert_runs_equal(final, reference)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith((".runs.h5", "runs.h5."))]
    assert leftovers == [], leftovers
    return snapshots


def test_sigkill_at_random_moments_then_resume(tmp_path):
    _kill_and_resume(tmp_path, kills=3, jobs=1, seed=1)


@pytest.mark.slow
def test_sigkill_many_times_with_a_pool_then_resume(tmp_path):
    _kill_and_resume(tmp_path, kills=8, jobs=2, seed=2)


def _session_processes(session: int) -> list:
    """``(pid, state, command)`` of live processes in ``session`` (zombies excluded)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == session and fields[0] != "Z":
            out.append((int(entry), fields[0], command.strip()))
    return out


def _kill_only_the_scan_mid_point(tmp_path, *extra):
    """SIGKILL the scan's own process (as the OOM killer does) while its workers compute a point;
    5 s later no process of its session may be alive: no worker, no resource tracker, no dask worker."""
    marker = tmp_path / "started"
    scan_file = _write_scan(tmp_path / "long.toml", f"""
        experiment = "toy"
        [fixed]
        delay = 5.0
        marker = "{marker}"
        [grid]
        n = [1, 2, 3, 4, 5, 6]
        """)
    proc = subprocess.Popen(
        [sys.executable, "-m", "statmech.cli", "scan", scan_file, "-o", tmp_path / "k.h5", "--jobs", "2", *extra],
        env=toy_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("started.*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        started = list(tmp_path.glob("started.*"))
        assert started, "no point started within 120 s"
        time.sleep(0.5)
        before = _session_processes(proc.pid)
        workers = {int(p.suffix.lstrip(".")) for p in started}
        assert workers <= {pid for pid, _, _ in before} and len(before) >= 3, before
        os.kill(proc.pid, signal.SIGKILL)  # only the scan, not its process group
        proc.wait()
        time.sleep(5.0)
        left = _session_processes(proc.pid)
        assert left == [], f"outlived their scan: {left}"
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_no_worker_outlives_a_scan_killed_mid_point(tmp_path):
    _kill_only_the_scan_mid_point(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(4))
def test_no_worker_outlives_a_scan_killed_mid_point_repeatedly(tmp_path, trial):
    _kill_only_the_scan_mid_point(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
def test_no_local_dask_process_outlives_a_scan_killed_mid_point(tmp_path, trial):
    pytest.importorskip("distributed")
    _kill_only_the_scan_mid_point(tmp_path, "--scheduler", "local")


def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path):
    scan_file = _write_scan(
        tmp_path / "slow.toml",
        """
        experiment = "toy"
        [fixed]
        delay = 0.25
        [grid]
        n = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        """,
    )
    path = tmp_path / "runs.h5"
    proc = subprocess.Popen(
        [sys.executable, "-m", "statmech.cli", "scan", scan_file, "-o", path, "--jobs", "2"],
        env=toy_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "interrupted" in err and "--resume" in err
    with open_archive(path) as arc:
        kept = len(arc)
        assert 1 <= kept < 10 and all(i.status == "complete" for i in arc.runs())
    assert not path.with_name("runs.h5.lock").exists()
    done = _ok(cli("scan", scan_file, "-o", path, "--jobs", "1", "--resume"))
    assert f"{10 - kept} computed" in done.stdout and f"{kept} already archived" in done.stdout


def test_scan_prints_summary_and_failures(tmp_path, capsys):
    from statmech.cli import main

    scan_file = _write_scan(tmp_path / "f.toml", 'experiment = "toy"\n[grid]\nfail = [false, true]\n')
    proc = cli("scan", scan_file, "-o", tmp_path / "f.h5", "--jobs", "1")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "1 failed" in proc.stdout and "asked to fail" in proc.stderr
    assert main(["ls", str(tmp_path / "f.h5"), "--status", "failed"]) == 0
    ls = capsys.readouterr().out
    assert "failed" in ls and "1 of 2 runs" in ls
    assert main(["scan", str(scan_file), "--dry-run"]) == 0
    assert "2 runs" in capsys.readouterr().out


# -- disk full -----------------------------------------------------------------------------------------------------------


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not _can_mount_tmpfs(), reason="needs root and unshare to mount a private tiny tmpfs"
)
def test_full_disk_is_a_clear_error_and_keeps_the_archive_readable(tmp_path):
    scan_file = _write_scan(
        tmp_path / "big.toml",
        """
        experiment = "toy"
        [fixed]
        n = 3000
        [grid]
        scale = { start = 1.0, stop = 2.0, num = 12 }
        """,
    )
    mount = tmp_path / "tiny"
    mount.mkdir()
    py = sys.executable
    script = (
        f"mount -t tmpfs -o size=400k tmpfs {mount} && cd {mount} && "
        f"{py} -m statmech.cli scan {scan_file} -o runs.h5 --jobs 1; echo EXIT=$?; "
        f"{py} -m statmech.cli ls runs.h5; echo LS=$?"
    )
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=toy_env(),
        timeout=120,
    )
    assert "EXIT=1" in proc.stdout, (proc.stdout, proc.stderr)
    assert "disk full" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert (
        "LS=0" in proc.stdout and " of " in proc.stdout
    )  # the archive still opens and lists its runs
    kept = int(proc.stdout.split(" of ")[0].rsplit("\n", 1)[-1])
    assert 1 <= kept < 12


# -- dask --------------------------------------------------------------------------------------------------------------------


def _dask_cluster(tmp_path, n_workers=2):
    pytest.importorskip("distributed")
    sched_file = tmp_path / "scheduler.json"
    env = toy_env(NUMBA_NUM_THREADS="1")
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            sched_file,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not sched_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            "--scheduler-file",
            sched_file,
            "--nworkers",
            str(n_workers),
            "--nthreads",
            "1",
            "--no-dashboard",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return sched_file, (scheduler, workers)


def _stop(procs):
    for p in procs:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.mark.slow  # starting a scheduler and two workers costs ~10-20 s on 2 busy cores
def test_dask_cluster_gives_the_same_archive_as_the_embedded_pool(tmp_path):
    sched_file, procs = _dask_cluster(tmp_path)
    try:
        scan_file = _write_scan(
            tmp_path / "d.toml",
            """
            experiment = "toy"
            seed = 3
            repetitions = 2
            [grid]
            n = [4, 9, 16]
            scale = [0.5, 1.5]
            """,
        )
        threads_file = _write_scan(
            tmp_path / "t.toml", 'experiment = "toy-threads"\n[grid]\ni = [0, 1, 2]\n'
        )
        proc = _ok(cli("scan", scan_file, "-o", tmp_path / "dask.h5", "--scheduler", sched_file))
        assert "12 computed with dask scheduler" in proc.stdout
        _ok(cli("scan", threads_file, "-o", tmp_path / "t.h5", "--scheduler", sched_file))
    finally:
        _stop(procs)
    run_scan(load_scan(scan_file), tmp_path / "pool.h5", jobs=2)
    dask_runs, pool_runs = archive_contents(tmp_path / "dask.h5"), archive_contents(tmp_path / "pool.h5")
    assert dask_runs.keys() == pool_runs.keys()
    assert_runs_equal(dask_runs, pool_runs)
    with open_archive(tmp_path / "t.h5") as arc:
        assert {info.scalars["numba_threads"] for info in arc.runs()} == {1}


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    scan_file = _write_scan(tmp_path / "d.toml", 'experiment = "toy"\n[grid]\nn = [1, 2]\n')
    env = toy_env(
        DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s"
    )  # dask's own setting; default 30 s
    proc = cli(
        "scan", scan_file, "-o", tmp_path / "x.h5", "--scheduler", "tcp://127.0.0.1:9", env=env
    )
    assert proc.returncode == 1 and "cannot reach the dask scheduler" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_local_dask_cluster_option(tmp_path):
    pytest.importorskip("distributed")
    scan_file = _write_scan(
        tmp_path / "d.toml", 'experiment = "toy"\nseed = 2\n[grid]\nn = [3, 5, 7, 9]\n'
    )
    proc = cli("scan", scan_file, "-o", tmp_path / "dask.h5", "--scheduler", "local", "--jobs", "2")
    # (dask may log its own shutdown tracebacks under load; only our exit status is checked)
    assert proc.returncode == 0 and "statmech: error" not in proc.stderr, proc.stderr
    run_scan(load_scan(scan_file), tmp_path / "one.h5", jobs=1)
    assert_runs_equal(archive_contents(tmp_path / "dask.h5"), archive_contents(tmp_path / "one.h5"))


def test_figures_carry_the_run_id_in_the_footer_not_the_title(tmp_path, monkeypatch):
    """``run --plot``, ``scan --plot`` and ``plot RUN_ID`` draw through figures.render/save."""
    from statmech import figures
    from statmech.cli import main

    saved = []
    monkeypatch.setattr(figures, "save", lambda fig, path, **kw: saved.append((fig, Path(path))))

    def footer(fig):
        return [t.get_text() for t in fig.texts if t.get_gid() == "footer"]

    out = tmp_path / "runs.h5"
    assert main(["run", "toy", "-p", "n=5", "-o", str(out), "--plot", str(tmp_path / "a.png")]) == 0
    with open_archive(out) as arc:
        run_id = arc.run_ids[0]
    assert main(["plot", str(out), run_id[:8], "-o", str(tmp_path / "b.png")]) == 0
    scan = _write_scan(tmp_path / "s.toml", 'experiment = "toy"\nseed = 3\n[grid]\nn = [4, 6]\n')
    assert main(["scan", str(scan), "-o", str(tmp_path / "s.h5"), "--jobs", "1", "--quiet",
                 "--plot", str(tmp_path / "c.png")]) == 0
    assert [p.name for _, p in saved] == ["a.png", "b.png", "c-0.png", "c-1.png"]
    for fig, path in saved:
        (text,) = footer(fig)
        assert text.startswith("toy run ") and len(text.split()[2]) == 16, text
        assert text.split()[2] not in (fig.get_suptitle() or "")
    assert footer(saved[0][0]) == [f"toy run {run_id}  runs.h5"] == footer(saved[1][0])
    assert footer(saved[2][0])[0].endswith("s.h5  n=4")

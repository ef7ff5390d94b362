"""`layergraph bench`: options reach the right benchmark scripts (nothing is timed here)."""
import pytest

from layergraph import bench


def _forwarded(argv, name):
    return bench._forwarded(bench._parser().parse_args(argv), name)


def test_options_forwarded_per_benchmark():
    argv = ["train", "--threads", "1", "--clock", "cpu", "--profile", "--dry-run"]
    assert _forwarded(argv, "train") == ["--threads", "1", "--clock", "cpu", "--profile"]
    assert _forwarded(argv, "conv") == ["--threads", "1", "--clock", "cpu"]
    assert _forwarded(argv, "gpu") == ["--threads", "1", "--dry-run"]


def test_every_benchmark_script_exists():
    for script in bench.BENCHMARKS.values():
        assert (bench.BENCHMARK_FOLDER / script).is_file(), script


def test_unknown_benchmark_is_refused(capsys):
    with pytest.raises(SystemExit):
        bench.main(["nonsense"])
    assert "unknown benchmark 'nonsense'" in capsys.readouterr().err

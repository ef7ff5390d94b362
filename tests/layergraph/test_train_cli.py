"""Command line: summary of built and saved networks, demo smoke run, unknown commands."""
from layergraph import cli, demo, resnet3dLayers, saveNetwork


def test_summary_default_and_resnet101(capsys):
    assert cli.main(["summary"]) == 0
    assert "[177x1 nnet.cnn.layer.Layer]" in capsys.readouterr().out
    assert cli.main(["summary", "--stack-depth", "3", "4", "23", "3"]) == 0
    out = capsys.readouterr().out
    assert "[347x1 nnet.cnn.layer.Layer]" in out and "[379x2 table]" in out


def test_summary_of_saved_file_and_errors(tmp_path, capsys):
    path = tmp_path / "g.lgnet"
    saveNetwork(resnet3dLayers([16, 16, 16, 1], 3, StackDepth=[1, 1], NumFilters=[4, 8],
                               InitialNumFilters=4), path)
    assert cli.main(["summary", str(path), "--layers"]) == 0
    assert "'stack2_block1_skip_conv'" in capsys.readouterr().out
    bad = tmp_path / "bad.lgnet"
    bad.write_text("nope")
    assert cli.main(["summary", str(bad)]) == 1
    assert "loadNetwork" in capsys.readouterr().err
    assert cli.main(["frobnicate"]) == 2


def test_demo_smoke_run(capsys):
    code = demo.main(["--skip-displays", "--epochs", "1", "--num-train", "64"])
    out = capsys.readouterr().out
    assert "Training on single" in out and "Validation accuracy: " in out
    assert "reloaded predictions identical" in out
    assert code in (0, 1)

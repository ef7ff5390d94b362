"""Command line: plain-text help; `summary FILE` shows inputs, classes and learnables."""
import re

import numpy as np
import pandas as pd
import pytest

from layergraph import (cli, classificationLayer, dlnetwork, fullyConnectedLayer,
                        imageInputLayer, saveNetwork, softmaxLayer, trainingOptions, trainNetwork)

RST = re.compile(r"``|:data:|:func:|^\.\. ", re.M)


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["demo", "--help"], ["summary", "--help"],
                                  ["bench", "--help"]])
def test_help_is_plain_text(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exit_info:      # argparse's --help
        code = exit_info.code
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("usage: layergraph")
    assert not RST.search(out), out


def test_no_command_prints_usage_to_stderr(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: layergraph") and "summary" in err


def _trained(tmp_path):
    X = np.random.default_rng(0).standard_normal((2, 2, 3, 8))
    Y = pd.Categorical(["cat", "dog"] * 4)
    layers = [imageInputLayer([2, 2, 3], Name="img"), fullyConnectedLayer(2, Name="fc"),
              softmaxLayer(Name="sm"), classificationLayer(Name="out")]
    net, _ = trainNetwork(X, Y, layers, trainingOptions("sgdm", MaxEpochs=1, MiniBatchSize=4,
                                                        Verbose=False))
    path = tmp_path / "net.lgnet"
    saveNetwork(net, path)
    return path, layers


def test_summary_of_a_file_shows_input_size_classes_and_learnables(tmp_path, capsys):
    path, layers = _trained(tmp_path)
    assert cli.main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert "DAGNetwork with properties" in out
    assert "Input:       img, InputSize [2 2 3]" in out
    assert "Output:      out, 2 classes: cat, dog" in out
    assert "Learnables:  26" in out                            # 2 x 12 weights + 2 biases
    saveNetwork(dlnetwork(layers[:-1]), tmp_path / "dl.lgnet")
    assert cli.main(["summary", str(tmp_path / "dl.lgnet")]) == 0
    out = capsys.readouterr().out
    assert "Outputs:     sm" in out and "Learnables:  26" in out

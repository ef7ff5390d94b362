"""Plots="training-progress": the PNG written headless, info.plot(), throttling, bad input."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import layergraph as lg
from layergraph.layers.errors import MException
from layergraph.plotting import progress_monitor
from layergraph.plotting.progress_figure import COLOURS, Smoother, smooth
from helpers.images import assert_png_shows_something, colour_fraction

plt = pytest.importorskip("matplotlib.pyplot", reason="the plot extra (matplotlib) is not installed")
PNG_SIZE = (1200, 650)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def tiny_layers(regression=False):
    head = ([lg.fullyConnectedLayer(1, Name="fc"), lg.regressionLayer(Name="out")] if regression else
            [lg.fullyConnectedLayer(2, Name="fc"), lg.softmaxLayer(Name="sm"),
             lg.classificationLayer(Name="out")])
    return [lg.imageInputLayer([6, 6, 1], Name="in"),
            lg.convolution2dLayer(3, 3, Name="conv", Padding="same"), lg.reluLayer(Name="relu"), *head]


def tiny_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b"] * (n // 2))
    X = rng.standard_normal((6, 6, 1, n)).astype(np.float32)
    X[:, :, :, labels == "b"] += 0.8
    return X, labels


def train(regression=False, **options):
    X, labels = tiny_data()
    Y = (labels == "b").astype(np.float32)[:, None] if regression else labels
    opts = dict(MaxEpochs=3, MiniBatchSize=8, Plots="training-progress", Verbose=False)
    opts.update(options)
    lg.rng(0)
    return lg.trainNetwork(X, Y, tiny_layers(regression), lg.trainingOptions("sgdm", **opts))


def test_headless_training_writes_the_png_in_the_working_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    XV, YV = tiny_data(16, seed=1)
    net, info = train(Verbose=True, ValidationData=(XV, YV), ValidationFrequency=4)
    path = tmp_path / "training-progress.png"
    out = capsys.readouterr().out
    assert out.count(str(path)) == 1 and "Training progress figure" in out
    rgb = assert_png_shows_something(path, size=PNG_SIZE, min_ink=0.03)
    assert colour_fraction(rgb, COLOURS["metric"][1]) > 0.0005      # smoothed accuracy
    assert colour_fraction(rgb, COLOURS["loss"][1]) > 0.0005        # smoothed loss
    assert sorted(os.listdir(tmp_path)) == ["training-progress.png"]   # no temporaries left


def test_checkpoint_path_gets_the_png(tmp_path, monkeypatch):
    work, checkpoints = tmp_path / "work", tmp_path / "ckpt"
    work.mkdir()
    checkpoints.mkdir()
    monkeypatch.chdir(work)
    train(CheckpointPath=str(checkpoints), CheckpointFrequency=10)
    assert (checkpoints / "training-progress.png").is_file() and not os.listdir(work)


def test_info_plot_redraws_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    XV, YV = tiny_data(16, seed=1)
    _, info = train(Plots="none", ValidationData=(XV, YV), ValidationFrequency=5)
    assert not os.listdir(tmp_path)                    # Plots="none" writes nothing
    h = info.plot()
    assert h.figure in map(plt.figure, plt.get_fignums())
    metric_ax, loss_ax = h._view.axes["metric"], h._view.axes["loss"]
    assert metric_ax.get_ylabel() == "Accuracy (%)" and loss_ax.get_ylabel() == "Loss"
    raw = h._view.lines["loss_raw"]
    np.testing.assert_array_equal(raw.get_ydata(), info.TrainingLoss)
    assert len(h._view.lines["loss_val"].get_xdata()) == np.isfinite(info.ValidationLoss).sum() == 4
    np.testing.assert_allclose(h._view.lines["metric_smooth"].get_ydata(), smooth(info.TrainingAccuracy))
    final = h._view.lines["metric_final"]
    assert list(final.get_xdata()) == [12] and list(final.get_ydata()) == [info.FinalValidationAccuracy]
    text = h._view.text.get_text()
    assert "Epoch: 3 of 3" in text and "Iteration: 12 of 12" in text and "Learning rate: 0.01" in text
    assert "Learning rate schedule: Constant" in text
    assert "Training finished: Max epochs completed." in text.replace("\n  ", " ")
    h.figure.savefig(tmp_path / "again.png", dpi=100)
    assert_png_shows_something(tmp_path / "again.png", size=PNG_SIZE, min_ink=0.03)


def test_regression_shows_rmse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, info = train(regression=True, Plots="none", LearnRateSchedule="piecewise", LearnRateDropPeriod=1)
    h = info.plot()
    assert h._view.axes["metric"].get_ylabel() == "RMSE"
    text = h._view.text.get_text()
    assert "Learning rate schedule: Piecewise" in text and "Learning rate: 0.0001" in text


def test_redraws_are_throttled_by_their_cost(tmp_path, monkeypatch):
    monitor = progress_monitor.TrainingProgressMonitor(str(tmp_path), lambda *_: None)
    _, info = train(Plots="none")
    record = info._progress_record
    for _ in range(50):
        monitor.tick(lambda: record)
    assert monitor.draws == 0                          # a file is first written after 60 s
    monkeypatch.setitem(progress_monitor.MIN_INTERVAL_S, "file", 0.0)
    monitor.tick(lambda: record)
    assert monitor.draws == 1 and monitor.last_cost > 0
    for _ in range(20):                                # the next waits 100x the last cost
        monitor.tick(lambda: record)
    assert monitor.draws == 1
    monitor.finish(record)
    assert monitor.draws == 2 and monitor.drawing_seconds >= monitor.last_cost


def test_the_figure_is_built_in_the_background_when_training_starts(tmp_path):
    monitor = progress_monitor.TrainingProgressMonitor(str(tmp_path), lambda *_: None)
    _, info = train(Plots="none")
    record = info._progress_record
    monitor.start(record)
    monitor._preparing.join(timeout=60)
    prepared = monitor._prepared["view"]
    monitor.finish(record)
    assert monitor.view is prepared and monitor.draws == 1
    assert_png_shows_something(tmp_path / "training-progress.png", size=PNG_SIZE, min_ink=0.03)


def test_a_failed_write_warns_and_training_goes_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def refuse(path, write, func):
        raise MException("layergraph:trainNetwork:CannotWriteFile", f"Cannot write the file '{path}'.")
    monkeypatch.setattr(progress_monitor, "write_atomically", refuse)
    with pytest.warns(UserWarning, match="training continues without the figure"):
        net, info = train()
    assert len(info.TrainingLoss) == 12


def test_unwritable_folder_is_refused_before_training(tmp_path):
    missing = tmp_path / "gone"
    with pytest.raises(MException, match=str(missing)) as err:
        progress_monitor.TrainingProgressMonitor(str(missing), print)
    assert err.value.identifier == "layergraph:trainNetwork:CannotWriteFile"


def test_info_without_a_run_cannot_plot():
    with pytest.raises(MException, match="needs the info returned by trainNetwork"):
        lg.training.progress.TrainingInfo({"TrainingLoss": np.zeros(2)}).plot()


def test_smoothing_is_a_debiased_moving_average_that_skips_nan():
    values = np.array([1.0, np.nan, 3.0, 2.0])
    got = smooth(values)
    assert got[0] == 1.0 and np.isnan(got[1])
    expected_2 = (0.6 * 0.4 * 1.0 + 0.4 * 3.0) / (0.6 * 0.4 + 0.4)
    assert got[2] == pytest.approx(expected_2)
    s = Smoother()
    s.extend(values[:2])
    np.testing.assert_array_equal(s.extend(values), got)       # incremental == whole


SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["matplotlib"] = None                 # as if the plot extra were not installed
    import numpy as np, layergraph as lg
    from layergraph.layers.errors import MException
    X = np.random.default_rng(0).standard_normal((4, 4, 1, 8)).astype(np.float32)
    layers = [lg.imageInputLayer([4, 4, 1]), lg.fullyConnectedLayer(2), lg.softmaxLayer(),
              lg.classificationLayer()]
    lg.trainNetwork(X, ["a", "b"] * 4, layers, lg.trainingOptions("sgdm", MaxEpochs=1,
                    MiniBatchSize=4, Verbose=False))
    print("trained without matplotlib")
    try:
        lg.trainNetwork(X, ["a", "b"] * 4, layers, lg.trainingOptions("sgdm", MaxEpochs=1,
                        MiniBatchSize=4, Verbose=False, Plots="training-progress"))
    except MException as err:
        print(err.identifier, err.message)
""")


def test_without_matplotlib_training_works_and_plots_name_the_extra(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "trained without matplotlib"
    assert lines[1].startswith("layergraph:trainNetwork:MatplotlibMissing")
    assert "pip install layergraph[plot]" in lines[1]
    assert not os.listdir(tmp_path)


def test_a_window_is_drawn_at_once_and_live(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from layergraph.plotting import backend
    monkeypatch.setattr(backend, "draws_to_files_without_import", lambda: False)
    monkeypatch.setattr(backend, "is_file_backend", lambda name: False)   # as with a GUI backend
    shown = []
    monkeypatch.setattr(plt, "show", lambda block=None: shown.append(block))
    monitor = progress_monitor.TrainingProgressMonitor(str(tmp_path), print)
    _, info = train(Plots="none")
    record = info._progress_record
    monitor.start(record)
    assert monitor.due() and monitor._preparing is None        # no background work for a window
    monitor.tick(lambda: record)
    assert monitor.draws == 1 and shown == [False]
    assert monitor.figure in map(plt.figure, plt.get_fignums())   # a pyplot window
    monitor.tick(lambda: record)
    assert monitor.draws == 1                                  # throttled: 1 s at least
    monitor.finish(record)
    assert monitor.draws == 2 and not os.listdir(tmp_path)      # no file for a window


def test_a_display_without_a_gui_toolkit_falls_back_to_the_file(tmp_path, monkeypatch, capsys):
    from layergraph.plotting import backend
    monkeypatch.setattr(backend, "draws_to_files_without_import", lambda: False)
    monitor = progress_monitor.TrainingProgressMonitor(str(tmp_path), print)
    _, info = train(Plots="none")
    monitor.finish(info._progress_record)
    assert monitor.mode == "file" and "no window could open" in capsys.readouterr().out
    assert_png_shows_something(tmp_path / "training-progress.png", size=PNG_SIZE, min_ink=0.03)


def test_in_a_notebook_the_final_figure_is_shown_inline(tmp_path, monkeypatch):
    import types
    shown = []
    kernel_shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: kernel_shell))
    monkeypatch.setitem(sys.modules, "IPython.display", types.SimpleNamespace(display=shown.append))
    monitor = progress_monitor.TrainingProgressMonitor(str(tmp_path), lambda *_: None)
    _, info = train(Plots="none")
    monitor.finish(info._progress_record)
    assert shown == [monitor.figure]


def test_trainnet_draws_the_same_figure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, labels = tiny_data()
    layers = tiny_layers()[:-1]                        # no output layer: trainnet's loss
    XV, YV = tiny_data(16, seed=1)
    opts = lg.trainingOptions("sgdm", MaxEpochs=2, MiniBatchSize=8, Plots="training-progress",
                              Verbose=False, Metrics="accuracy", ValidationData=(XV, YV),
                              ValidationFrequency=4)
    lg.rng(0)
    net, info = lg.trainnet(X, labels, layers, "crossentropy", opts)
    assert_png_shows_something(tmp_path / "training-progress.png", size=PNG_SIZE, min_ink=0.03)
    h = info.plot()
    np.testing.assert_allclose(h._view.lines["loss_raw"].get_ydata(), info.TrainingHistory["Loss"])
    np.testing.assert_allclose(h._view.lines["metric_raw"].get_ydata(), info.TrainingHistory["TrainingAccuracy"])
    assert len(h._view.lines["loss_val"].get_xdata()) == 2
    assert h._view.axes["metric"].get_ylabel() == "Accuracy (%)"

"""Verbose table formatting (matlab-behavior.md §5.3) and the info record."""
import numpy as np

from layergraph.training.progress import (TrainingInfo, VerboseTable, format_elapsed, format_learn_rate,
                                  format_regression_loss)


def test_validation_table_matches_matlab_log_line():
    t = VerboseTable(classification=True, validation=True)
    lines = t.header().splitlines()
    assert lines[0] == "|" + "=" * 118 + "|" and len(lines[1]) == 120
    assert lines[1] == ("|  Epoch  |  Iteration  |  Time Elapsed  |  Mini-batch  |  Validation  "
                        "|  Mini-batch  |  Validation  |  Base Learning  |")
    assert t.row(1, 1, 19.7, 48.57, 1.4963, 0.0003, 49.86, 3.9654) == (
        "|       1 |           1 |       00:00:19 |       48.57% |       49.86% |       1.4963 "
        "|       3.9654 |          0.0003 |")
    blank = t.row(2, 50, 3725, 51.5625, 1.75141, 0.01)
    assert blank.split("|")[5] == " " * 14 and "01:02:05" in blank


def test_regression_header_and_formats():
    lines = VerboseTable(classification=False, validation=False).header().splitlines()
    assert lines[2] == ("|         |             |   (hh:mm:ss)   |     RMSE     |     Loss     "
                        "|      Rate       |")
    assert format_regression_loss(561.2) == "561.2"
    assert format_regression_loss(8.58964e-05) == "8.5896e-05"
    assert format_regression_loss(11.00291) == "11.0029"
    assert [format_learn_rate(x) for x in (0.01, 0.001, 3e-4, 1e-4, 0.01 * 0.1 * 0.1, 1e-6)] == [
        "0.0100", "0.0010", "0.0003", "1.0000e-04", "1.0000e-04", "1.0000e-06"]
    assert format_elapsed(59.99) == "00:00:59"


def test_info_reads_as_struct():
    info = TrainingInfo(TrainingLoss=np.array([1.0, 0.5]), FinalValidationLoss=float("nan"))
    assert info.TrainingLoss[1] == 0.5 and info["FinalValidationLoss"] != 0
    assert "[1x2 double]" in repr(info)

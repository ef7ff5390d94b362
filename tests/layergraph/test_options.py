"""trainingOptions: defaults, validation, name-value forms, display."""
import math

import pytest

from layergraph import MException, trainingOptions
from layergraph.training.options import TrainingOptionsADAM, TrainingOptionsRMSProp, TrainingOptionsSGDM


def test_sgdm_defaults_match_matlab():
    o = trainingOptions("sgdm")
    assert isinstance(o, TrainingOptionsSGDM) and o.SolverName == "sgdm"
    expected = dict(Momentum=0.9, InitialLearnRate=0.01, LearnRateSchedule="none",
                    LearnRateDropFactor=0.1, LearnRateDropPeriod=10, L2Regularization=1e-4,
                    GradientThresholdMethod="l2norm", GradientThreshold=math.inf, MaxEpochs=30,
                    MiniBatchSize=128, Verbose=True, VerboseFrequency=50, ValidationData=None,
                    ValidationFrequency=50, ValidationPatience=math.inf, Shuffle="once",
                    CheckpointPath="", ExecutionEnvironment="auto", Plots="none",
                    ResetInputNormalization=True, BatchNormalizationStatistics="population",
                    OutputNetwork="last-iteration")
    for name, value in expected.items():
        assert getattr(o, name) == value, name


def test_adam_and_rmsprop_defaults():
    a = trainingOptions("adam")
    assert isinstance(a, TrainingOptionsADAM)
    assert (a.GradientDecayFactor, a.SquaredGradientDecayFactor, a.Epsilon,
            a.InitialLearnRate) == (0.9, 0.999, 1e-8, 0.001)
    r = trainingOptions("RMS")
    assert isinstance(r, TrainingOptionsRMSProp)
    assert (r.SquaredGradientDecayFactor, r.Epsilon, r.InitialLearnRate) == (0.9, 1e-8, 0.001)
    assert not hasattr(r, "Momentum")


def test_name_value_pairs_keywords_prefixes_and_case():
    o = trainingOptions("sgdm", "maxepochs", 4, "Shuffle", "every", MiniBatchSize=16)
    assert (o.MaxEpochs, o.Shuffle, o.MiniBatchSize) == (4, "every-epoch", 16)


@pytest.mark.parametrize("name, value", [
    ("MaxEpochs", 0), ("MaxEpochs", 2.5), ("MiniBatchSize", -1), ("InitialLearnRate", 0),
    ("InitialLearnRate", math.inf), ("Momentum", 1.5), ("L2Regularization", -1e-4),
    ("GradientThreshold", 0), ("ValidationPatience", 0), ("Verbose", 2), ("Shuffle", "sometimes"),
    ("LearnRateDropFactor", 2), ("ValidationData", 5), ("CheckpointPath", "/no/such/folder"),
    ("BatchNormalizationStatistics", "mean"), ("OutputFcn", 3),
])
def test_invalid_values_raise_with_received(name, value):
    with pytest.raises(MException) as err:
        trainingOptions("sgdm", **{name: value})
    assert name in err.value.message and "Received" in err.value.message
    assert err.value.identifier.startswith(("nnet_cnn:trainingOptions:", "MATLAB:trainingOptions:"))


def test_unknown_solver_and_option_and_solver_specific_option():
    with pytest.raises(MException, match="solverName"):
        trainingOptions("lbfgsx")
    with pytest.raises(MException, match="NotAnOption"):
        trainingOptions("sgdm", NotAnOption=1)
    with pytest.raises(MException, match="Momentum"):
        trainingOptions("adam", Momentum=0.9)


def test_best_validation_loss_needs_validation_data():
    with pytest.raises(MException, match="ValidationData"):
        trainingOptions("sgdm", OutputNetwork="best-validation-loss")


def test_property_assignment_is_validated():
    o = trainingOptions("sgdm")
    o.MaxEpochs = 7
    assert o.MaxEpochs == 7
    with pytest.raises(MException):
        o.MaxEpochs = -7
    assert o.MaxEpochs == 7


def test_display_matches_matlab_text():
    text = repr(trainingOptions("sgdm"))
    lines = text.splitlines()
    assert lines[0] == "  TrainingOptionsSGDM with properties:" and lines[1] == ""
    assert lines[2] == "                        Momentum: 0.9000"
    assert "                L2Regularization: 1.0000e-04" in lines
    assert "               GradientThreshold: Inf" in lines
    assert "                         Verbose: 1" in lines
    assert "                  ValidationData: []" in lines
    assert "                  CheckpointPath: ''" in lines
    assert "    BatchNormalizationStatistics: 'population'" in lines
    assert lines[-1] == "                   OutputNetwork: 'last-iteration'"
    adam = repr(trainingOptions("adam")).splitlines()
    assert "                         Epsilon: 1.0000e-08" in adam
    assert "                InitialLearnRate: 1.0000e-03" in adam

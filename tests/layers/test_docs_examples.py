"""The worked example of docs/internals.md ("Adding a layer") runs and its layer passes every
check of the layer-case table."""
import pathlib
import re

import numpy as np

from layergraph.layers.base import registered_layer

import layer_cases
import test_layer_cases as table_tests

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "internals.md"


def _example() -> str:
    text = DOC.read_text()
    section = text[text.index("## Adding a layer"):text.index("## Adding an op")]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the 'Adding a layer' section holds one python block"
    return blocks[0]


def test_adding_a_layer_example_runs_through_the_case_table(tmp_path):
    namespace = {"__name__": "docs_internals_example", "case": layer_cases.case}
    exec(compile(_example(), str(DOC), "exec"), namespace)   # noqa: S102 (our own docs)
    case = namespace["CASE"]
    assert registered_layer("SoftsignLayer") is namespace["SoftsignLayer"]
    rng = np.random.default_rng(0)
    table_tests.test_sizes_forward_and_backward(case, rng)
    table_tests.test_gradients_match_finite_differences(case, rng)
    table_tests.test_display_facts(case)
    table_tests.test_properties_round_trip(case, rng)
    table_tests.test_save_and_load(case, rng, tmp_path)
    x = np.array([[-3.0, 0.0, 1.0]])
    np.testing.assert_allclose(namespace["softsign_forward"](x)[0], [[-0.75, 0.0, 0.5]])

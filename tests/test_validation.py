"""The shared argument checks: messages name the argument, the value and the expectation."""

import numpy as np
import pytest

from statmech._validation import as_beta, as_float, as_float_array, as_int, as_seed_sequence


def test_float_array_conversions():
    assert as_float_array([1, 2], "x").dtype == np.float64
    assert as_float_array(np.ones(2, np.float32), "x").dtype == np.float32
    assert as_float_array(np.array([True, False]), "x").dtype == np.float64
    assert as_float_array(np.ones(2), "x", dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    "value, kwargs, error, match",
    [
        (np.array([1 + 2j]), {}, TypeError, "x must hold real numbers"),
        (None, {}, TypeError, "x must be a real-valued array, got None"),
        (np.ones((2, 2)), {"ndim": 1}, ValueError, r"x must be 1-D, got shape \(2, 2\)"),
        (np.ones(0), {}, ValueError, "x must not be empty"),
        ([np.nan], {}, ValueError, "x must not contain NaN"),
        ([-np.inf], {}, ValueError, "x must not contain -inf"),
        ([[1.0, 2.0], [3.0]], {}, ValueError, "x must be a rectangular array"),
    ],
)
def test_float_array_errors(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        as_float_array(value, "x", **kwargs)


def test_scalar_checks():
    assert as_int(np.int32(3), "n", minimum=1) == 3
    with pytest.raises(TypeError, match="n must be an integer, got 2.5"):
        as_int(2.5, "n")
    with pytest.raises(TypeError, match="n must be an integer, got True"):
        as_int(True, "n")
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        as_int(0, "n", minimum=1)
    with pytest.raises(ValueError, match="beta must be > 0, got -1.0"):
        as_float(-1, "beta", positive=True)
    with pytest.raises(ValueError, match="t must be finite, got inf"):
        as_float(np.inf, "t")
    with pytest.raises(TypeError, match="t must be a real number"):
        as_float("1", "t")
    np.testing.assert_array_equal(as_beta(2.0, size=3), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="beta must have length 3"):
        as_beta([1.0, 2.0], size=3)


def test_seed_sequence():
    assert as_seed_sequence(5).entropy == 5
    with pytest.raises(ValueError, match="seed must be >= 0"):
        as_seed_sequence(-1)
    with pytest.raises(TypeError, match="seed must be a non-negative integer"):
        as_seed_sequence(1.5)


def test_child_seed_is_a_function_of_seed_and_key():
    import numpy as np

    from statmech._validation import child_seed

    parent = np.random.SeedSequence(123, spawn_key=(4,))
    child = child_seed(parent, 2, 7)
    assert child.entropy == 123 and child.spawn_key == (4, 2, 7)
    # The same numbers as the hand-written idiom it replaces, and as an int seed.
    by_hand = np.random.SeedSequence(123, spawn_key=(4, 2, 7))
    np.testing.assert_array_equal(child.generate_state(4), by_hand.generate_state(4))
    assert child_seed(5, 1).spawn_key == (1,) and child_seed(5, 1).entropy == 5
    assert child_seed(parent).spawn_key == (4,)
    with pytest.raises(ValueError, match=r"key\[1\] must be >= 0"):
        child_seed(parent, 1, -2)
    with pytest.raises(TypeError, match=r"key\[0\] must be an integer"):
        child_seed(parent, 1.5)


def test_parse_list():
    from statmech._validation import parse_list

    assert parse_list("64, 256,1024", "dims") == [64, 256, 1024]
    assert parse_list("0.5,1", "betas", float) == [0.5, 1.0]
    assert parse_list("a,b", "names", str) == ["a", "b"]
    with pytest.raises(ValueError, match="dims must be a comma-separated list of int, got '64,x'"):
        parse_list("64,x", "dims")
    with pytest.raises(ValueError, match="dims must not be empty"):
        parse_list(" , ", "dims")

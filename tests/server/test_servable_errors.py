"""What a Session run's failures become: TensorFlow's errors keep their code and text (as in
TF Serving); any other exception is INVALID_ARGUMENT without Python's exception text."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tensorflow as tf

from runtime import NotATensorError
from server.errors import Code, ServingError
from server.servable import FEED_FAILED, Servable, run_error
from tests.fixtures.tf1_models import save_half_plus_two_v1


@pytest.fixture(scope="module")
def half_plus_two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servable]:
    path = tmp_path_factory.mktemp("models") / "half_plus_two" / "1"
    save_half_plus_two_v1(path)
    servable = Servable("half_plus_two", 1, path, {"serve"})
    yield servable
    servable.close()


def test_tensorflow_conversion_errors_keep_tensorflow_code_and_text(
    half_plus_two: Servable,
) -> None:
    """A value TensorFlow's C layer refuses is TensorFlow's error, as TF Serving answers it;
    the servable keeps running the signature afterwards."""
    unconvertible = np.array([[{"not": "a number"}]], dtype=object)
    with pytest.raises(ServingError) as refused:
        half_plus_two.call("serving_default", {"x": unconvertible})
    assert refused.value.code == Code.INTERNAL
    assert refused.value.message == "Unsupported object type dict"
    answer = half_plus_two.call("serving_default", {"x": np.array([[2.0]], np.float32)})
    assert answer["y"].tolist() == [[3.0]]


def test_tensorflow_errors_keep_their_code_and_message() -> None:
    err = tf.errors.DeadlineExceededError(None, None, "Timed out waiting for notification")
    mapped = run_error(err)
    assert (mapped.code, mapped.message) == (
        Code.DEADLINE_EXCEEDED,
        "Timed out waiting for notification",
    )
    ours = run_error(NotATensorError("signature 's' names 'init', which is not a tensor"))
    assert ours.code == Code.INVALID_ARGUMENT and "which is not a tensor" in ours.message


def test_python_text_never_passes_through(caplog: pytest.LogCaptureFixture) -> None:
    for err in (TypeError("float() argument must be a string"), KeyError("x"), ValueError("?")):
        mapped = run_error(err)
        assert mapped.code == Code.INVALID_ARGUMENT and mapped.message == FEED_FAILED
    assert "float() argument must be a string" in caplog.text  # the details are logged

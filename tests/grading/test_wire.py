"""The grader ↔ sandbox wire: values round-trip exactly; anything that is not plain data, or a
broken message, is refused instead of becoming an object."""
import socket

import numpy as np
import pytest
import torch

from dlab.grading import wire


def roundtrip(value):
    enc = wire.Encoder()
    body = enc(value)
    return wire.Decoder(enc.blobs)(body)


def test_data_round_trips_exactly():
    value = {"t": torch.arange(6.0).reshape(2, 3), "b": torch.tensor(True),
             "h": torch.ones(2, dtype=torch.bfloat16), "a": np.arange(4, dtype=np.int16),
             "n": np.float32(1.5), 3: (1, 2.5, "x", None), "l": [torch.zeros(0, 2)],
             "d": torch.float64, "s": torch.Size([2, 3]), "big": 2**70}
    back = roundtrip(value)
    assert torch.equal(back["t"], value["t"]) and back["h"].dtype == torch.bfloat16
    assert back["b"].item() is True and back["a"].dtype == np.int16
    assert isinstance(back["n"], np.float32) and back[3] == (1, 2.5, "x", None)
    assert back["l"][0].shape == (0, 2) and back["d"] is torch.float64
    assert back["s"] == torch.Size([2, 3]) and back["big"] == 2**70


def test_gradient_flag_survives():
    assert roundtrip(torch.ones(2, requires_grad=True)).requires_grad


@pytest.mark.parametrize("value", [object(), {1, 2}, np.array([object()]), lambda: 1])
def test_objects_are_refused(value):
    with pytest.raises(wire.WireError):
        wire.Encoder()(value)


@pytest.mark.parametrize("body,blobs", [
    ({"$pickle": "x"}, []),
    ({"$T": 0, "dtype": "object", "shape": [1]}, [b"1234"]),
    ({"$T": 0, "dtype": "float32", "shape": [3]}, [b"1234"]),  # 4 bytes for 3 floats
    ({"$T": 5, "dtype": "float32", "shape": [1]}, [b"1234"]),  # no such buffer
    ({"$A": 0, "dtype": "O", "shape": [1]}, [b"12345678"]),
], ids=["unknown-tag", "bad-dtype", "short-buffer", "missing-buffer", "object-array"])
def test_malformed_values_are_refused(body, blobs):
    with pytest.raises(wire.WireError):
        wire.Decoder(blobs)(body)


def test_messages_round_trip_over_a_socket_and_a_closed_end_is_reported():
    a, b = socket.socketpair()
    enc = wire.Encoder()
    wire.send(a, {"op": "call", "value": enc(torch.arange(3))}, enc.blobs)
    header, blobs = wire.receive(b)
    assert torch.equal(wire.Decoder(blobs)(header["value"]), torch.arange(3))
    a.close()
    with pytest.raises(wire.ChannelClosed):
        wire.receive(b)


def test_a_garbled_header_is_refused():
    a, b = socket.socketpair()
    a.sendall((7).to_bytes(8, "little") + b"not json")
    with pytest.raises(wire.WireError):
        wire.receive(b)


def test_jax_arrays_cross_as_numpy_arrays():
    jnp = pytest.importorskip("jax.numpy")
    back = roundtrip({"x": jnp.arange(6.0).reshape(2, 3), "k": jnp.array([1, 2], jnp.uint32)})
    assert isinstance(back["x"], np.ndarray) and back["x"].dtype == np.float32
    np.testing.assert_array_equal(back["x"], np.arange(6.0).reshape(2, 3))
    assert back["k"].dtype == np.uint32


def test_tensorflow_tensors_and_variables_cross_as_numpy_arrays():
    tf = pytest.importorskip("tensorflow")
    back = roundtrip({"t": tf.constant([[1, 2]], tf.int32), "v": tf.Variable([0.5, 1.5])})
    assert isinstance(back["t"], np.ndarray) and back["t"].dtype == np.int32
    np.testing.assert_array_equal(back["v"], np.array([0.5, 1.5], np.float32))

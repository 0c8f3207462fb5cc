"""The bytes between the grader and the student's sandbox: plain data, never pickle.

A message is a JSON header followed by raw buffers (tensor and array contents):

    8 bytes  header length (little endian)
    header   JSON: {"body": <encoded value>, "blobs": [size, ...]}
    blobs    the buffers, in order

``encode`` turns a value into JSON-able data: None, bools, numbers, strings, lists, tuples,
dicts, tensors, numpy arrays and scalars, dtypes, shapes and paths. Anything else is handed
to the side's ``other`` function, which returns a tagged dict of its own (a module's
structure, a reference to a live object) or raises ``WireError``. ``decode`` reverses it; an
unknown tag, a dtype outside the list, or a buffer of the wrong size is an error, so a message
from the sandbox can only ever become data.
"""
from __future__ import annotations

import json
import socket
import struct
import sys
from pathlib import Path, PurePath

import numpy as np
import torch

MAX_MESSAGE = 2**32  # 4 GB: a larger message is refused before it is read

TORCH_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
    torch.int16, torch.int8, torch.uint8, torch.bool, torch.complex64, torch.complex128)}
NUMPY_DTYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64",
                "uint32", "uint16", "uint8", "bool", "complex64", "complex128"}


class WireError(ValueError):
    """A value that cannot cross between the grader and the sandbox, or a broken message."""


class ChannelClosed(EOFError):
    """The other side has gone (it exited, crashed or was killed)."""


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().cpu().contiguous().reshape(-1)
    if t.dtype == torch.bool:
        return t.numpy().tobytes()
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b""


class Encoder:
    def __init__(self, other=None):
        self.blobs: list[bytes] = []
        self.other = other

    def blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def tensor(self, t: torch.Tensor, extra: dict | None = None) -> dict:
        name = str(t.dtype).removeprefix("torch.")
        if name not in TORCH_DTYPES:
            raise WireError(f"a tensor of dtype {t.dtype} cannot be sent")
        if t.layout != torch.strided:
            t = t.to_dense()
        out = {"$T": self.blob(_tensor_bytes(t)), "dtype": name, "shape": list(t.shape),
               "rg": bool(t.requires_grad)}
        return {**out, **(extra or {})}

    def __call__(self, value):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value if -2**63 <= value < 2**63 else {"$int": str(value)}
        if isinstance(value, float):
            return value
        if isinstance(value, torch.Tensor):
            return self.tensor(value)
        if isinstance(value, np.ndarray):
            if value.dtype.name not in NUMPY_DTYPES:
                raise WireError(f"a numpy array of dtype {value.dtype} cannot be sent")
            data = np.ascontiguousarray(value)
            return {"$A": self.blob(data.tobytes()), "dtype": value.dtype.name,
                    "shape": list(value.shape)}
        if isinstance(value, np.generic):
            if value.dtype.name not in NUMPY_DTYPES:
                raise WireError(f"a numpy scalar of dtype {value.dtype} cannot be sent")
            return {"$a": value.dtype.name, "v": self(value.item())}
        if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
            items = [self(v) for v in value]
            return items if isinstance(value, list) else {"$t": items}
        if isinstance(value, torch.Size):
            return {"$size": list(value)}
        if isinstance(value, dict) and type(value) is dict:
            return {"$d": [[self(k), self(v)] for k, v in value.items()]}
        if isinstance(value, torch.dtype):
            return {"$dtype": str(value).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"$device": str(value)}
        if isinstance(value, PurePath):
            return {"$path": str(value)}
        if isinstance(value, range):
            return {"$range": [value.start, value.stop, value.step]}
        if isinstance(value, slice):
            return {"$slice": [self(value.start), self(value.stop), self(value.step)]}
        jax = sys.modules.get("jax")
        if jax is not None and isinstance(value, jax.Array):  # crosses as a NumPy array
            try:
                return self(np.asarray(value))
            except (TypeError, ValueError):  # e.g. a typed PRNG key: jax.random.key_data(k)
                raise WireError(f"a jax array of dtype {value.dtype} cannot be sent") from None
        tf = sys.modules.get("tensorflow")
        if tf is not None and isinstance(value, (tf.Tensor, tf.Variable)):  # as NumPy too
            try:
                return self(value.numpy())
            except (AttributeError, TypeError, ValueError):  # a symbolic tensor, a string...
                raise WireError(f"a TensorFlow tensor of dtype {value.dtype.name} cannot be "
                                "sent") from None
        if self.other is not None:
            return self.other(value, self)
        raise WireError(f"a {type(value).__name__} cannot be sent")


class Decoder:
    def __init__(self, blobs: list[bytes], other=None):
        self.blobs = blobs
        self.other = other

    def tensor(self, data: dict) -> torch.Tensor:
        dtype = TORCH_DTYPES.get(data.get("dtype"))
        shape = data.get("shape")
        if dtype is None or not isinstance(shape, list) or not all(
                isinstance(s, int) and s >= 0 for s in shape):
            raise WireError("a tensor with an unknown dtype or a bad shape")
        raw = self._blob(data["$T"])
        count = int(np.prod(shape)) if shape else 1
        if len(raw) != count * torch.empty((), dtype=dtype).element_size():
            raise WireError("a tensor whose buffer does not match its shape")
        if count == 0:
            return torch.empty(shape, dtype=dtype)
        flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
        t = (flat.view(torch.bool) if dtype == torch.bool else flat.view(dtype)).reshape(shape)
        return t.requires_grad_(True) if data.get("rg") and t.is_floating_point() else t

    def _blob(self, index) -> bytes:
        if not isinstance(index, int) or not 0 <= index < len(self.blobs):
            raise WireError("a reference to a buffer that is not in the message")
        return self.blobs[index]

    def __call__(self, data):
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        if isinstance(data, list):
            return [self(v) for v in data]
        if not isinstance(data, dict):
            raise WireError("a malformed value")
        if "$T" in data:
            return self.tensor(data)
        if "$A" in data:
            if data.get("dtype") not in NUMPY_DTYPES:
                raise WireError("an array with an unknown dtype")
            shape = data.get("shape")
            array = np.frombuffer(self._blob(data["$A"]), dtype=data["dtype"])
            try:
                return array.reshape(shape).copy()
            except (ValueError, TypeError):
                raise WireError("an array whose buffer does not match its shape") from None
        if "$a" in data:
            if data["$a"] not in NUMPY_DTYPES:
                raise WireError("a numpy scalar with an unknown dtype")
            return np.dtype(data["$a"]).type(self(data["v"]))
        if "$t" in data:
            return tuple(self(v) for v in data["$t"])
        if "$d" in data:
            return {_key(self(k)): self(v) for k, v in data["$d"]}
        if "$int" in data:
            return int(data["$int"])
        if "$size" in data:
            return torch.Size(self(data["$size"]))
        if "$dtype" in data:
            if data["$dtype"] not in TORCH_DTYPES:
                raise WireError("an unknown dtype")
            return TORCH_DTYPES[data["$dtype"]]
        if "$device" in data:
            return torch.device(str(data["$device"]))
        if "$path" in data:
            return Path(str(data["$path"]))
        if "$range" in data:
            return range(*[int(v) for v in data["$range"]])
        if "$slice" in data:
            return slice(*[self(v) for v in data["$slice"]])
        if self.other is not None:
            return self.other(data, self)
        raise WireError(f"an unknown tag in {sorted(data)[:3]}")


def _key(key):
    try:
        hash(key)
    except TypeError:
        raise WireError("a dict key that is not hashable") from None
    return key


def send(sock: socket.socket, header: dict, blobs: list[bytes]) -> None:
    head = json.dumps({**header, "blobs": [len(b) for b in blobs]}).encode()
    sock.sendall(struct.pack("<Q", len(head)) + head)
    for b in blobs:
        if b:
            sock.sendall(b)


def _read(sock: socket.socket, size: int) -> bytes:
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while got < size:
        n = sock.recv_into(view[got:], min(size - got, 2**24))
        if n == 0:
            raise ChannelClosed("the other side closed the channel")
        got += n
    return bytes(buf)


def receive(sock: socket.socket) -> tuple[dict, list[bytes]]:
    (size,) = struct.unpack("<Q", _read(sock, 8))
    if size > MAX_MESSAGE:
        raise WireError("a message larger than the limit")
    try:
        header = json.loads(_read(sock, size))
        sizes = header.pop("blobs")
        if not isinstance(header, dict) or not all(isinstance(s, int) and 0 <= s <= MAX_MESSAGE
                                                   for s in sizes):
            raise WireError("a malformed message")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise WireError("a malformed message") from None
    if sum(sizes) > MAX_MESSAGE:
        raise WireError("a message larger than the limit")
    return header, [_read(sock, s) if s else b"" for s in sizes]

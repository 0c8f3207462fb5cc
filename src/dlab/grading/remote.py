"""The grader's side of the channel: the student's functions as stand-ins that compute in
the sandbox.

``Remote.function(name)`` is what the lab's check and code cells call in place of the
student's function. Arguments go to the sandbox as data (a module as its structure and
weights); what comes back is data again. Gradients flow through a call as through any torch
function: the sandbox keeps the call's graph and answers the backward pass (``vjp``). A model
the student built is rebuilt here from its structure when its classes are torch's or dlab's;
a class of the student's own becomes a ``RemoteModule`` whose weights live here and whose
forward runs in the sandbox. Functions passed to a student function are called back here, and
only allowed methods of a few kinds of objects (matplotlib axes, an Optuna trial, a node of
the from-scratch autograd) can be reached through them.
"""
from __future__ import annotations

import ast
import builtins
import os
import random
import shutil
import tempfile
import textwrap
import types
import weakref
from pathlib import Path, PurePath

import numpy as np
import torch
from torch import nn

from dlab.grading import keras_models, replicate, wire
from dlab.grading.channel import Peer

# What a student function may do with an object of the grader's it was given, by class.
ALLOWED = {
    "matplotlib.axes._axes.Axes": {
        "methods": {"plot", "scatter", "contour", "contourf", "imshow", "pcolormesh", "bar",
                    "barh", "hist", "fill_between", "axhline", "axvline", "text", "legend",
                    "grid", "set_title", "set_xlabel", "set_ylabel", "set_xlim", "set_ylim",
                    "set_aspect", "set_xticks", "set_yticks", "axis", "errorbar", "step",
                    "semilogy", "semilogx", "loglog", "matshow", "get_xlim", "get_ylim"},
        "attrs": set(), "settable": set()},
    "optuna.trial._trial.Trial": {
        "methods": {"suggest_float", "suggest_int", "suggest_categorical", "report",
                    "should_prune", "set_user_attr"},
        "attrs": {"number", "params"}, "settable": set()},
    "dlab.scratch.autograd.Tensor": {
        "methods": {"_backward"}, "attrs": {"data", "grad", "_prev", "_op", "label"},
        "settable": {"grad"}},
}


MAX_CALLBACK_GRAPHS = 4096  # callbacks the sandbox may still differentiate through
MIRROR_BYTES = 50 * 2**20  # the largest folder of the grader's a student function is shown


LAB_OBJECT = "the lab's own object"


class StudentError(Exception):
    """An exception the student's code raised in the sandbox (kept with its type's name)."""
    student_line = ""


_ERRORS: dict[str, type] = {}


def student_exception(error: dict) -> BaseException:
    name = str(error.get("type", "Exception"))
    if error.get("pruned"):
        import optuna

        return optuna.TrialPruned(error.get("message", ""))
    if error.get("memory"):
        exc = MemoryError(error.get("message", ""))
    elif name == "NotImplementedError":
        exc = NotImplementedError(error.get("message", ""))
    else:
        if name not in _ERRORS:
            base = getattr(builtins, name, None)
            bases = (StudentError,) + ((base,) if isinstance(base, type) and issubclass(
                base, Exception) and base is not Exception else ())
            safe = name if name.isidentifier() else "StudentError"
            _ERRORS[name] = type(safe, bases, {})
        exc = _ERRORS[name](error.get("message", ""))
    exc.student_line = str(error.get("line", ""))
    exc.student_traceback = str(error.get("traceback", ""))
    return exc


class _Alive:
    """Lives as long as the autograd node of a call into the sandbox."""


class _Out:
    """Where a differentiable output of a call goes in the returned value."""

    def __init__(self, index: int):
        self.index = index


class RemoteModule(nn.Module):
    """A module of a class the student wrote: weights here, forward in the sandbox."""
    _remote: "Remote"
    _handle: int

    def forward(self, *args, **kwargs):
        state = dict(self.named_parameters(remove_duplicate=False))
        state.update(self.named_buffers(remove_duplicate=False))
        modes = {name: m.training for name, m in self.named_modules()}
        return self._remote.call({"obj": self._handle, "method": "forward"}, args, kwargs,
                                 state=state, modes=modes)


class RemoteObject:
    """Any other object a student function returned (a function, a dataset...)."""

    def __init__(self, remote: "Remote", handle: int, cls: str):
        object.__setattr__(self, "_remote", remote)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_cls", cls)
        weakref.finalize(self, remote.forget, handle)

    def _method(self, method, *args, **kwargs):
        return self._remote.call({"obj": self._handle, "method": method}, args, kwargs)

    def __call__(self, *args, **kwargs):
        return self._method("__call__", *args, **kwargs)

    def __len__(self):
        return int(self._method("__len__"))

    def __getitem__(self, index):
        return self._method("__getitem__", index)

    def __getitems__(self, indices):  # a DataLoader asks for a whole batch in one call
        return self._method("__getitems__", list(indices))

    def __iter__(self):
        return iter(self._method("__iter__"))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._method("getattr", name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._method("setattr", name, value)

    def __repr__(self):
        return f"<{self._cls} of the submission>"


class RemoteDataset(RemoteObject, torch.utils.data.Dataset):
    pass


class _RemoteCall(torch.autograd.Function):
    """Ties a call's outputs (computed in the sandbox) to the tensors they depend on here:
    its differentiable inputs, and what the grader's callbacks returned during the call.
    The backward pass asks the sandbox for the vector-Jacobian product."""

    @staticmethod
    def forward(ctx, remote, call, outs, *inputs):
        ctx.remote, ctx.call = remote, call
        ctx.inputs = [(t.shape, t.dtype) for t in inputs]
        ctx.alive = _Alive()  # the sandbox keeps the call's graph as long as this node lives
        weakref.finalize(ctx.alive, remote.forget_graph, call)
        return tuple(o.clone() for o in outs)

    @staticmethod
    def backward(ctx, *grads):
        enc = wire.Encoder()
        body = enc([None if g is None else g.contiguous() for g in grads])
        answer, blobs = ctx.remote.peer.ask({"op": "vjp", "call": ctx.call, "grads": body},
                                            enc.blobs)
        if answer["op"] == "raise":
            raise student_exception(answer["error"])
        got = wire.Decoder(blobs)(answer["value"])
        if not isinstance(got, list) or len(got) != len(ctx.inputs):
            raise wire.WireError("the sandbox sent the wrong number of gradients")
        out = []
        for g, (shape, dtype) in zip(got, ctx.inputs):
            if g is not None and (not isinstance(g, torch.Tensor) or g.shape != shape):
                raise wire.WireError("the sandbox sent a gradient of the wrong shape")
            out.append(None if g is None else g.to(dtype))
        return (None, None, None, *out)


class Encoder(wire.Encoder):
    """Grader → sandbox. Tensors, modules, containers and generators carry an id, so that what
    the call returns or changes can name them."""

    def __init__(self, remote: "Remote", produced: list | None = None,
                 graph_outputs: list | None = None):
        super().__init__(other=self.other_value)
        self.remote = remote
        self.graph_outputs = graph_outputs  # a callback's outputs the sandbox differentiates
        self.tids = produced is None and graph_outputs is None  # ids: for a call's arguments
        self.table: dict[int, object] = {}
        self.seen: dict[int, int] = {}
        self.produced = produced  # a callback's differentiable results, for the call's graph

    def _tid(self, value, encoded):
        if not self.tids:
            return encoded
        tid = len(self.table)
        self.table[tid] = value
        self.seen[id(value)] = tid
        return {"$tid": tid, "v": encoded}

    def __call__(self, value):
        if id(value) in self.seen and self.table.get(self.seen[id(value)]) is value:
            return {"$ref": self.seen[id(value)]}  # the same object again (one identity)
        if isinstance(value, torch.Tensor):
            if self.graph_outputs is not None and value.requires_grad:
                self.graph_outputs.append(value)
                return self.tensor(value.detach(), {"out": len(self.graph_outputs) - 1})
            if self.produced is not None and value.requires_grad:
                self.produced.append(value)
                return self.tensor(value, {"produced": True})
            extra = ({"grad": self.tensor(value.grad)} if value.requires_grad
                     and value.grad is not None else None)
            return self._tid(value, self.tensor(value, extra))
        if isinstance(value, np.ndarray) and value.dtype.name in wire.NUMPY_DTYPES:
            return self._tid(value, super().__call__(value))
        if isinstance(value, (str, PurePath)) and self.remote.mirror is not None:
            shown = self.remote.mirrored(value)
            if shown is not None:
                return shown if isinstance(value, str) else {"$path": shown}
        if type(value) in (list, dict):
            return self._tid(value, super().__call__(value))
        return super().__call__(value)

    def grad_inputs(self) -> list[torch.Tensor]:
        return [v for _, v in sorted(self.table.items())
                if isinstance(v, torch.Tensor) and v.requires_grad]

    def other_value(self, value, _):
        if isinstance(value, RemoteModule):
            state = dict(value.named_parameters(remove_duplicate=False))
            state.update(value.named_buffers(remove_duplicate=False))
            return self._tid(value, {"$obj": value._handle, "state": self(state)})
        if isinstance(value, RemoteObject):
            return {"$obj": value._handle}
        if keras_models.is_keras_model(value):  # a copy: what the sandbox does to it stays there
            return keras_models.describe(value, self)
        if isinstance(value, nn.Module) and type(value).__name__ not in self.remote.spies:
            return self._tid(value, replicate.describe(value, self, plain_only=False))
        if isinstance(value, nn.Module):  # a check's spy: it must see the calls itself
            return {"$cb": self.remote.handle(value), "cls": None, "dataset": False}
        if isinstance(value, torch.Generator):
            return self._tid(value, {"$gen": self(value.get_state())})
        if isinstance(value, torch.optim.Optimizer):
            return self._tid(value, optimizer_state(value, self))
        if type(value) is types.SimpleNamespace:
            return {"$ns": self(dict(vars(value)))}
        if type(value) is torch.utils.data.TensorDataset:
            return {"$tds": self(list(value.tensors))}
        if getattr(value, "_dlab_exercise", None) is not None:
            return {"$student": value._dlab_exercise}
        named = library_function(value)
        if named is not None:
            return {"$fn": named}
        shipped = lab_function(value, self.remote.lab_namespace)
        if shipped is not None:
            return {"$labfn": self(shipped)}
        allowed = self.remote.allowed(value)
        if allowed is not None or callable(value) or isinstance(value,
                                                                  torch.utils.data.Dataset):
            return {"$cb": self.remote.handle(value), "cls": allowed,
                    "dataset": isinstance(value, torch.utils.data.Dataset)}
        if hasattr(type(value), "__iter__") or hasattr(type(value), "__getitem__"):
            return {"$cb": self.remote.handle(value), "cls": type(value).__name__,
                    "dataset": True}  # read only: its length, items, and iteration
        import dataclasses

        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return {"$dc": replicate.class_path(type(value)), "fields": self(fields)}
        raise wire.WireError(f"a {type(value).__name__} cannot be passed to a student function")


class Decoder(wire.Decoder):
    """Sandbox → grader: only data, the grader's own objects by id, and stand-ins."""

    def __init__(self, remote: "Remote", blobs, table: dict, outs: list | None):
        super().__init__(blobs, other=self.other_value)
        self.remote, self.table, self.outs = remote, table, outs
        self.leaves: list[torch.Tensor] = []  # the tensors that came needing gradients

    def tensor(self, data):
        t = super().tensor(data)
        if t.requires_grad:
            self.leaves.append(t)
        if "out" in data and self.outs is not None:
            index = data["out"]
            if not isinstance(index, int) or not 0 <= index < len(self.outs):
                raise wire.WireError("a bad output index")
            self.outs[index] = t.detach()
            return _Out(index)
        return t

    def other_value(self, data, _):
        if "$ref" in data:
            raise wire.WireError("a reference the grader does not accept")
        if "$same" in data:
            try:
                return self.table[data["$same"]]
            except (KeyError, TypeError):
                raise wire.WireError("a reference to an object the grader did not send") from None
        if keras_models.TAG in data:
            return keras_models.rebuild(data, self)
        if "$module" in data:
            return replicate.rebuild(data, self, self.remote.resolve, self.remote.stand_in)
        if "$obj" in data:
            cls = RemoteDataset if data.get("dataset") else RemoteObject
            return cls(self.remote, int(data["$obj"]), str(data.get("cls", "object"))[:80])
        if "$cbref" in data:
            return self.remote.handled(data["$cbref"])
        if "$gen" in data:
            gen = torch.Generator()
            gen.set_state(self(data["$gen"]))
            return gen
        if "$tds" in data:
            tensors = self(data["$tds"])
            if not all(isinstance(t, torch.Tensor) for t in tensors):
                raise wire.WireError("a TensorDataset of something else than tensors")
            return torch.utils.data.TensorDataset(*tensors)
        if "$loader" in data:
            spec = self(data["$loader"])
            if not isinstance(spec, dict) or not isinstance(spec.get("batch_size"), int):
                raise wire.WireError("a malformed DataLoader")
            return torch.utils.data.DataLoader(
                spec["dataset"], batch_size=spec["batch_size"], shuffle=bool(spec["shuffle"]),
                drop_last=bool(spec["drop_last"]), generator=spec["generator"])
        raise wire.WireError("an unknown tag from the sandbox")


def _substitute(value, outs):
    if isinstance(value, _Out):
        return outs[value.index]
    if type(value) is list:
        return [_substitute(v, outs) for v in value]
    if type(value) is tuple:
        return tuple(_substitute(v, outs) for v in value)
    if type(value) is dict:
        return {k: _substitute(v, outs) for k, v in value.items()}
    return value


class Remote:
    """The grader's end: calls into the sandbox, and serves its callbacks."""

    def __init__(self, peer: Peer, lab_namespace: dict, mirror=None, spies=()):
        self.peer = peer
        self.spies = set(spies)  # module classes of the check cells: called back, not copied
        self.mirror = mirror  # (job folder, inside bubblewrap?, run folder): paths shown there
        peer.serve = self.serve
        self.lab_namespace = lab_namespace
        self.handles: dict[int, object] = {}
        self.handle_of: dict[int, int] = {}
        self.forgotten: list[int] = []
        self.forgotten_graphs: list[int] = []
        self.callback_outputs: list[list[torch.Tensor]] = []  # one list per call under way
        self.tables: list[dict] = []  # the objects each call under way sent, by id
        self.callback_graphs: dict[int, tuple] = {}  # kept until the sandbox's backward
        self.next_graph = 0
        self.sandbox_rng = None  # the RNG states the sandbox was last left with
        self.calls = 0
        self.mirrors = 0

    def function(self, name: str):
        def student_function(*args, **kwargs):
            return self.call({"fn": name}, args, kwargs)
        student_function.__name__ = student_function.__qualname__ = name
        student_function._dlab_exercise = name
        return student_function

    # -- classes and objects
    def resolve(self, path):
        cls = replicate.trusted_class(path)
        if cls is None and isinstance(path, str) and path.startswith("__lab__."):
            found = self.lab_namespace.get(path.removeprefix("__lab__."))
            cls = found if isinstance(found, type) and issubclass(found, nn.Module) else None
        return cls

    def stand_in(self, desc, children):
        name = str(desc.get("name", "StudentModule"))
        name = name if name.isidentifier() else "StudentModule"
        cls = type(name, (RemoteModule,), {})
        module = cls()
        module._remote, module._handle = self, int(desc["handle"])
        return module

    def allowed(self, value) -> str | None:
        if type(value).__module__ == "__lab__" and (not isinstance(value, nn.Module)
                                                    or type(value).__name__ in self.spies):
            return LAB_OBJECT  # a helper object of the lab's own cells (a fake trial...)
        for cls in type(value).__mro__:
            path = replicate.class_path(cls)
            if path in ALLOWED:
                return path
        return None

    def handle(self, value) -> int:
        key = id(value)
        if key not in self.handle_of or self.handles.get(self.handle_of[key]) is not value:
            self.handle_of[key] = len(self.handles) + 1
            self.handles[self.handle_of[key]] = value
        return self.handle_of[key]

    def handled(self, handle):
        try:
            return self.handles[handle]
        except (KeyError, TypeError):
            raise wire.WireError("a callback the grader did not give") from None

    def mirrored(self, value) -> str | None:
        """A folder or file of the grader's (under the temp folder or the run folder) passed
        to a student function: copied where the sandbox can read it; its path there."""
        text = str(value)
        if len(text) > 4096 or not os.path.isabs(text) or not os.path.exists(text):
            return None
        real = os.path.realpath(text)
        jobdir, inside, runs = self.mirror
        roots = [os.path.realpath(tempfile.gettempdir()), os.path.realpath(runs)]
        if not any(real.startswith(r + os.sep) for r in roots) or real.startswith(
                os.path.realpath(jobdir)):
            return None
        size = sum(f.stat().st_size for f in Path(real).rglob("*") if f.is_file()) \
            if os.path.isdir(real) else os.path.getsize(real)
        if size > MIRROR_BYTES:
            return None
        self.mirrors += 1
        target = jobdir / "files" / str(self.mirrors) / os.path.basename(real)
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if os.path.isdir(real) else shutil.copy2)(real, target)
        return str(Path("/job") / target.relative_to(jobdir)) if inside else str(target)

    def forget(self, handle: int) -> None:
        self.forgotten.append(handle)

    def forget_graph(self, call: int) -> None:
        self.forgotten_graphs.append(call)

    # -- a call
    def _rng_request(self, enc: Encoder):
        now = (torch.random.get_rng_state(), np.random.get_state(), random.getstate())
        last = self.sandbox_rng
        if last is not None and torch.equal(now[0], last[0]) and _same_np(now[1], last[1]) \
                and now[2] == last[2]:
            return None
        return wire.Encoder.__call__(enc, now)

    def decode(self, answer, blobs, enc: Encoder, outs):
        dec = Decoder(self, blobs, enc.table, outs)
        value = dec(answer["value"])
        for change in answer.get("sync", []):
            self._apply(enc.table, change, dec)
        if answer.get("rng") is not None:
            state = dec(answer["rng"])
            torch.random.set_rng_state(state[0])
            np.random.set_state(state[1])
            random.setstate(state[2])
        self.sandbox_rng = (torch.random.get_rng_state(), np.random.get_state(),
                            random.getstate())
        return value

    def call(self, target: dict, args, kwargs, state=None, modes=None):
        self.calls += 1
        if self.forgotten or len(self.forgotten_graphs) > 64:
            ids, self.forgotten = self.forgotten, []
            graphs, self.forgotten_graphs = self.forgotten_graphs, []
            self.peer.ask({"op": "free", "ids": ids, "graphs": graphs}, [])
        enc = Encoder(self)
        grad = torch.is_grad_enabled()
        body = {"op": "call", "target": target, "args": enc(list(args)),
                "kwargs": enc(dict(kwargs)), "grad": grad, "rng": self._rng_request(enc)}
        if state is not None:
            body["state"], body["modes"] = enc(state), modes
        if torch.is_autocast_enabled("cpu"):
            body["autocast"] = str(torch.get_autocast_dtype("cpu")).removeprefix("torch.")
        self.callback_outputs.append([])
        self.tables.append(enc.table)
        try:
            answer, blobs = self.peer.ask(body, enc.blobs)
        finally:
            produced = self.callback_outputs.pop()
            self.tables.pop()
        if answer["op"] == "raise":
            raise student_exception(answer["error"])
        outs = [None] * int(answer.get("outs", 0))
        value = self.decode(answer, blobs, enc, outs)
        if not outs:
            return value
        if any(o is None for o in outs) or not grad:
            raise wire.WireError("the sandbox sent a differentiable output it did not declare")
        candidates = enc.grad_inputs() + produced
        uses = answer.get("uses", [])
        if not all(isinstance(i, int) and 0 <= i < len(candidates) for i in uses):
            raise wire.WireError("the sandbox named an input that was not sent")
        results = _RemoteCall.apply(self, answer["call"], outs, *[candidates[i] for i in uses])
        return _substitute(value, list(results))

    def _apply(self, table: dict, change: dict, dec: Decoder) -> None:
        target = table.get(change.get("tid"))
        if isinstance(target, torch.Tensor):
            with torch.no_grad():
                if "data" in change:
                    data = dec(change["data"])
                    if data.shape == target.shape:
                        target.copy_(data.to(target.dtype))
                    else:
                        target.data = data.to(target.dtype)
                if "grad" in change:
                    grad = dec(change["grad"])
                    target.grad = None if grad is None else grad.to(target.dtype)
            if "rg" in change and target.is_leaf:
                target.requires_grad_(bool(change["rg"]))
        elif isinstance(target, nn.Module) and "training" in change:
            target.training = bool(change["training"])
        elif isinstance(target, np.ndarray) and "data" in change:
            data = dec(change["data"])
            if isinstance(data, np.ndarray) and data.shape == target.shape:
                target[...] = data
        elif isinstance(target, torch.optim.Optimizer) and "optim" in change:
            load_optimizer_state(target, dec(change["optim"]))
        elif isinstance(target, torch.Generator) and "state" in change:
            target.set_state(dec(change["state"]))
        elif isinstance(target, dict) and "items" in change:
            items = dec(change["items"])
            target.clear()
            target.update(items)
        elif isinstance(target, list) and "items" in change:
            target[:] = dec(change["items"])

    # -- callbacks from the sandbox
    def serve(self, header: dict, blobs):
        if header.get("op") == "callback_vjp":
            return self._callback_vjp(header, blobs)
        if header.get("op") != "callback":
            return {"op": "raise", "error": {"type": "RuntimeError",
                                             "message": "the grader takes only callbacks"}}, []
        try:
            target = self.handled(header.get("handle"))
            dec = Decoder(self, blobs, self.tables[-1] if self.tables else {}, None)
            args, kwargs = dec(header["args"]), dec(header["kwargs"])
            if header.get("grad"):  # the sandbox differentiates through this callback
                with torch.enable_grad():
                    result = self._callback(target, header.get("kind"), args, kwargs)
                enc = Encoder(self, graph_outputs=[])
                value = enc(result)
                answer = {"op": "return", "value": value, "outs": len(enc.graph_outputs)}
                if enc.graph_outputs:
                    self.next_graph += 1
                    self.callback_graphs[self.next_graph] = (enc.graph_outputs, dec.leaves)
                    while len(self.callback_graphs) > MAX_CALLBACK_GRAPHS:
                        self.callback_graphs.pop(next(iter(self.callback_graphs)))
                    answer["graph"] = self.next_graph
                return answer, enc.blobs
            result = self._callback(target, header.get("kind"), args, kwargs)
            enc = Encoder(self, produced=self.callback_outputs[-1] if self.callback_outputs
                          else [])
            return {"op": "return", "value": enc(result)}, enc.blobs
        except wire.ChannelClosed:
            raise
        except Exception as exc:
            return {"op": "raise", "error": {"type": type(exc).__name__,
                                             "message": str(exc)[:2000]}}, []

    def _callback_vjp(self, header, blobs):
        outputs, leaves = self.callback_graphs.pop(header.get("graph"), (None, None))
        if outputs is None:
            return {"op": "raise", "error": {"type": "RuntimeError",
                                             "message": "no such callback graph"}}, []
        grads = wire.Decoder(blobs)(header["grads"])
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(g, torch.Tensor)]
        got = torch.autograd.grad([o for o, _ in pairs], leaves, [g for _, g in pairs],
                                  allow_unused=True) if pairs and leaves else [None] * len(leaves)
        enc = wire.Encoder()
        return {"op": "return", "value": enc([None if g is None else g for g in got])}, enc.blobs

    def _callback(self, target, kind, args, kwargs):
        if kind in ("len", "getitem", "iter") and not callable(target):
            if kind == "iter":
                return list(target)
            return len(target) if kind == "len" else target[args[0]]
        kind_of = self.allowed(target)
        allowed = ALLOWED.get(kind_of or "", None)
        if kind_of == LAB_OBJECT and kind is None and callable(target):
            return target(*args, **kwargs)
        if kind_of == LAB_OBJECT:
            name = args[0] if args else ""
            public = {n for n in dir(target) if not n.startswith("_")}
            allowed = {"methods": {n for n in public if callable(getattr(target, n))},
                       "attrs": {n for n in public if not callable(getattr(target, n))},
                       "settable": set()}
        if kind is None:
            if allowed is not None or isinstance(target, type) or not callable(target):
                raise TypeError("this object cannot be called")
            return target(*args, **kwargs)
        name = args[0] if args else None
        if allowed is None or not isinstance(name, str):
            raise AttributeError(f"no attribute {name!r} can be reached on this object")
        if kind == "getattr":
            if name in allowed["methods"]:
                method = getattr(target, name)
                return lambda *a, **k: _data_only(method(*a, **k))
            if name in allowed["attrs"]:
                return getattr(target, name)
        if kind == "setattr" and name in allowed["settable"] and len(args) == 2:
            setattr(target, name, args[1])
            return None
        raise AttributeError(f"`{name}` cannot be used on this object while grading")


LIBRARIES = ("torch", "numpy", "math", "dlab", "scipy", "sklearn")


def library_function(value) -> str | None:
    """``module:qualname`` of a function of torch, numpy or dlab (the sandbox has them)."""
    module = getattr(value, "__module__", None) or ""
    qualname = getattr(value, "__qualname__", "")
    if not callable(value) or isinstance(value, (type, nn.Module)) or "<" in qualname \
            or module.split(".")[0] not in LIBRARIES or module.startswith(
                replicate.UNTRUSTED_PACKAGES):
        return None
    import importlib

    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if found is value else None


def lab_function(value, namespace: dict):
    """A top-level function of the lab's code cells that reads only data (tensors, numbers)
    and libraries: its source and those values, so the sandbox runs it itself instead of
    calling back for every sample."""
    import inspect

    code = getattr(value, "__code__", None)
    if (not isinstance(value, types.FunctionType) or value.__module__ != "__lab__"
            or code.co_freevars or value.__globals__ is not namespace):
        return None
    try:
        source = textwrap.dedent(inspect.getsource(value))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef) \
            or tree.body[0].name != value.__name__ or tree.body[0].decorator_list:
        return None  # a lambda, or a check's own function
    data, modules = {}, {}
    for name in code.co_names:
        if name not in namespace:
            continue
        found = namespace[name]
        if isinstance(found, types.ModuleType):
            modules[name] = found.__name__
        elif isinstance(found, (torch.Tensor, np.ndarray, int, float, bool, str)):
            data[name] = found
        elif library_function(found) is None:
            return None
        else:
            modules[name] = library_function(found)
    return {"source": source, "name": value.__name__, "data": data, "modules": modules}


def optimizer_state(optimizer, encode) -> dict:
    """An optimizer as data: its class, parameter groups (parameters by identity) and state."""
    params = [p for g in optimizer.param_groups for p in g["params"]]
    index = {id(p): i for i, p in enumerate(params)}
    groups = [{k: (v if k != "params" else [index[id(p)] for p in v])
               for k, v in g.items()} for g in optimizer.param_groups]
    state = {index[id(p)]: dict(s) for p, s in optimizer.state.items() if id(p) in index}
    internals = {"defaults", "state", "param_groups"}
    attrs = {}
    for k, v in vars(optimizer).items():
        if k not in internals and not k.startswith("_"):
            try:
                attrs[k] = encode(v)
            except wire.WireError:
                continue
    return {"$optim": replicate.class_path(type(optimizer)), "params": encode(params),
            "groups": encode(groups), "state": encode(state),
            "defaults": encode(dict(optimizer.defaults)), "attrs": attrs}


def load_optimizer_state(optimizer, data) -> None:
    """What a student function did to an optimizer it was given (steps, state, lr)."""
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for group, new in zip(optimizer.param_groups, data["groups"]):
        for k, v in new.items():
            if k != "params" and isinstance(v, (int, float, bool, tuple, type(None))):
                group[k] = v
    for i, state in data["state"].items():
        if isinstance(i, int) and 0 <= i < len(params) and isinstance(state, dict):
            optimizer.state[params[i]] = state


def _data_only(value):
    """What a drawing or Optuna method returns, if it is data; None otherwise."""
    try:
        wire.Encoder()(value)
        return value
    except wire.WireError:
        return None


def _same_np(a, b) -> bool:
    return a[0] == b[0] and a[2:] == b[2:] and np.array_equal(a[1], b[1])

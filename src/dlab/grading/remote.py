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

import builtins
import random
import weakref

import numpy as np
import torch
from torch import nn

from dlab.grading import replicate, wire
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
        self._remote, self._handle, self._cls = remote, handle, cls
        weakref.finalize(self, remote.forget, handle)

    def _method(self, method, *args, **kwargs):
        return self._remote.call({"obj": self._handle, "method": method}, args, kwargs)

    def __call__(self, *args, **kwargs):
        return self._method("__call__", *args, **kwargs)

    def __len__(self):
        return int(self._method("__len__"))

    def __getitem__(self, index):
        return self._method("__getitem__", index)

    def __iter__(self):
        return iter(self._method("__iter__"))

    def __repr__(self):
        return f"<{self._cls} of the submission>"


class RemoteDataset(RemoteObject, torch.utils.data.Dataset):
    pass


class _RemoteCall(torch.autograd.Function):
    @staticmethod
    def forward(ctx, remote, request, holder, *inputs):
        holder["answer"] = remote.peer.ask(*request)
        answer, blobs = holder["answer"]
        if answer["op"] == "raise":
            holder["outs"] = []
            return torch.zeros(())
        outs = [None] * int(answer.get("outs", 0))
        holder["decoded"] = remote.decode(answer, blobs, holder["encoder"], outs)
        holder["outs"] = outs
        ctx.remote, ctx.call = remote, answer.get("call")
        ctx.inputs = [(t.shape, t.dtype) for t in inputs]
        return (*outs, torch.zeros(()))

    @staticmethod
    def backward(ctx, *grads):
        grads = grads[:-1]
        if ctx.call is None:
            return (None, None, None, *[None] * len(ctx.inputs))
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

    def __init__(self, remote: "Remote"):
        super().__init__(other=self.other_value)
        self.remote = remote
        self.table: dict[int, object] = {}

    def _tid(self, value, encoded):
        tid = len(self.table)
        self.table[tid] = value
        return {"$tid": tid, "v": encoded}

    def __call__(self, value):
        if isinstance(value, torch.Tensor):
            return self._tid(value, self.tensor(value))
        if type(value) in (list, dict):
            tid = len(self.table)
            self.table[tid] = value
            return {"$tid": tid, "v": super().__call__(value)}
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
        if isinstance(value, nn.Module):
            return self._tid(value, replicate.describe(value, self))
        if isinstance(value, torch.Generator):
            return self._tid(value, {"$gen": self(value.get_state())})
        allowed = self.remote.allowed(value)
        if allowed is not None or callable(value):
            return {"$cb": self.remote.handle(value), "cls": allowed}
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

    def tensor(self, data):
        t = super().tensor(data)
        if "out" in data and self.outs is not None:
            index = data["out"]
            if not isinstance(index, int) or not 0 <= index < len(self.outs):
                raise wire.WireError("a bad output index")
            self.outs[index] = t.detach()
            return _Out(index)
        return t

    def other_value(self, data, _):
        if "$same" in data:
            try:
                return self.table[data["$same"]]
            except (KeyError, TypeError):
                raise wire.WireError("a reference to an object the grader did not send") from None
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
        if "$loader" in data:
            spec = self(data["$loader"])
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

    def __init__(self, peer: Peer, lab_namespace: dict):
        self.peer = peer
        peer.serve = self.serve
        self.lab_namespace = lab_namespace
        self.handles: dict[int, object] = {}
        self.handle_of: dict[int, int] = {}
        self.forgotten: list[int] = []
        self.sandbox_rng = None  # the RNG states the sandbox was last left with
        self.calls = 0

    def function(self, name: str):
        def student_function(*args, **kwargs):
            return self.call({"fn": name}, args, kwargs)
        student_function.__name__ = student_function.__qualname__ = name
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

    def forget(self, handle: int) -> None:
        self.forgotten.append(handle)

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
        if self.forgotten:
            ids, self.forgotten = self.forgotten, []
            self.peer.ask({"op": "free", "ids": ids}, [])
        enc = Encoder(self)
        grad = torch.is_grad_enabled()
        body = {"op": "call", "target": target, "args": enc(list(args)),
                "kwargs": enc(dict(kwargs)), "grad": grad, "rng": self._rng_request(enc)}
        if state is not None:
            body["state"], body["modes"] = enc(state), modes
        if torch.is_autocast_enabled("cpu"):
            body["autocast"] = str(torch.get_autocast_dtype("cpu")).removeprefix("torch.")
        inputs = enc.grad_inputs() if grad else []
        if inputs:
            holder = {"encoder": enc}
            results = _RemoteCall.apply(self, (body, enc.blobs), holder, *inputs)
            answer, _ = holder["answer"]
            if answer["op"] == "raise":
                raise student_exception(answer["error"])
            return _substitute(holder["decoded"], list(results[:-1]))
        answer, blobs = self.peer.ask(body, enc.blobs)
        if answer["op"] == "raise":
            raise student_exception(answer["error"])
        outs = [None] * int(answer.get("outs", 0))
        value = self.decode(answer, blobs, enc, outs)
        return _substitute(value, outs)

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
        if header.get("op") != "callback":
            return {"op": "raise", "error": {"type": "RuntimeError",
                                             "message": "the grader takes only callbacks"}}, []
        try:
            target = self.handled(header.get("handle"))
            dec = Decoder(self, blobs, {}, None)
            args, kwargs = dec(header["args"]), dec(header["kwargs"])
            result = self._callback(target, header.get("kind"), args, kwargs)
            enc = Encoder(self)
            return {"op": "return", "value": enc(result)}, enc.blobs
        except wire.ChannelClosed:
            raise
        except Exception as exc:
            return {"op": "raise", "error": {"type": type(exc).__name__,
                                             "message": str(exc)[:2000]}}, []

    def _callback(self, target, kind, args, kwargs):
        allowed = ALLOWED.get(self.allowed(target) or "", None)
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


def _data_only(value):
    """What a drawing or Optuna method returns, if it is data; None otherwise."""
    try:
        wire.Encoder()(value)
        return value
    except wire.WireError:
        return None


def _same_np(a, b) -> bool:
    return a[0] == b[0] and a[2:] == b[2:] and np.array_equal(a[1], b[1])

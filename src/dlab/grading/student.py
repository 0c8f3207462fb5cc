"""The student's process: ``python -m dlab.grading.student JOB.json`` inside the sandbox.

It loads the submission's functions over the lab's imports and then only answers the
grader's requests on its socket (fd in ``$DLAB_CHANNEL_FD``): call a student function, a
method of an object a student function returned, or give gradients for a call. What comes
back to the grader is data: return values, and what the call changed in its arguments. It
never sees a check, a criterion, the grade files or the lab's solutions, so nothing it does
here can set a score.
"""
from __future__ import annotations

import builtins
import difflib
import hashlib
import json
import os
import random
import socket
import sys
import traceback
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dlab.exercises.checks import SUBMISSION, is_out_of_memory, student_line
from dlab.grading import keras_models, replicate, wire
from dlab.grading.channel import Peer

MAX_GRAPHS = 20_000  # calls kept for a backward pass (the grader frees them as it can)
OBJECT_METHODS = {"__call__", "forward", "__len__", "__getitem__", "__getitems__", "__iter__",
                  "getattr", "setattr"}


def _public(name):
    if not isinstance(name, str) or name.startswith("_"):
        raise AttributeError(f"{name!r} cannot be reached while grading")
    return name


class Callback:
    """A function (or an allowed object) of the grader's, called back over the channel."""

    def __init__(self, server: "Server", handle: int, cls: str | None):
        object.__setattr__(self, "_server", server)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_cls", cls)

    def __call__(self, *args, **kwargs):
        return self._server.callback(self._handle, None, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._server.callback(self._handle, "getattr", (name,), {})

    def __setattr__(self, name, value):
        self._server.callback(self._handle, "setattr", (name, value), {})

    def __repr__(self):
        return f"<{self._cls or 'function'} of the grader>"


class DatasetCallback(Callback, torch.utils.data.Dataset):
    """A dataset of the grader's: its length and items are asked for over the channel."""

    def __len__(self):
        return int(self._server.callback(self._handle, "len", (), {}))

    def __getitem__(self, index):
        return self._server.callback(self._handle, "getitem", (index,), {})

    def __iter__(self):
        return iter(self._server.callback(self._handle, "iter", (), {}))


class _Placed:
    def __init__(self, index):
        self.index = index


def _placed(value, outs):
    if isinstance(value, _Placed):
        return outs[value.index]
    if type(value) in (list, tuple):
        return type(value)(_placed(v, outs) for v in value)
    if type(value) is dict:
        return {k: _placed(v, outs) for k, v in value.items()}
    return value


class _CallbackFn(torch.autograd.Function):
    """A callback of the grader's inside the student's graph: its backward pass asks the
    grader for the gradients (``callback_vjp``)."""

    @staticmethod
    def forward(ctx, server, request, holder, *leaves):
        with torch.enable_grad():
            value, outs, graph = server._callback(*request, want_grad=True)
        holder["value"] = value
        ctx.server, ctx.graph = server, graph
        ctx.shapes = [(t.shape, t.dtype) for t in leaves]
        return tuple(o.detach() for o in outs)

    @staticmethod
    def backward(ctx, *grads):
        if ctx.graph is None:
            return (None, None, None, *[None] * len(ctx.shapes))
        enc = Encoder(ctx.server, None)
        body = enc([None if g is None else g.contiguous() for g in grads])
        answer, blobs = ctx.server.peer.ask({"op": "callback_vjp", "graph": ctx.graph,
                                             "grads": body}, enc.blobs)
        if answer["op"] == "raise":
            raise RuntimeError(answer["error"].get("message", ""))
        got = wire.Decoder(blobs)(answer["value"])
        return (None, None, None, *[None if g is None else g.to(dtype)
                                    for g, (_, dtype) in zip(got, ctx.shapes)])


class Call:
    """What one request brought: the objects it passed (by the grader's ids), so that what the
    call returns or changes can be named by those ids."""

    def __init__(self, server: "Server", grad: bool):
        self.server = server
        self.grad = grad
        self.by_tid: dict[int, object] = {}
        self.tid_of: dict[int, tuple] = {}  # id(object) -> ("$same" payload)
        self.before: dict[int, object] = {}
        self.outputs: list[torch.Tensor] = []
        self.produced: list[torch.Tensor] = []  # differentiable results of the grader's callbacks

    def register(self, tid: int, value) -> None:
        self.by_tid[tid] = value
        self.tid_of[id(value)] = {"$same": tid}
        self.before[tid] = _snapshot(value)

    def repoint(self, old, new) -> None:
        """``new`` stands for what the grader sent as ``old`` (a tensor made a Parameter)."""
        same = self.tid_of.pop(id(old), None)
        if same is not None:
            self.register(same["$same"], new)

    def inputs(self) -> list[torch.Tensor]:
        return [self.by_tid[tid] for tid in sorted(self.by_tid)
                if isinstance(self.by_tid[tid], torch.Tensor) and self.by_tid[tid].requires_grad]

    def changes(self, encode) -> list[dict]:
        """What the call did to the objects it was given."""
        out = []
        for tid, value in self.by_tid.items():
            before = self.before[tid]
            now = _snapshot(value)
            if now == before:
                continue
            change = {"tid": tid}
            if isinstance(value, torch.Tensor):
                change.update(_tensor_change(value, before, now, encode))
            elif isinstance(value, nn.Module):
                change["training"] = value.training
            elif isinstance(value, torch.Generator):
                change["state"] = encode(value.get_state())
            elif isinstance(value, np.ndarray):
                change["data"] = encode(value.copy())
            elif isinstance(value, torch.optim.Optimizer):
                index = {id(p): i for i, p in enumerate(value._dlab_params)}
                groups = [{k: v for k, v in g.items() if k != "params"}
                          for g in value.param_groups]
                state = {index[id(p)]: {k: (v.detach().clone() if isinstance(v, torch.Tensor)
                                            else v) for k, v in st.items()}
                         for p, st in value.state.items() if id(p) in index}
                change["optim"] = encode({"groups": groups, "state": state})
            elif isinstance(value, dict):
                change["items"] = encode(dict(value))
            elif isinstance(value, list):
                change["items"] = encode(list(value))
            out.append(change)
        return out


def _tensor_state(t: torch.Tensor) -> tuple:
    return (t._version, id(t.grad), None if t.grad is None else t.grad._version,
            t.requires_grad)


def _snapshot(value):
    if isinstance(value, torch.Tensor):
        return _tensor_state(value)
    if isinstance(value, nn.Module):
        return value.training
    if isinstance(value, torch.Generator):
        return bytes(value.get_state().numpy())
    if isinstance(value, np.ndarray):
        return hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).digest() \
            if value.nbytes <= 2**26 else None
    if isinstance(value, torch.optim.Optimizer):
        return repr([{k: v for k, v in g.items() if k != "params"} for g in value.param_groups]) \
            + repr([(id(p), {k: (v._version if isinstance(v, torch.Tensor) else v)
                             for k, v in s.items()}) for p, s in value.state.items()])
    if isinstance(value, (dict, list)):
        return [(k, id(v)) for k, v in (value.items() if isinstance(value, dict)
                                        else enumerate(value))]
    return None


def _tensor_change(t, before, now, encode) -> dict:
    change = {}
    if before is None or now[0] != before[0]:
        change["data"] = encode(t.detach())
    if before is None or now[1:3] != before[1:3]:
        change["grad"] = None if t.grad is None else encode(t.grad.detach())
    if before is None or now[3] != before[3]:
        change["rg"] = t.requires_grad
    return change


class Encoder(wire.Encoder):
    """Sandbox → grader: objects the grader sent are named by its ids; a student's module
    goes as its structure; other objects of the student's stay here, known by a handle."""

    def __init__(self, server: "Server", call: Call | None, keep_outputs: bool = True):
        super().__init__(other=self.other_value)
        self.server, self.call, self.keep_outputs = server, call, keep_outputs

    def __call__(self, value):
        if self.call is not None:
            same = self.call.tid_of.get(id(value))
            if same is not None and not isinstance(value, (bool, int, float, str, type(None))):
                return same
            if (isinstance(value, torch.Tensor) and self.call.grad and value.requires_grad
                    and value.grad_fn is not None and self.keep_outputs):
                self.call.outputs.append(value)
                return self.tensor(value.detach(), {"out": len(self.call.outputs) - 1})
        return super().__call__(value)

    def other_value(self, value, _):
        if isinstance(value, Callback):
            return {"$cbref": value._handle}
        if keras_models.is_keras_model(value):  # before nn.Module: on torch, Keras is one
            return keras_models.describe(value, self)
        if isinstance(value, nn.Module):
            return replicate.describe(value, self, handle=self.server.keep)
        if isinstance(value, torch.Generator):
            return {"$gen": self(value.get_state())}
        if isinstance(value, torch.utils.data.DataLoader):
            sampler = value.sampler
            shuffle = isinstance(sampler, torch.utils.data.RandomSampler)
            generator = getattr(sampler, "generator", None) if shuffle else None
            return {"$loader": self({"dataset": value.dataset, "batch_size": value.batch_size,
                                     "shuffle": shuffle, "drop_last": value.drop_last,
                                     "generator": generator})}
        if type(value) is torch.utils.data.TensorDataset:
            return {"$tds": self(list(value.tensors))}
        info = {"$obj": self.server.keep(value), "callable": callable(value),
                "cls": type(value).__name__,
                "dataset": isinstance(value, torch.utils.data.Dataset)}
        return info


class Decoder(wire.Decoder):
    """Grader → sandbox: data, the grader's modules rebuilt, callbacks, generators."""

    def __init__(self, server: "Server", call: Call, blobs, outs: list | None = None):
        super().__init__(blobs, other=self.other_value)
        self.server, self.call, self.outs = server, call, outs

    def tensor(self, data):
        t = super().tensor(data)
        if self.outs is not None and isinstance(data.get("out"), int) \
                and 0 <= data["out"] < len(self.outs):
            self.outs[data["out"]] = t.detach()
            return _Placed(data["out"])
        if isinstance(data.get("grad"), dict) and t.requires_grad:
            t.grad = super().tensor(data["grad"])
        if data.get("produced") and t.requires_grad and self.server.calls:
            self.server.calls[-1].produced.append(t)
        return t

    def other_value(self, data, _):
        if "$tid" in data:
            value = self(data["v"])
            self.call.register(data["$tid"], value)
            return value
        if "$ref" in data:
            try:
                return self.call.by_tid[data["$ref"]]
            except (KeyError, TypeError):
                raise wire.WireError("a reference to an object not sent yet") from None
        if "$optim" in data:
            return self._optimizer(data)
        if "$student" in data:
            return self.server.exercise(data["$student"])
        if "$labfn" in data:
            return self.server.lab_function(self(data["$labfn"]))
        if "$fn" in data:
            module, _, qualname = str(data["$fn"]).partition(":")
            return self.server.resolve_any(f"{module}.{qualname}")
        if keras_models.TAG in data:
            return keras_models.rebuild(data, self)
        if "$module" in data:
            return replicate.rebuild(data, self, self.server.resolve, self._no_stand_in,
                                     made=self.call.repoint)
        if "$obj" in data:
            value = self.server.object(data["$obj"])
            if data.get("state") is not None and isinstance(value, nn.Module):
                self._load(value, self(data["state"]))
            return value
        if "$cb" in data:
            return self.server.proxy(data["$cb"], data.get("cls"), bool(data.get("dataset")))
        if "$ns" in data:
            return types.SimpleNamespace(**self(data["$ns"]))
        if "$tds" in data:
            return torch.utils.data.TensorDataset(*self(data["$tds"]))
        if "$gen" in data:
            gen = torch.Generator()
            gen.set_state(self(data["$gen"]))
            return gen
        if "$dc" in data:
            cls = self.server.resolve_any(data["$dc"])
            return cls(**self(data["fields"]))
        raise wire.WireError("an unknown tag")

    def _optimizer(self, data):
        params = self(data["params"])
        groups = self(data["groups"])
        for group in groups:
            group["params"] = [params[i] for i in group["params"]]
        cls = self.server.resolve_any(data["$optim"])
        optimizer = cls.__new__(cls)
        torch.optim.Optimizer.__init__(optimizer, groups, self(data["defaults"]))
        for k, v in data.get("attrs", {}).items():
            setattr(optimizer, k, self(v))
        for i, state in self(data["state"]).items():
            optimizer.state[params[i]] = state
        optimizer._dlab_params = params
        return optimizer

    def _load(self, module: nn.Module, state: dict) -> None:
        """The grader's current weights into a student's module it holds a handle to."""
        for name, t in state.items():
            owner, _, leaf = name.rpartition(".")
            sub = module.get_submodule(owner) if owner else module
            if leaf in sub._parameters:
                param = nn.Parameter(t.detach(), requires_grad=t.requires_grad)
                sub._parameters[leaf] = param
                self.call.repoint(t, param)
            elif leaf in sub._buffers:
                sub._buffers[leaf] = t

    def _no_stand_in(self, desc, children):
        raise wire.WireError(f"the class {desc['$module']} is not known in the sandbox")


class Server:
    def __init__(self, sock: socket.socket, namespace: dict, exercises: list[str]):
        self.namespace = namespace
        self.exercises = set(exercises)
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}  # id(object) -> handle
        self.graphs: OrderedDict[int, tuple] = OrderedDict()
        self.callbacks: dict[int, Callback] = {}
        self.calls: list[Call] = []  # the calls under way, innermost last
        self.peer = Peer(sock, self.serve)
        self.next_call = 0

    # -- objects the grader holds a handle to
    def keep(self, value) -> int:
        handle = self.ids.get(id(value))
        if handle is None or self.objects.get(handle) is not value:
            handle = len(self.objects) + 1
            while handle in self.objects:
                handle += 1
            self.objects[handle] = value
            self.ids[id(value)] = handle
        return handle

    def object(self, handle):
        try:
            return self.objects[handle]
        except (KeyError, TypeError):
            raise wire.WireError("an object handle the sandbox does not hold") from None

    def resolve_any(self, path: str):
        module, _, name = path.rpartition(".")
        if module in ("__lab__", "__main__", "__submission__"):
            return self.namespace[name]
        import importlib

        owner = importlib.import_module(module)
        for part in name.split("."):
            owner = getattr(owner, part)
        return owner

    def resolve(self, path: str):
        try:
            return self.resolve_any(path)
        except (ImportError, AttributeError, KeyError, ValueError):
            return None

    # -- the grader's functions, called from student code
    def callback(self, handle: int, kind: str | None, args, kwargs):
        """Call the grader's function; gradients flow back through it when its tensor
        arguments need them (the grader keeps that graph and answers ``callback_vjp``)."""
        leaves = [a for a in [*args, *kwargs.values()]
                  if isinstance(a, torch.Tensor) and a.requires_grad]
        if torch.is_grad_enabled() and leaves:
            holder = {}
            outs = _CallbackFn.apply(self, (handle, kind, args, kwargs), holder, *leaves)
            return _placed(holder["value"], list(outs))
        return self._callback(handle, kind, args, kwargs, want_grad=False)[0]

    def _callback(self, handle, kind, args, kwargs, want_grad: bool):
        enc = Encoder(self, self.calls[-1] if self.calls else None, keep_outputs=False)
        header = {"op": "callback", "handle": handle, "kind": kind, "args": enc(list(args)),
                  "kwargs": enc(dict(kwargs)), "grad": want_grad}
        answer, blobs = self.peer.ask(header, enc.blobs)
        if answer["op"] == "raise":
            error = answer["error"]
            cls = getattr(builtins, str(error.get("type")), None)
            cls = cls if isinstance(cls, type) and issubclass(cls, Exception) else RuntimeError
            raise cls(error.get("message", ""))
        outs = [None] * int(answer.get("outs", 0))
        dec = Decoder(self, self.calls[-1] if self.calls else Call(self, False), blobs,
                      outs=outs)
        return dec(answer["value"]), outs, answer.get("graph")

    def proxy(self, handle, cls, dataset: bool = False) -> Callback:
        """One proxy per grader object, so that identity (``id``, ``is``) holds."""
        if handle not in self.callbacks:
            self.callbacks[handle] = (DatasetCallback if dataset else Callback)(self, handle, cls)
        return self.callbacks[handle]

    # -- requests
    def serve(self, header: dict, blobs: list[bytes]):
        op = header.get("op")
        try:
            if op == "call":
                return self.call(header, blobs)
            if op == "vjp":
                return self.vjp(header, blobs)
            if op == "free":
                for handle in header.get("ids", []):
                    value = self.objects.pop(handle, None)
                    self.ids.pop(id(value), None)
                for call in header.get("graphs", []):
                    self.graphs.pop(call, None)
                return {"op": "return", "value": None}, []
        except wire.ChannelClosed:
            raise
        except BaseException as exc:  # the student's code may raise anything, even SystemExit
            return {"op": "raise", "error": describe_error(exc)}, []
        return {"op": "raise", "error": {"type": "RuntimeError", "message": f"unknown op {op}",
                                         "line": ""}}, []

    def lab_function(self, spec: dict):
        """A function of the lab's, run here (see ``remote.lab_function``)."""
        import importlib
        import textwrap

        scope = {"__name__": "__lab__", **spec["data"]}
        for name, target in spec["modules"].items():
            module, _, qualname = target.partition(":")
            scope[name] = (self.resolve_any(f"{module}.{qualname}") if qualname
                           else importlib.import_module(module))
        exec(compile(textwrap.dedent(spec["source"]), "<lab function>", "exec"), scope)
        return scope[spec["name"]]

    def exercise(self, name):
        if name not in self.exercises or not callable(self.namespace.get(name)):
            raise wire.WireError(f"no exercise function named {name}")
        return self.namespace[name]

    def _target(self, target: dict, call: Call, dec: Decoder):
        if "fn" in target:
            return self.exercise(target["fn"]), None
        method = target.get("method")
        if method not in OBJECT_METHODS:
            raise wire.WireError(f"method {method} cannot be called")
        obj = self.object(target.get("obj"))
        if method == "__getitems__":
            return (lambda indices: [obj[i] for i in indices]), obj
        if method == "getattr":
            return (lambda name: getattr(obj, _public(name))), obj
        if method == "setattr":
            return (lambda name, value: setattr(obj, _public(name), value)), obj
        return getattr(obj, method), obj

    def call(self, header: dict, blobs: list[bytes]):
        call = Call(self, bool(header.get("grad")))
        self.calls.append(call)
        try:
            return self._call(header, blobs, call)
        finally:
            self.calls.pop()

    def _call(self, header: dict, blobs: list[bytes], call: Call):
        grad = call.grad
        dec = Decoder(self, call, blobs)
        args, kwargs = dec(header["args"]), dec(header["kwargs"])
        state = dec(header["state"]) if header.get("state") is not None else None
        _set_rng(dec(header["rng"]) if header.get("rng") else None)
        before = _rng()
        fn, obj = self._target(header["target"], call, dec)
        autocast = header.get("autocast")
        with torch.set_grad_enabled(grad), torch.autocast(
                "cpu", dtype=wire.TORCH_DTYPES.get(autocast, torch.bfloat16),
                enabled=bool(autocast)):
            if state is not None and isinstance(obj, nn.Module):
                for name, mode in (header.get("modes") or {}).items():
                    sub = obj.get_submodule(name) if name else obj
                    sub.training = bool(mode)
                result = torch.func.functional_call(obj, state, tuple(args), kwargs)
            elif header["target"].get("method") == "__iter__":
                result = list(fn())[:1_000_000]
            else:
                result = fn(*args, **kwargs)
        enc = Encoder(self, call)
        value = enc(result)
        answer = {"op": "return", "value": value, "sync": call.changes(enc),
                  "outs": len(call.outputs)}
        after = _rng()
        if not _same_rng(after, before):
            answer["rng"] = enc(after)
        if call.outputs:
            candidates = call.inputs() + call.produced
            uses = _used(call.outputs, candidates)
            answer["uses"] = uses
            self.next_call += 1
            self.graphs[self.next_call] = (call.outputs, [candidates[i] for i in uses])
            while len(self.graphs) > MAX_GRAPHS:
                self.graphs.popitem(last=False)
            answer["call"] = self.next_call
        return answer, enc.blobs

    def vjp(self, header: dict, blobs: list[bytes]):
        outputs, inputs = self.graphs.get(header["call"], (None, None))
        if outputs is None:
            raise RuntimeError("a backward pass through a student function whose graph the "
                               "sandbox no longer keeps (more than "
                               f"{MAX_GRAPHS} calls waiting for one)")
        dec = Decoder(self, Call(self, False), blobs)
        grads = dec(header["grads"])
        pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None]
        if pairs and inputs:
            got = torch.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                                      allow_unused=True, retain_graph=True)
        else:
            got = [None] * len(inputs)
        enc = Encoder(self, None)
        return {"op": "return", "value": enc(list(got))}, enc.blobs


def _used(outputs, candidates) -> list[int]:
    """Which of ``candidates`` (leaf tensors) the outputs' graph reaches."""
    index = {id(t): i for i, t in enumerate(candidates)}
    found, seen = set(), set()
    stack = [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None and id(variable) in index:
            found.add(index[id(variable)])
        stack += [n for n, _ in node.next_functions]
    return sorted(found)


def _rng():
    return (torch.random.get_rng_state(), np.random.get_state(), random.getstate())


def _same_rng(a, b) -> bool:
    return (torch.equal(a[0], b[0]) and a[1][0] == b[1][0] and a[1][2:] == b[1][2:]
            and np.array_equal(a[1][1], b[1][1]) and a[2] == b[2])


def _set_rng(state) -> None:
    if state is None:
        return
    torch_state, np_state, py_state = state
    if torch_state is not None:
        torch.random.set_rng_state(torch_state)
    if np_state is not None:
        np.random.set_state(np_state)
    if py_state is not None:
        random.setstate(py_state)


def describe_error(exc: BaseException) -> dict:
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "line": student_line(exc),
            "memory": is_out_of_memory(exc),
            "pruned": type(exc).__name__ == "TrialPruned",
            "traceback": "".join(traceback.format_exception(exc))[-4000:]}


def load(job: dict) -> tuple[dict, dict]:
    """The submission's functions over the lab's imports; what the grader is told of it."""
    from dlab.grading.submission import definitions

    namespace: dict = {"__name__": "__submission__"}
    report = {"op": "loaded", "errors": [], "missing": {}}
    try:
        exec(compile(job["imports"], "<lab imports>", "exec"), namespace)
    except Exception as exc:
        report["errors"].append({"kind": "exception", **describe_error(exc)})
    for source in job["classes"]:  # those that need the lab's state to be defined are left out
        try:
            exec(compile(source, "<lab classes>", "exec"), namespace)
        except Exception:
            pass
    script = Path(job["script"]).read_text(encoding="utf-8")
    try:
        codes, defined = definitions(script, SUBMISSION)
    except SyntaxError as exc:
        report["syntax_error"] = f"line {exc.lineno}: {exc.msg}"
        return namespace, report
    for code in codes:
        try:
            exec(code, namespace)
        except Exception as exc:  # e.g. an import of a module that does not exist
            kind = "memory" if is_out_of_memory(exc) else "exception"
            report["errors"].append({"kind": kind, **describe_error(exc)})
    for name in job["exercises"]:
        if not callable(namespace.get(name)):
            close = difflib.get_close_matches(name, defined, n=1, cutoff=0.6)
            report["missing"][name] = close[0] if close else None
    return namespace, report


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    sock = socket.socket(fileno=int(os.environ["DLAB_CHANNEL_FD"]))
    namespace, report = load(job)
    server = Server(sock, namespace, job["exercises"])
    server.peer.send({**report}, [])
    while True:
        try:
            header, blobs = server.peer.receive()
        except wire.ChannelClosed:
            return 0
        server.peer.send(*server.serve(header, blobs))


if __name__ == "__main__":
    sys.exit(main())

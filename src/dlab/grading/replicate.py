"""A torch module as data, and back: its class name, plain attributes, train/eval flag,
parameters, buffers and children. The grader rebuilds a student's model from this without
running the student's code: a class from ``torch.nn`` or the dlab library is instantiated
for real (its forward is trusted code); any other class becomes a stand-in whose forward is
computed in the sandbox (see :mod:`dlab.grading.remote`).
"""
from __future__ import annotations

import importlib

import torch
from torch import nn

from dlab.grading.wire import WireError

INTERNALS = set(vars(nn.Module())) | {"training"}
PLAIN = (type(None), bool, int, float, str, torch.dtype, torch.Size)
TRUSTED_PACKAGES = ("torch.nn.", "dlab.")
UNTRUSTED_PACKAGES = ("dlab.labs", "dlab.grading")


def _plain(value) -> bool:
    if isinstance(value, PLAIN):
        return True
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return all(_plain(v) for v in value)
    return False


def class_path(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _attrs(module: nn.Module, encode, plain_only: bool) -> dict:
    out = {}
    for k, v in vars(module).items():
        if k in INTERNALS or k.startswith("__") or (plain_only and not _plain(v)):
            continue
        try:
            out[k] = encode(v)
        except WireError:  # an attribute the other side cannot have (left out)
            continue
    return out


def describe(module: nn.Module, encode, handle=None, plain_only: bool = True) -> dict:
    """Encode ``module`` with the side's encoder. ``handle(module)`` may return an id under
    which the sending side keeps the object (the sandbox does, for the student's classes).
    The sandbox sends plain attributes only; the grader also sends the functions a module
    holds (they become callbacks)."""
    desc = {"$module": class_path(type(module)), "name": type(module).__name__,
            "training": bool(module.training),
            "attrs": _attrs(module, encode, plain_only),
            "params": {k: (None if p is None else encode(p))
                       for k, p in module._parameters.items()},
            "buffers": {k: (None if b is None else encode(b)) for k, b in module._buffers.items()},
            "persistent": [k for k in module._buffers
                           if k not in module._non_persistent_buffers_set],
            "children": {k: (None if c is None else encode(c))
                         for k, c in module._modules.items()}}
    if handle is not None:
        desc["handle"] = handle(module)
    return desc


def trusted_class(path: str):
    """The class named ``path`` if it is a module class of torch.nn or the dlab library, else
    None. Only modules of those packages are imported, and only if already importable."""
    if not isinstance(path, str) or not path.startswith(TRUSTED_PACKAGES) or path.startswith(
            UNTRUSTED_PACKAGES) or "<" in path:
        return None
    module_name, _, qualname = path.rpartition(".")
    while module_name:
        try:
            owner = importlib.import_module(module_name)
            break
        except ImportError:
            module_name, _, outer = module_name.rpartition(".")
            qualname = f"{outer}.{qualname}"
    else:
        return None
    obj = owner
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) and issubclass(obj, nn.Module) else None


def rebuild(desc: dict, decode, resolve, stand_in, made=None) -> nn.Module:
    """The module ``desc`` describes. ``resolve(path)`` gives the class to instantiate or
    None; then ``stand_in(desc, children)`` makes the object (the grader's remote module).
    ``made(tensor, parameter)`` is told of each parameter made from a decoded tensor."""
    try:
        cls = resolve(desc["$module"])
        children = {k: (None if c is None else decode(c)) for k, c in desc["children"].items()}
        params = {k: (None if p is None else decode(p)) for k, p in desc["params"].items()}
        buffers = {k: (None if b is None else decode(b)) for k, b in desc["buffers"].items()}
        attrs = {k: decode(v) for k, v in desc["attrs"].items()
                 if isinstance(k, str) and k not in INTERNALS and not k.startswith("__")}
        persistent = set(desc.get("persistent", buffers))
        training = bool(desc["training"])
    except (KeyError, TypeError, AttributeError):
        raise WireError("a malformed module description") from None
    if any(c is not None and not isinstance(c, nn.Module) for c in children.values()):
        raise WireError("a module child that is not a module")
    if any(not isinstance(t, (torch.Tensor, type(None))) for t in [*params.values(),
                                                                  *buffers.values()]):
        raise WireError("a module parameter that is not a tensor")
    if cls is None:
        module = stand_in(desc, children)
    else:
        module = cls.__new__(cls)
        nn.Module.__init__(module)
        for k, v in attrs.items():
            object.__setattr__(module, k, v)
    for k, p in params.items():
        param = None if p is None else nn.Parameter(p.detach(), requires_grad=p.requires_grad)
        module.register_parameter(k, param)
        if made is not None and param is not None:
            made(p, param)
    for k, b in buffers.items():
        module.register_buffer(k, b, persistent=k in persistent)
    for k, c in children.items():
        module.add_module(k, c)
    module.training = training
    if isinstance(module, nn.RNNBase):
        module._init_flat_weights()
    return module

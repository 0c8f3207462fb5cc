"""The training engine: ``Trainer.fit / evaluate / predict``.

The inner loop is the hand-written PyTorch loop (forward, loss, zero_grad, backward, step)
plus as little as possible: one ``loss.item()`` (cheap on CPU, and it lets the doctor catch a
NaN at the exact step), and callbacks that actually implement per-batch events.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Callable, Iterable

import torch
from rich.console import Console
from torch import nn

from dlab.data.batches import Batches
from dlab.engine import metrics as metrics_lib
from dlab.engine.callbacks import Callback, overrides
from dlab.engine.checkpoint import load_state, mismatches, save_state
from dlab.engine.history import History
from dlab.engine.progress import ProgressBar
from dlab.errors import CheckpointError, ConfigError
from dlab.runtime import (default_precision, resolve_precision, rng_state, select_device,
                          set_rng_state)

LOSSES = {
    "cross_entropy": nn.CrossEntropyLoss,
    "bce_with_logits": nn.BCEWithLogitsLoss,
    "mse": nn.MSELoss,
    "l1": nn.L1Loss,
}

_STATE_KEYS = {"epoch", "global_step", "model", "optimizer", "scaler", "callbacks", "history",
               "stop_training", "rng"}


def _as_batches(data, batch_size: int, shuffle: bool, seed: int):
    """Accept a ``(X, y)`` tuple, a ``Batches`` or any iterable of batches (e.g. a DataLoader)."""
    if isinstance(data, tuple) and all(isinstance(t, torch.Tensor) for t in data):
        return Batches(*data, batch_size=batch_size, shuffle=shuffle, seed=seed)
    if isinstance(data, Iterable):
        return data
    raise ConfigError(f"Training data must be a (X, y) tuple of tensors, a dlab Batches or a "
                      f"torch DataLoader; got {type(data).__name__}.")


def _default_optimizer(model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    """Adam, fused (one kernel for the whole update) where the device has that kernel."""
    try:
        return torch.optim.Adam(model.parameters(), fused=True)
    except (RuntimeError, TypeError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(model.parameters())


def _optimizer_mode(optimizer: torch.optim.Optimizer, mode: str) -> None:
    """Call ``optimizer.train()`` / ``optimizer.eval()`` when it has them: a schedule-free
    optimizer (``dlab.optim.ScheduleFreeAdamW``) trains at one point and evaluates at another,
    and switches with the model."""
    switch = getattr(optimizer, mode, None)
    if callable(switch):
        switch()


class Trainer:
    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                 loss: str | Callable = "cross_entropy", metrics=(), callbacks=(),
                 device: str | torch.device = "auto", precision: str | None = None,
                 channels_last: bool | None = None, setup_log: list | None = None,
                 grad_clip: float | None = None, doctor: bool = True, progress: bool = True,
                 console: Console | None = None, lang: str = "en"):
        if lang not in ("en", "es"):
            raise ConfigError(f"lang must be 'en' (English) or 'es' (Spanish), got {lang!r}. / "
                              f"lang debe ser 'en' (inglés) o 'es' (español); se recibió "
                              f"{lang!r}.")
        self.lang = lang  # language of the doctor's messages
        self.device = device if isinstance(device, torch.device) else select_device(device)
        # Precision and memory layout (see `resolve_precision`): convolutional models run
        # channels_last on CPU and CUDA, where oneDNN/cuDNN have their fastest kernels for it,
        # except GroupNorm models on CPU: its channels_last kernels measured 1.1–1.4× (fp32) and
        # 2.2–2.7× (bf16) slower than the contiguous ones here (benchmarks/memory_format.py).
        self.precision = resolve_precision(precision or default_precision(), self.device)
        if channels_last is None:
            kinds = {type(m) for m in model.modules()}
            channels_last = (self.device.type in ("cpu", "cuda")
                             and bool(kinds & {nn.Conv2d, nn.ConvTranspose2d})
                             and not (self.device.type == "cpu" and nn.GroupNorm in kinds))
        self.channels_last = channels_last
        self.model = model.to(self.device)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = optimizer or _default_optimizer(self.model, self.device)
        if isinstance(loss, str):
            if loss not in LOSSES:
                raise ConfigError(f"Unknown loss '{loss}'. Use one of {', '.join(LOSSES)} "
                                  "or pass a loss module/function.")
            loss = LOSSES[loss]()
        self.loss_fn = loss
        self.metrics = metrics_lib.resolve(metrics)
        self.console = console or Console()
        self.callbacks: list[Callback] = list(callbacks)
        if progress:
            self.callbacks.append(ProgressBar(self.console))
        self.grad_clip = grad_clip
        self.scaler = (torch.amp.GradScaler("cuda")
                       if self.precision == "fp16" and self.device.type == "cuda" else None)
        if setup_log is not None:  # what this trainer chose, for the run's record
            setup_log.append({"model": type(model).__name__, "precision": self.precision,
                              "memory_format": "channels_last" if channels_last else "contiguous",
                              "optimizer": type(self.optimizer).__name__,
                              "fused": bool(self.optimizer.defaults.get("fused"))})
        if doctor:
            from dlab.diagnostics.doctor import Doctor
            self.doctor = Doctor()
        else:
            self.doctor = None
        self.history = History()
        self.stop_training = False
        self.epoch = 0
        self.epochs = 0
        self.global_step = 0
        self.batch_in_epoch = 0
        self.steps_per_epoch = None

    # ------------------------------------------------------------------ helpers
    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.float16 if self.precision == "fp16" else torch.bfloat16
        return torch.autocast(self.device.type, dtype=dtype)

    def _to_device(self, batch):
        batch = tuple(t.to(self.device, non_blocking=True) for t in batch)
        if self.channels_last and batch[0].ndim == 4:
            batch = (batch[0].contiguous(memory_format=torch.channels_last), *batch[1:])
        return batch

    def warn(self, message: str) -> None:
        """Record a diagnosis in the history and show it once."""
        if message not in self.history.warnings:
            self.history.warnings.append(message)
            self.console.print(f"[yellow]⚠ {message}[/yellow]")

    def _fire(self, event: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(self, *args)

    # ------------------------------------------------------------------ fit
    def fit(self, train, val=None, epochs: int = 10, batch_size: int = 32, seed: int = 0,
            state_path: str | Path | None = None, resume: str | Path | None = None) -> History:
        """Train for ``epochs`` epochs. ``val`` adds ``val_loss`` and ``val_<metric>`` per epoch.

        ``state_path``: write the full training state there after every epoch (atomically).
        ``resume``: continue from such a file; the result equals an uninterrupted run."""
        if epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {epochs}")
        from dlab.diagnostics.doctor import check_fit_data
        check_fit_data(self, train, val)  # (X, y) with different row counts: explain, stop
        batches = _as_batches(train, batch_size, True, seed)
        self.train_batches = batches  # the doctor scans the whole set when it is in memory
        self.epochs = epochs
        self.steps_per_epoch = len(batches) if hasattr(batches, "__len__") else None
        if self.steps_per_epoch == 0:
            raise ConfigError("The training data gives no batch per epoch (empty, or fewer "
                              "samples than batch_size with drop_last=True); nothing would "
                              "be trained.")
        self.stop_training = False
        start_epoch = 1
        if resume is not None:
            start_epoch = self._load_training_state(resume) + 1
        if self.doctor is not None:
            # fork_rng: peeking at a batch (a DataLoader draws its shuffle seed from the global
            # RNG) must not change the random stream, or a resumed run would diverge.
            with torch.random.fork_rng(devices=[]):
                first = self._to_device(next(iter(batches)))
            self.doctor.before_fit(self, first)
        per_batch_begin = [cb for cb in self.callbacks if overrides(cb, "on_batch_begin")]
        per_batch_end = [cb for cb in self.callbacks if overrides(cb, "on_batch_end")]

        self._fire("on_fit_begin")
        try:
            for epoch in range(start_epoch, epochs + 1):
                if self.stop_training:
                    break
                self.epoch = epoch
                if hasattr(batches, "set_epoch"):
                    batches.set_epoch(epoch)
                self._fire("on_epoch_begin", epoch)
                logs = {"epoch": epoch, **self._train_epoch(batches, per_batch_begin, per_batch_end)}
                if val is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
                logs["lr"] = self.optimizer.param_groups[0]["lr"]
                self.history.epochs.append(logs)
                self._fire("on_epoch_end", epoch, logs)
                if self.doctor is not None:
                    self.doctor.after_epoch(self, logs)
                if state_path is not None:
                    self._save_training_state(state_path, epoch)
        finally:
            self._fire("on_fit_end")
        self.history.stopped_early = self.stop_training and self.epoch < epochs
        return self.history

    def _train_epoch(self, batches, per_batch_begin, per_batch_end) -> dict:
        model, opt, loss_fn = self.model, self.optimizer, self.loss_fn
        model.train()
        _optimizer_mode(opt, "train")
        total, count, grad_norms = 0.0, 0, []
        self.batch_in_epoch = 0
        for batch in batches:
            xb, yb = self._to_device(batch)
            for cb in per_batch_begin:
                cb.on_batch_begin(self, self.global_step)
            with self._autocast():
                loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.unscale_(opt)
            else:
                loss.backward()
            if self.grad_clip is not None:
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                grad_norms.append(float(norm))
            if self.scaler is not None:
                self.scaler.step(opt)
                self.scaler.update()
            else:
                opt.step()
            value = loss.item()
            if not math.isfinite(value) and self.doctor is not None:
                self.doctor.non_finite_loss(self, value, xb)
            n = xb.shape[0]
            total += value * n
            count += n
            self.global_step += 1
            self.batch_in_epoch += 1
            if per_batch_end:
                step_logs = {"loss": value}
                if self.grad_clip is not None:  # this step's gradient norm, before clipping
                    step_logs["grad_norm"] = grad_norms[-1]
                for cb in per_batch_end:
                    cb.on_batch_end(self, self.global_step, step_logs)
        logs = {"loss": total / max(count, 1)}
        if grad_norms:
            logs["grad_norm_mean"] = sum(grad_norms) / len(grad_norms)
            logs["grad_norm_max"] = max(grad_norms)
        return logs

    # ------------------------------------------------------------------ evaluate / predict
    @torch.no_grad()
    def predict(self, data, batch_size: int = 1024) -> torch.Tensor:
        """Raw model outputs (logits) for ``data``: a tensor X, a (X, y) tuple or a DataLoader."""
        if isinstance(data, torch.Tensor):
            data = (data,)
        outputs, _ = self._collect(data, batch_size)
        return outputs

    @torch.no_grad()
    def _collect(self, data, batch_size):
        self.model.eval()
        _optimizer_mode(self.optimizer, "eval")
        outs, targets = [], []
        for batch in _as_batches(data, batch_size, False, 0):
            batch = self._to_device(batch)
            with self._autocast():
                outs.append(self.model(batch[0]).float())
            if len(batch) > 1:
                targets.append(batch[1])
        return torch.cat(outs), (torch.cat(targets) if targets else None)

    @torch.no_grad()
    def evaluate(self, data, batch_size: int = 1024) -> dict:
        """``{"loss": ..., <metric>: ...}`` over the whole of ``data``."""
        outputs, targets = self._collect(data, batch_size)
        result = {"loss": float(self.loss_fn(outputs, targets))}
        for name, fn in self.metrics.items():
            # float(): a numpy scalar (what sklearn returns) in the history would make the
            # training state unloadable with torch.load(weights_only=True).
            result[name] = float(fn(outputs, targets))
        return result

    # ------------------------------------------------------------------ resume
    def _stateful_callbacks(self) -> list[Callback]:
        # The progress bar is display only: resuming with or without it must both work.
        return [cb for cb in self.callbacks if not isinstance(cb, ProgressBar)]

    def _save_training_state(self, path, epoch: int) -> None:
        save_state(path, {
            "epoch": epoch,
            "global_step": self.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "callbacks": [cb.state_dict() for cb in self._stateful_callbacks()],
            "history": self.history.state_dict(),
            "stop_training": self.stop_training,
            "rng": rng_state(),
        })

    def _load_training_state(self, path) -> int:
        state = load_state(path)
        missing = _STATE_KEYS - set(state) if isinstance(state, dict) else _STATE_KEYS
        if missing:
            raise CheckpointError(f"'{path}' is not a dlab training state (no "
                                  f"{', '.join(sorted(missing))}); pass the file written by "
                                  "fit(state_path=...).")
        callbacks = self._stateful_callbacks()
        if len(state["callbacks"]) != len(callbacks):
            raise CheckpointError(f"Training state '{path}' was saved with "
                                  f"{len(state['callbacks'])} callbacks, this trainer has "
                                  f"{len(callbacks)}; resume with the same setup.")
        # Checked before loading anything: a failed load_state_dict leaves the model half-loaded.
        problems = mismatches(self.model, state["model"])
        if problems:
            raise CheckpointError(f"Training state '{path}' does not match this model "
                                  f"({type(self.model).__name__}): {problems}. It belongs to "
                                  "another architecture; delete it or resume with the original "
                                  "setup.")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"Training state '{path}' does not match this model/optimizer "
                                  f"({str(exc).strip().splitlines()[-1].strip()}). Resume with "
                                  "the original model and optimizer, or delete it.") from None
        if self.scaler is not None and state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        for cb, cb_state in zip(callbacks, state["callbacks"]):
            cb.load_state_dict(cb_state)
        self.history.load_state_dict(state["history"])
        self.global_step = state["global_step"]
        self.epoch = state["epoch"]
        self.stop_training = state["stop_training"]
        set_rng_state(state["rng"])
        return state["epoch"]

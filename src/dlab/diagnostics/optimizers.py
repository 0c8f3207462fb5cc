"""Doctor checks about the optimizer's settings: mistakes the course's optimizer classes
(113 and 114) list as common. Both only warn: the run can go on, but it is probably not
what was meant.

Optimizers are recognised by class name, so the checks also cover other implementations
(``lion_pytorch.Lion``, ``schedulefree.AdamWScheduleFree``) besides ``dlab.optim``.
"""
from __future__ import annotations

from dlab.diagnostics.checks import Diagnosis, Probe
from dlab.engine.callbacks import LRScheduler

LION_MAX_LR = 1e-3  # AdamW's usual learning rate: 3-10 times too large for Lion


def check_lion_learning_rate(p: Probe) -> Diagnosis | None:
    """Lion moves every weight by the whole learning rate at every step (the sign of its
    update is ±1), so AdamW's usual 1e-3 makes steps far larger than AdamW's and the loss
    blows up."""
    optimizer = p.trainer.optimizer
    if type(optimizer).__name__ != "Lion":
        return None
    lr = max(group["lr"] for group in optimizer.param_groups)
    if lr < LION_MAX_LR:
        return None
    return Diagnosis(
        f"Lion with learning rate {lr:g}: Lion moves every weight by the whole learning rate "
        "at each step (its update is a sign, ±1), so a value that suits AdamW makes steps "
        "several times larger and training usually diverges. Fix: use a learning rate 3-10× "
        f"smaller than AdamW's (e.g. 1e-4 to 3e-4 where AdamW uses 1e-3) and a weight decay "
        "3-10× larger, so that lr × weight_decay stays the same.",
        f"Lion con tasa de aprendizaje {lr:g}: Lion mueve cada peso la tasa de aprendizaje "
        "completa en cada paso (su actualización es un signo, ±1), así que un valor adecuado "
        "para AdamW da pasos varias veces más grandes y el entrenamiento suele diverger. "
        "Solución: usa una tasa de 3 a 10 veces menor que la de AdamW (p. ej. 1e-4 a 3e-4 "
        "donde AdamW usa 1e-3) y un weight decay de 3 a 10 veces mayor, para que "
        "lr × weight_decay no cambie.")


def check_schedule_free_with_scheduler(p: Probe) -> Diagnosis | None:
    """A schedule-free optimizer replaces the learning-rate schedule by averaging its
    iterates; a scheduler on top of it decays the steps a second time."""
    optimizer = p.trainer.optimizer
    if "ScheduleFree" not in type(optimizer).__name__:
        return None
    names = [type(cb.scheduler).__name__ for cb in p.trainer.callbacks
             if isinstance(cb, LRScheduler) and cb.optimizer is optimizer]
    if not names:
        return None
    return Diagnosis(
        f"{type(optimizer).__name__} is driven by a learning-rate scheduler ({names[0]}). A "
        "schedule-free optimizer needs no schedule: averaging its iterates already does what "
        "a decaying learning rate does, and the scheduler shrinks the steps a second time. "
        "Fix: remove the LRScheduler callback; keep only the optimizer's own warmup "
        "(warmup_steps).",
        f"{type(optimizer).__name__} está controlado por un planificador de la tasa de "
        f"aprendizaje ({names[0]}). Un optimizador schedule-free no necesita calendario: "
        "promediar sus iterados ya hace lo que hace una tasa que decrece, y el planificador "
        "achica los pasos por segunda vez. Solución: quita el callback LRScheduler; deja solo "
        "el calentamiento propio del optimizador (warmup_steps).")


OPTIMIZER_CHECKS = [check_lion_learning_rate, check_schedule_free_with_scheduler]

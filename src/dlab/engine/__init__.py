"""Training engine: Trainer, History, callbacks, metrics, checkpoints."""
from dlab.engine.callbacks import (CSVLogger, Callback, EarlyStopping, LRScheduler,
                                   ModelCheckpoint, ReduceLROnPlateau, TensorBoardLogger)
from dlab.engine.checkpoint import load_weights, save_weights
from dlab.engine.history import History
from dlab.engine.progress import ProgressBar
from dlab.engine.trainer import Trainer

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "History", "LRScheduler", "ModelCheckpoint",
           "ProgressBar", "ReduceLROnPlateau", "TensorBoardLogger", "Trainer", "load_weights",
           "save_weights"]

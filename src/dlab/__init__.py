import os

__version__ = "0.1.0"

# Keras 3 runs on PyTorch here (its default, TensorFlow, is an extra): set before any lab
# imports keras; a KERAS_BACKEND the user chose is kept.
os.environ.setdefault("KERAS_BACKEND", "torch")
# TensorFlow (an extra) logs its C++ start-up notes to stderr; keep only its errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

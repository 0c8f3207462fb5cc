"""Sequence tools the sequence labs share: sliding windows over a series, a recurrent network
read at its last step, the gradient that flows back through time, a character-level language
model and sampling from it with a temperature."""
from dlab.sequences.bptt import gradient_through_time
from dlab.sequences.models import CharLanguageModel, RecurrentNet, remember_gate_bias
from dlab.sequences.sampling import generate, temperature_softmax
from dlab.sequences.windows import make_windows

__all__ = ["CharLanguageModel", "RecurrentNet", "generate", "gradient_through_time",
           "make_windows", "remember_gate_bias", "temperature_softmax"]

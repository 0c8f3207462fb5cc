# %% [markdown] lang="en"
# `tf.function` turns a Python function into a TensorFlow graph: the first call runs the Python
# code once with symbolic tensors (tracing) and records the operations; later calls run the
# recorded graph without the Python interpreter in the loop. AutoGraph rewrites `if` and `for`
# on tensors into graph operations on the way. This lab times a small training loop eagerly and
# under `tf.function`, counts traces to show what makes a function retrace, and looks at the
# code AutoGraph writes.

# %% [markdown] lang="es"
# `tf.function` convierte una función de Python en un grafo de TensorFlow: la primera llamada
# ejecuta el código Python una vez con tensores simbólicos (el trazado) y registra las
# operaciones; las llamadas siguientes ejecutan el grafo registrado sin el intérprete de Python
# en el bucle. De paso, AutoGraph reescribe los `if` y `for` sobre tensores como operaciones
# del grafo. Este laboratorio mide un pequeño bucle de entrenamiento en modo inmediato y con
# `tf.function`, cuenta los trazados para mostrar qué hace que una función se vuelva a trazar,
# y mira el código que escribe AutoGraph.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n: int = 100
    steps: int = 1000
    lr: float = 0.01

    def check(self):
        positive(n=self.n, steps=self.steps, lr=self.lr)


LAB = Lab(
    id="autograph",
    title_en="tf.function and AutoGraph: graph speed, retracing, tf.print",
    title_es="tf.function y AutoGraph: velocidad del grafo, retrazado, tf.print",
    source="Part 2 · class 120 (homework)",
    block="part2-frameworks",
    dataset="synthetic: y = X·[1, 2] + 3 + noise, X ~ N(0, 1) of shape (100, 2)",
    criteria=(
        Criterion("speedup", ">=", 2.0,
                  "1,000 training steps run ≥ 2× faster under tf.function than eagerly",
                  "1.000 pasos de entrenamiento corren ≥ 2× más rápido con tf.function que en "
                  "modo inmediato"),
        Criterion("same_result_both_ways", "is", True,
                  "Eager and tf.function end at the same w and b (≤ 1e-5)",
                  "El modo inmediato y tf.function terminan en los mismos w y b (≤ 1e-5)"),
        Criterion("python_scalar_retraces", "is", True,
                  "A new Python number as argument retraces (3 values → 3 traces)",
                  "Un número de Python nuevo como argumento vuelve a trazar (3 valores → 3 "
                  "trazados)"),
        Criterion("tensor_does_not_retrace", "is", True,
                  "Tensors of one shape and dtype reuse one trace (3 values → 1 trace)",
                  "Tensores de una misma forma y dtype reutilizan un trazado (3 valores → 1 "
                  "trazado)"),
        Criterion("autograph_rewrote_control_flow", "is", True,
                  "AutoGraph turned the function's Python `for` and `if` into graph "
                  "control flow",
                  "AutoGraph convirtió el `for` y el `if` de Python de la función en control "
                  "de flujo del grafo"),
    ),
    config=Config,
    quick={"steps": 300},
    timed=("speedup", "eager_seconds", "graph_seconds"),
    requires={"tensorflow": "tensorflow"},
)

# %% [markdown] lang="en"
# ## 1. One training step, eager and as a graph
# The homework's loop: linear regression with `tf.Variable`s and `GradientTape`, one step per
# call. Eagerly, every operation of every step goes through Python; wrapped in `tf.function`,
# the step is traced once and then replayed as a graph. The step gets its data as tensors, so
# one trace serves every call.

# %% [markdown] lang="es"
# ## 1. Un paso de entrenamiento, inmediato y como grafo
# El bucle de la tarea: regresión lineal con `tf.Variable` y `GradientTape`, un paso por
# llamada. En modo inmediato cada operación de cada paso pasa por Python; envuelto en
# `tf.function`, el paso se traza una vez y luego se repite como grafo. El paso recibe sus
# datos como tensores, así que un único trazado sirve para todas las llamadas.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

tf.random.set_seed(ctx.seed)


# %% exercise="fit_linear"
def fit_linear(X, y, steps: int, lr: float, compiled: bool):
    """[en] Fit `pred = X @ w + b` (`X` an (N, D) float32 array, `y` (N, 1)) by `steps` steps
    of gradient descent on the mean squared error, `w` starting at zeros (D, 1) and `b` at
    0.0, both `tf.Variable`s. Write one step as a function of the data tensors (GradientTape,
    then `assign_sub(lr * grad)`); when `compiled` is True wrap it with `tf.function` before
    the loop. Pass the data as tensors (`tf.constant`), never a Python number that changes
    from step to step. Return `(w, b, traces)`: the final `w` and `b`, and the step's
    `experimental_get_tracing_count()` (0 when not compiled).

    [es] Ajusta `pred = X @ w + b` (`X` un array float32 (N, D), `y` (N, 1)) con `steps`
    pasos de descenso de gradiente sobre el error cuadrático medio, con `w` empezando en ceros
    (D, 1) y `b` en 0.0, ambos `tf.Variable`. Escribe un paso como función de los tensores de
    datos (GradientTape y luego `assign_sub(lr * grad)`); si `compiled` es True, envuélvelo con
    `tf.function` antes del bucle. Pasa los datos como tensores (`tf.constant`), nunca un
    número de Python que cambie de paso en paso. Devuelve `(w, b, traces)`: los `w` y `b`
    finales, y el `experimental_get_tracing_count()` del paso (0 si no está compilado).
    """
    X, y = tf.constant(X, tf.float32), tf.constant(y, tf.float32)
    w, b = tf.Variable(tf.zeros((X.shape[1], 1))), tf.Variable(0.0)

    def step(X, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.matmul(X, w) + b - y) ** 2)
        dw, db = tape.gradient(loss, [w, b])
        w.assign_sub(lr * dw)
        b.assign_sub(lr * db)
        return loss

    if compiled:
        step = tf.function(step)
    for _ in range(steps):
        step(X, y)
    return w, b, step.experimental_get_tracing_count() if compiled else 0


# %% check
import numpy as np

from dlab.exercises import expect


def _descend(X, y, steps, lr):
    w, b = np.zeros((X.shape[1], 1)), 0.0
    for _ in range(steps):
        residual = X @ w + b - y
        w, b = w - lr * 2 * X.T @ residual / len(y), b - lr * 2 * float(residual.mean())
    return w, b


@ctx.check("fit_linear")
def descends_the_same_way_eager_and_compiled():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3)).astype("float32")
    y = (X @ np.array([[1.0], [-1.0], [0.5]]) + 2.0).astype("float32")
    w_ref, b_ref = _descend(X.astype("float64"), y.astype("float64"), 40, 0.05)
    for compiled in (False, True):
        result = fit_linear(X, y, 40, 0.05, compiled)
        expect.type(result, tuple, f"fit_linear(..., compiled={compiled})")
        expect.equal(len(result), 3, f"len(fit_linear(..., compiled={compiled}))")
        w, b, _ = result
        expect.close(np.asarray(w, dtype="float64"), w_ref,
                     f"w after 40 steps with compiled={compiled}", atol=1e-4)
        expect.close(float(np.asarray(b)), b_ref, f"b after 40 steps with compiled={compiled}",
                     atol=1e-4)


@ctx.check("fit_linear")
def traces_the_step_once():
    X = np.ones((8, 2), "float32")
    y = np.ones((8, 1), "float32")
    expect.equal(int(fit_linear(X, y, 5, 0.1, False)[2]), 0,
                 "traces of fit_linear(..., compiled=False)")
    traces = int(fit_linear(X, y, 5, 0.1, True)[2])
    expect.true(traces == 1,
                f"fit_linear(..., compiled=True) traced its step {traces} times in 5 steps; it "
                "should trace once. Wrap the step in tf.function once, before the loop, and "
                "pass it tensors, not Python numbers that change.",
                f"fit_linear(..., compiled=True) trazó su paso {traces} veces en 5 pasos; debe "
                "trazarlo una vez. Envuelve el paso en tf.function una sola vez, antes del "
                "bucle, y pásale tensores, no números de Python que cambien.")


# %%
rng = np.random.default_rng(ctx.seed)
X = rng.normal(size=(cfg.n, 2)).astype("float32")
y = (X @ np.array([[1.0], [2.0]]) + 3.0 + 0.1 * rng.normal(size=(cfg.n, 1))).astype("float32")
runs = {}
for compiled in (False, True):
    started = time.perf_counter()
    w, b, traces = fit_linear(X, y, cfg.steps, cfg.lr, compiled)
    runs[compiled] = {"seconds": time.perf_counter() - started, "traces": int(traces),
                      "w": np.asarray(w).ravel(), "b": float(np.asarray(b))}
eager_seconds, graph_seconds = runs[False]["seconds"], runs[True]["seconds"]
speedup = eager_seconds / graph_seconds
same_result_both_ways = bool(
    np.abs(runs[False]["w"] - runs[True]["w"]).max() <= 1e-5
    and abs(runs[False]["b"] - runs[True]["b"]) <= 1e-5)
ctx.table(["", ctx.t("seconds", "segundos"), ctx.t("traces", "trazados"), "w", "b"],
          [[name, runs[c]["seconds"], runs[c]["traces"], str(np.round(runs[c]["w"], 4)),
            runs[c]["b"]] for name, c in (("eager", False), ("tf.function", True))])

# %% [markdown] lang="en"
# ## 2. What makes a function retrace
# A trace is kept per *signature* of the arguments: for a tensor, its shape and dtype; for a
# Python value, the value itself. A Python side effect (here, appending to a list) runs only
# while tracing, so it counts traces. Calling with three Python floats traces three graphs;
# calling with three float32 tensors of the same shape traces one. `input_signature` fixes the
# signature ahead of time, so batches of different sizes share one trace too.

# %% [markdown] lang="es"
# ## 2. Qué hace que una función se vuelva a trazar
# Se guarda un trazado por cada *firma* de los argumentos: para un tensor, su forma y dtype;
# para un valor de Python, el valor mismo. Un efecto secundario de Python (aquí, añadir a una
# lista) solo ocurre al trazar, así que cuenta los trazados. Llamar con tres floats de Python
# traza tres grafos; llamar con tres tensores float32 de la misma forma traza uno.
# `input_signature` fija la firma de antemano, así que lotes de tamaños distintos también
# comparten un trazado.

# %%
traced = []


@tf.function
def scaled(x, factor):
    traced.append(factor)  # Python: runs while tracing only
    return x * factor


x = tf.ones((4,))
for factor in (1.0, 2.0, 3.0):
    scaled(x, factor)
python_traces = len(traced)
for factor in (1.0, 2.0, 3.0):
    scaled(x, tf.constant(factor))
tensor_traces = len(traced) - python_traces


@tf.function(input_signature=[tf.TensorSpec(shape=(None, 3), dtype=tf.float32)])
def row_sums(batch):
    return tf.reduce_sum(batch, axis=1)


for rows in (2, 5, 7):
    row_sums(tf.ones((rows, 3)))
signature_traces = row_sums.experimental_get_tracing_count()
python_scalar_retraces = python_traces == 3
tensor_does_not_retrace = tensor_traces == 1
ctx.table([ctx.t("calls", "llamadas"), ctx.t("traces", "trazados")],
          [["scaled(x, 1.0), scaled(x, 2.0), scaled(x, 3.0)", python_traces],
           ["scaled(x, tf.constant(1.0)) … tf.constant(3.0)", tensor_traces],
           ["row_sums(2 × 3), (5 × 3), (7 × 3) + input_signature (None, 3)",
            signature_traces]])

# %% [markdown] lang="en"
# ## 3. print and tf.print
# For the same reason, Python's `print` inside a `tf.function` shows up only while tracing,
# while `tf.print` is an operation of the graph and runs on every call. Three calls of one
# function that uses both (tf.print writes to a file here, so the lab can count its lines).

# %% [markdown] lang="es"
# ## 3. print y tf.print
# Por la misma razón, el `print` de Python dentro de una `tf.function` solo aparece al trazar,
# mientras que `tf.print` es una operación del grafo y corre en cada llamada. Tres llamadas a
# una función que usa los dos (aquí tf.print escribe en un archivo, para que el laboratorio
# pueda contar sus líneas).

# %%
import contextlib
import io
import tempfile
from pathlib import Path

graph_log = Path(tempfile.mkdtemp()) / "tf_print.txt"


@tf.function
def noisy_double(x):
    print("print: tracing noisy_double")
    tf.print("tf.print: running noisy_double", output_stream=f"file://{graph_log}")
    return 2 * x


python_printed = io.StringIO()
with contextlib.redirect_stdout(python_printed):
    for value in (1.0, 2.0, 3.0):
        noisy_double(tf.constant(value))
print_lines = len(python_printed.getvalue().splitlines())
tf_print_lines = len(graph_log.read_text().splitlines())
ctx.table([ctx.t("3 calls", "3 llamadas"), ctx.t("lines printed", "líneas impresas")],
          [["print", print_lines], ["tf.print", tf_print_lines]])

# %% [markdown] lang="en"
# ## 4. What AutoGraph writes
# A `for` over a tensor and an `if` on a tensor's value cannot run as Python during tracing
# (the value is not known yet). AutoGraph rewrites them into calls that build `tf.while_loop`
# and `tf.cond`; `tf.autograph.to_code` shows the rewritten function.

# %% [markdown] lang="es"
# ## 4. Lo que escribe AutoGraph
# Un `for` sobre un tensor y un `if` sobre el valor de un tensor no pueden correr como Python
# durante el trazado (el valor aún no se conoce). AutoGraph los reescribe como llamadas que
# construyen `tf.while_loop` y `tf.cond`; `tf.autograph.to_code` muestra la función reescrita.

# %%
def positive_sum(values):
    total = tf.constant(0.0)
    for v in values:
        if v > 0:
            total += v
    return total


generated = tf.autograph.to_code(positive_sum)
autograph_rewrote_control_flow = "ag__.for_stmt" in generated and "ag__.if_stmt" in generated
graph_sum = float(tf.function(positive_sum)(tf.constant([1.0, -2.0, 3.0, -4.0])))
ctx.console.print("\n".join(line for line in generated.splitlines()
                            if "_stmt(" in line or line.lstrip().startswith("def ")),
                  highlight=False, markup=False, soft_wrap=True)
ctx.table(["", ctx.t("value", "valor")],
          [["tf.function(positive_sum)([1, -2, 3, -4])", graph_sum],
           [ctx.t("to_code has for_stmt and if_stmt", "to_code tiene for_stmt e if_stmt"),
            autograph_rewrote_control_flow]])

# %%
fig, (times, traces) = plt.subplots(1, 2, figsize=(11, 4))
times.bar(["eager", "tf.function"], [eager_seconds, graph_seconds], color=["tab:gray", "tab:blue"])
times.set(ylabel=ctx.t("seconds", "segundos"),
          title=ctx.t(f"{cfg.steps} training steps", f"{cfg.steps} pasos de entrenamiento"))
traces.bar([ctx.t("3 Python floats", "3 floats de Python"), ctx.t("3 tensors", "3 tensores"),
            ctx.t("3 batch sizes\n+ input_signature", "3 tamaños de lote\n+ input_signature")],
           [python_traces, tensor_traces, signature_traces], color="tab:orange")
traces.set(ylabel=ctx.t("traces", "trazados"))
ctx.figure("graph_speed_and_traces", fig)

# %%
ctx.finish({
    "eager_seconds": eager_seconds,
    "graph_seconds": graph_seconds,
    "speedup": speedup,
    "same_result_both_ways": same_result_both_ways,
    "graph_traces": runs[True]["traces"],
    "python_traces": python_traces,
    "tensor_traces": tensor_traces,
    "signature_traces": int(signature_traces),
    "python_scalar_retraces": python_scalar_retraces,
    "tensor_does_not_retrace": tensor_does_not_retrace,
    "print_lines": print_lines,
    "tf_print_lines": tf_print_lines,
    "autograph_rewrote_control_flow": autograph_rewrote_control_flow,
    "positive_sum": graph_sum,
})

# %% [markdown] lang="en"
# requires_grad gives the same derivative as the chain rule on paper. backward() adds to .grad,
# so a loop that never clears it stops converging. A small numpy engine reproduces torch's
# gradients on a small network, draws the graph it walks backwards, and trains a classifier on
# the moons.

# %% [markdown] lang="es"
# requires_grad da la misma derivada que la regla de la cadena en papel. backward() suma en
# .grad, así que un bucle que nunca lo limpia deja de converger. Un pequeño motor en numpy
# reproduce los gradientes de torch en una red pequeña, dibuja el grafo que recorre hacia
# atrás y entrena un clasificador en las lunas.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    x: float = 2.0  # where to differentiate y = x² + 3x + 1
    sgd_lr: float = 0.1
    sgd_steps: int = 100
    scratch_hidden: int = 16
    scratch_lr: float = 1.0
    scratch_steps: int = 300

    def check(self):
        positive(sgd_lr=self.sgd_lr, sgd_steps=self.sgd_steps, scratch_hidden=self.scratch_hidden,
                 scratch_lr=self.scratch_lr, scratch_steps=self.scratch_steps)


LAB = Lab(
    id="autograd",
    title_en="Autograd: by hand, by torch, from scratch",
    title_es="Autograd: a mano, con torch y desde cero",
    source="Stage 2 · session 2",
    block="stage2",
    dataset="y = x² + 3x + 1; a noisy line (50 points); moons (sklearn make_moons, noise=0.2)",
    criteria=(
        Criterion("grad_abs_error", "<=", 1e-9,
                  "dy/dx at x = 2: autograd equals the hand derivative 2x + 3 = 7 (|error| ≤ 1e-9)",
                  "dy/dx en x = 2: autograd igual a la derivada a mano 2x + 3 = 7 "
                  "(|error| ≤ 1e-9)"),
        Criterion("accumulation_ratio", "between", (2 - 1e-9, 2 + 1e-9),
                  "Two backward() calls without zeroing give twice the gradient",
                  "Dos llamadas a backward() sin poner a cero dan el doble de gradiente"),
        Criterion("forgot_zero_grad_loss_ratio", ">=", 10,
                  "SGD that forgets zero_grad ends with ≥ 10× the loss of correct SGD",
                  "SGD que olvida zero_grad termina con ≥ 10× la pérdida del SGD correcto"),
        Criterion("scratch_vs_torch_max_grad_diff", "<=", 1e-6,
                  "Scratch engine matches torch on a 2-layer net (max |grad diff| ≤ 1e-6)",
                  "El motor desde cero coincide con torch en una red de 2 capas "
                  "(máx |dif. de gradiente| ≤ 1e-6)"),
        Criterion("scratch_moons_test_accuracy", ">=", 0.95,
                  "2-layer net trained with the scratch engine: moons test accuracy ≥ 0.95",
                  "Red de 2 capas entrenada con el motor desde cero: exactitud en test ≥ 0.95"),
    ),
    config=Config,
    quick={"sgd_steps": 30, "scratch_steps": 30},
)

# %% [markdown] lang="en"
# ## 1. One derivative, two ways
# On paper, y = x² + 3x + 1 has derivative dy/dx = 2x + 3. In torch, a tensor created with
# `requires_grad=True` records every operation applied to it; `y.backward()` walks that record
# backwards with the chain rule and leaves dy/dx in `x.grad`. This whole lab works in float64:
# we compare numbers to 1e-9, beyond float32's ~1e-7.

# %% [markdown] lang="es"
# ## 1. Una derivada, de dos maneras
# En papel, y = x² + 3x + 1 tiene derivada dy/dx = 2x + 3. En torch, un tensor creado con
# `requires_grad=True` registra cada operación que se le aplica; `y.backward()` recorre ese
# registro hacia atrás con la regla de la cadena y deja dy/dx en `x.grad`. Todo este
# laboratorio trabaja en float64: comparamos números hasta 1e-9, más allá de los ~1e-7 de
# float32.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.data import load
from dlab.scratch import Tensor, draw_graph
from dlab.scratch import mlp as scratch_mlp


# %% exercise="derivative"
def derivative(f, x: float) -> float:
    """[en] Return df/dx at the point `x`, computed by torch autograd, as a Python float.
    `f` is a function that takes a torch tensor and returns a tensor with one value (for
    example `lambda t: t**2 + 3*t + 1` or `lambda t: torch.sin(t) * t`). Create a float64
    tensor holding `x` with `requires_grad=True`, apply `f`, call `.backward()` on the result
    and read the gradient of your tensor. Do not derive anything by hand.

    [es] Devuelve df/dx en el punto `x`, calculada por el autograd de torch, como un float de
    Python. `f` es una función que recibe un tensor de torch y devuelve un tensor con un
    valor (por ejemplo `lambda t: t**2 + 3*t + 1` o `lambda t: torch.sin(t) * t`). Crea un
    tensor float64 con `x` y `requires_grad=True`, aplícale `f`, llama a `.backward()` sobre
    el resultado y lee el gradiente de tu tensor. No derives nada a mano.
    """
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    f(t).backward()
    return float(t.grad)


# %% check
import math

import torch

from dlab.exercises import expect


@ctx.check("derivative")
def returns_a_float_equal_to_the_hand_derivative():
    value = derivative(lambda t: t**3, 2.0)
    expect.type(value, float, "derivative(lambda t: t**3, 2.0)")
    expect.close(value, 12.0, "derivative(lambda t: t**3, 2.0), which is 3·2² on paper",
                 atol=1e-12)


@ctx.check("derivative")
def follows_the_chain_rule_in_float64():
    value = derivative(lambda t: torch.sin(t) * t, 0.7)
    expected = math.sin(0.7) + 0.7 * math.cos(0.7)  # product rule: sin t + t cos t
    expect.close(value, expected, "derivative(lambda t: torch.sin(t) * t, 0.7)", atol=1e-5)
    gap = abs(value - expected)
    expect.true(gap <= 1e-12,
                f"derivative(lambda t: torch.sin(t) * t, 0.7) is off by {gap:.1e}: float32 "
                "round-off. Create the tensor with dtype=torch.float64.",
                f"derivative(lambda t: torch.sin(t) * t, 0.7) se desvía en {gap:.1e}: redondeo "
                "de float32. Crea el tensor con dtype=torch.float64.")



# %%
by_hand = 2 * cfg.x + 3  # d/dx (x² + 3x + 1) = 2x + 3
autograd_grad = derivative(lambda t: t**2 + 3 * t + 1, cfg.x)
ctx.table(["x", "y = x² + 3x + 1", ctx.t("dy/dx by hand (2x + 3)", "dy/dx a mano (2x + 3)"),
           ctx.t("dy/dx by autograd", "dy/dx con autograd")],
          [[cfg.x, cfg.x**2 + 3 * cfg.x + 1, by_hand, autograd_grad]])

# %% [markdown] lang="en"
# ## 2. `.grad` accumulates
# Run the forward and the backward pass twice on the same tensor, without clearing its
# gradient in between (each backward frees its graph, so the forward is recomputed):

# %% [markdown] lang="es"
# ## 2. `.grad` se acumula
# Hacemos dos veces el forward y el backward sobre el mismo tensor, sin limpiar su gradiente
# entre medio (cada backward libera su grafo, así que el forward se recalcula):

# %%
x = torch.tensor(cfg.x, dtype=torch.float64, requires_grad=True)
for _ in range(2):
    y = x**2 + 3 * x + 1
    y.backward()
accumulation_ratio = float(x.grad) / autograd_grad
ctx.table([ctx.t("x.grad after two backward()", "x.grad tras dos backward()"),
           ctx.t("true derivative", "derivada verdadera"), ctx.t("ratio", "cociente")],
          [[float(x.grad), autograd_grad, accumulation_ratio]])

# %% [markdown] lang="en"
# torch adds each new gradient to `.grad` on purpose (it lets you sum gradients over several
# mini-batches or losses), so clearing it between training steps is your job. What forgetting
# costs: fit y = 2x + 1 (plus noise, 50 points) by gradient descent, with and without zeroing.

# %% [markdown] lang="es"
# torch suma cada gradiente nuevo a `.grad` a propósito (permite acumular gradientes de varios
# mini-lotes o pérdidas), así que limpiarlo entre pasos de entrenamiento es tarea nuestra. Lo
# que cuesta olvidarlo: ajustamos y = 2x + 1 (más ruido, 50 puntos) por descenso de gradiente,
# con y sin poner a cero.

# %% exercise="fit_line"
def fit_line(xs: torch.Tensor, ys: torch.Tensor, lr: float, steps: int,
             zero_grad: bool = True) -> list:
    """[en] Fit ŷ = w·x + b to the points (xs, ys) (float64 tensors of shape (n,)) by
    gradient descent on the MSE loss mean((w·xs + b - ys)²), with autograd and without
    torch.optim. Start from w = b = 0: float64 tensors of shape (1,) with
    `requires_grad=True`. Each of the `steps` steps: compute the loss; if `zero_grad` is
    True, clear the old gradients (`w.grad = None`, same for b); call `loss.backward()`;
    then, inside `torch.no_grad()`, update in place w -= lr·w.grad and b -= lr·b.grad.
    Return the list of the `steps` losses (`loss.item()`, each measured before its update).
    With `zero_grad=False`, never clear the gradients: that is the bug the lab measures.

    [es] Ajusta ŷ = w·x + b a los puntos (xs, ys) (tensores float64 de forma (n,)) por
    descenso de gradiente sobre la pérdida MSE mean((w·xs + b - ys)²), con autograd y sin
    torch.optim. Empieza con w = b = 0: tensores float64 de forma (1,) con
    `requires_grad=True`. En cada uno de los `steps` pasos: calcula la pérdida; si
    `zero_grad` es True, borra los gradientes anteriores (`w.grad = None`, igual con b);
    llama a `loss.backward()`; luego, dentro de `torch.no_grad()`, actualiza en el lugar
    w -= lr·w.grad y b -= lr·b.grad. Devuelve la lista de las `steps` pérdidas
    (`loss.item()`, cada una medida antes de su actualización). Con `zero_grad=False` no
    borres nunca los gradientes: ese es el error que mide el laboratorio.
    """
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((w * xs + b - ys) ** 2).mean()
        if zero_grad:
            w.grad, b.grad = None, None
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        losses.append(loss.item())
    return losses


# %% check
import torch

from dlab.exercises import expect


def _descent_by_hand(xs, ys, lr, steps, zero_grad):
    """The same descent with the MSE gradients written out: dL/dw = mean(2 r x),
    dL/db = mean(2 r), with r = w x + b - y. Without zeroing, .grad holds their running sum."""
    xs, ys = xs.tolist(), ys.tolist()
    n, w, b, gw, gb, losses = len(xs), 0.0, 0.0, 0.0, 0.0, []
    for _ in range(steps):
        r = [w * x + b - y for x, y in zip(xs, ys)]
        losses.append(sum(v * v for v in r) / n)
        if zero_grad:
            gw, gb = 0.0, 0.0
        gw += sum(2 * v * x for v, x in zip(r, xs)) / n
        gb += sum(2 * v for v in r) / n
        w, b = w - lr * gw, b - lr * gb
    return losses


_XS = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=torch.float64)
_YS = torch.tensor([-1.2, 0.1, 0.9, 2.2, 2.9], dtype=torch.float64)


@ctx.check("fit_line")
def returns_one_loss_per_step_starting_at_zero_weights():
    losses = fit_line(_XS, _YS, 0.1, 4)
    expect.type(losses, list, "fit_line(xs, ys, 0.1, 4)")
    expect.equal(len(losses), 4, "len(fit_line(xs, ys, 0.1, 4))")
    # With w = b = 0 the first loss is mean(ys²).
    expect.close(losses[0], float((_YS**2).mean()), "fit_line(...)[0], the loss at w = b = 0")


@ctx.check("fit_line")
def matches_gradient_descent_by_hand():
    expect.close(fit_line(_XS, _YS, 0.1, 6), _descent_by_hand(_XS, _YS, 0.1, 6, True),
                 "fit_line(xs, ys, 0.1, 6), the loss of each step")


@ctx.check("fit_line")
def without_zero_grad_the_gradients_pile_up():
    expect.close(fit_line(_XS, _YS, 0.1, 6, zero_grad=False),
                 _descent_by_hand(_XS, _YS, 0.1, 6, False),
                 "fit_line(xs, ys, 0.1, 6, zero_grad=False), the loss of each step (the "
                 "gradients add up from step to step)")


# %%
gen = torch.Generator().manual_seed(ctx.seed)
xs = torch.linspace(-1, 1, 50, dtype=torch.float64)
ys = 2 * xs + 1 + 0.1 * torch.randn(50, generator=gen, dtype=torch.float64)

zeroed = fit_line(xs, ys, cfg.sgd_lr, cfg.sgd_steps, zero_grad=True)
forgot = fit_line(xs, ys, cfg.sgd_lr, cfg.sgd_steps, zero_grad=False)
# Mean of the last 10 steps: the forgetful loop oscillates, one step could land anywhere.
tail = min(10, cfg.sgd_steps)
zeroed_loss, forgot_loss = np.mean(zeroed[-tail:]), np.mean(forgot[-tail:])

fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.semilogy(zeroed, label=ctx.t("zero_grad every step", "zero_grad en cada paso"))
ax.semilogy(forgot, label=ctx.t("never zeroed", "nunca a cero"))
ax.set_xlabel(ctx.t("SGD step", "paso de SGD"))
ax.set_ylabel("MSE")
ax.grid(alpha=0.3)
ax.legend(loc="lower left")
ctx.figure("forgot_zero_grad", fig)
ctx.table([ctx.t("gradients", "gradientes"),
           ctx.t(f"mean loss, last {tail} steps", f"pérdida media, últimos {tail} pasos")],
          [[ctx.t("cleared every step", "borrados en cada paso"), zeroed_loss],
           [ctx.t("never cleared", "nunca borrados"), forgot_loss],
           [ctx.t("ratio", "cociente"), forgot_loss / zeroed_loss]])

# %% [markdown] lang="en"
# Without zeroing, each step uses the sum of every gradient so far: the parameters overshoot
# and swing around the minimum instead of settling. The stale sum behaves like momentum that
# never decays: the loop keeps its speed long after the slope has changed sign.

# %% [markdown] lang="es"
# Sin poner a cero, cada paso usa la suma de todos los gradientes anteriores: los parámetros
# se pasan de largo y oscilan alrededor del mínimo en vez de asentarse. La suma vieja actúa
# como un momentum que nunca se apaga: el bucle conserva su velocidad mucho después de que la
# pendiente cambió de signo.

# %% [markdown] lang="en"
# ## 3. Backprop is a walk through a graph
# `dlab.scratch.Tensor` is a small autograd engine on numpy arrays. Every operation creates a
# new Tensor that remembers its inputs (`_prev`) and a `_backward` function that applies the
# chain rule for that one operation: it reads the node's own `.grad` (dL/dnode) and adds
# dL/dinput to the `.grad` of each input. Backpropagation is then just the right order of
# calls: start at the output with gradient 1 and call `_backward` of every node only once the
# gradient of that node is complete, that is, after every node that uses it.

# %% [markdown] lang="es"
# ## 3. La retropropagación es un recorrido de un grafo
# `dlab.scratch.Tensor` es un pequeño motor de autograd sobre arreglos de numpy. Cada
# operación crea un Tensor nuevo que recuerda sus entradas (`_prev`) y una función
# `_backward` que aplica la regla de la cadena para esa sola operación: lee el `.grad` del
# propio nodo (dL/dnodo) y suma dL/dentrada al `.grad` de cada entrada. La retropropagación
# es entonces solo el orden correcto de llamadas: empezar en la salida con gradiente 1 y
# llamar al `_backward` de cada nodo solo cuando su gradiente está completo, es decir, después
# de todos los nodos que lo usan.

# %% exercise="backward"
def backward(root: Tensor) -> None:
    """[en] Fill the `.grad` of every Tensor that `root` depends on with d root / d tensor,
    for a freshly built graph of `dlab.scratch.Tensor` nodes (every `.grad` starts at zero).
    1) List the nodes in topological order, each after all of its inputs: a depth-first
    search from `root` that visits `node._prev` first and then appends the node, with a set
    of visited `id(node)` so that a node reached by two paths is listed only once.
    2) Set `root.grad = np.ones_like(root.data)`. 3) Call `node._backward()` for every node
    in reverse order (from `root` back to the inputs). Write the traversal yourself: do not
    call `root.backward()` nor `dlab.scratch.topo_sort`.

    [es] Llena el `.grad` de cada Tensor del que depende `root` con d root / d tensor, para
    un grafo recién construido de nodos `dlab.scratch.Tensor` (todo `.grad` empieza en cero).
    1) Lista los nodos en orden topológico, cada uno después de todas sus entradas: una
    búsqueda en profundidad desde `root` que visita primero `node._prev` y luego agrega el
    nodo, con un conjunto de `id(node)` visitados para que un nodo al que se llega por dos
    caminos aparezca una sola vez. 2) Pon `root.grad = np.ones_like(root.data)`. 3) Llama a
    `node._backward()` para cada nodo en orden inverso (desde `root` hacia las entradas).
    Escribe tú el recorrido: no llames a `root.backward()` ni a `dlab.scratch.topo_sort`.
    """
    order, visited = [], set()

    def visit(node):
        if id(node) in visited:
            return
        visited.add(id(node))
        for child in node._prev:
            visit(child)
        order.append(node)

    visit(root)
    root.grad = np.ones_like(root.data)
    for node in reversed(order):
        node._backward()


# %% check
import numpy as np
import torch

from dlab.exercises import expect
from dlab.scratch import Tensor


@ctx.check("backward")
def neuron_and_matrix_gradients_match_torch():
    values = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.88}
    ours = {k: Tensor(v) for k, v in values.items()}
    backward((ours["x1"] * ours["w1"] + ours["x2"] * ours["w2"] + ours["b"]).tanh())
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in values.items()}
    (theirs["x1"] * theirs["w1"] + theirs["x2"] * theirs["w2"] + theirs["b"]).tanh().backward()
    for k in values:
        expect.close(ours[k].grad, theirs[k].grad, f"{k}.grad after backward(tanh(x1·w1 + "
                     "x2·w2 + b))")
    rng = np.random.default_rng(0)
    X, W, c = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    ours = [Tensor(a) for a in (X, W, c)]
    backward(((ours[0] @ ours[1] + ours[2]).tanh() ** 2).mean())
    theirs = [torch.tensor(a, requires_grad=True) for a in (X, W, c)]
    ((theirs[0] @ theirs[1] + theirs[2]).tanh() ** 2).mean().backward()
    for name, t, r in zip(("X", "W", "c"), ours, theirs):
        expect.close(t.grad, r.grad, f"{name}.grad after backward(mean(tanh(X @ W + c)²))")


@ctx.check("backward")
def a_node_waits_for_all_of_its_gradients():
    # a feeds both b = 3a and the output a + b: a's grad is 1 + 3 = 4 only once both arrived,
    # and x's grad is then 2 · 4 = 8. Calling a._backward() too early gives x a smaller grad.
    x = Tensor(1.5)
    a = x * 2
    b = a * 3
    backward(a + b)
    expect.close(a.grad, 4.0, "a.grad for out = a + 3a, a = 2x")
    expect.close(x.grad, 8.0, "x.grad for out = a + 3a, a = 2x: propagate a only after both "
                 "of its uses")


@ctx.check("backward")
def a_node_reached_twice_is_propagated_once():
    # out = a + a with a = x²: d out/dx = 2 · 2x = 12 at x = 3. Calling a._backward() twice
    # (no visited set) gives 24.
    x = Tensor(3.0)
    a = x**2
    backward(a + a)
    expect.close(x.grad, 12.0, "x.grad for out = a + a, a = x², x = 3 (each node's _backward "
                 "must run once)")


# %% [markdown] lang="en"
# The same small network on both engines: 8 samples with 3 features, a hidden layer of 4 tanh
# units, 2 outputs, and the loss mean((tanh(X W1 + b1) W2 + b2 - T)²), in float64. b1 (4,) is
# broadcast over the 8 rows, so its gradient must be summed over them: the case a naive engine
# gets wrong. Our gradients come from your `backward`, torch's from `loss.backward()`.

# %% [markdown] lang="es"
# La misma red pequeña en los dos motores: 8 muestras con 3 variables, una capa oculta de 4
# unidades tanh, 2 salidas y la pérdida mean((tanh(X W1 + b1) W2 + b2 - T)²), en float64. b1
# (4,) se difunde (broadcast) sobre las 8 filas, así que su gradiente debe sumarse sobre ellas:
# el caso en que un motor ingenuo se equivoca. Nuestros gradientes salen de tu `backward`, los
# de torch de `loss.backward()`.

# %%
rng = np.random.default_rng(ctx.seed)
X, T = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))  # 8 samples, 3 features, 2 targets
arrays = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
          "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}


def net_loss(X, T, p):  # runs unchanged on both engines
    hidden = (X @ p["W1"] + p["b1"]).tanh()
    return ((hidden @ p["W2"] + p["b2"] - T) ** 2).mean()


ours = {k: Tensor(v, label=k) for k, v in arrays.items()}
ours_loss = net_loss(Tensor(X), Tensor(T), ours)
backward(ours_loss)
theirs = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
theirs_loss = net_loss(torch.tensor(X), torch.tensor(T), theirs)
theirs_loss.backward()
diffs = {k: float(np.abs(ours[k].grad - theirs[k].grad.numpy()).max()) for k in arrays}
max_grad_diff = max(diffs.values())
ctx.table([ctx.t("parameter", "parámetro"), ctx.t("shape", "forma"), "max |scratch - torch|"],
          [[k, str(arrays[k].shape), diffs[k]] for k in arrays])

# %% [markdown] lang="en"
# The graph of section 1, built by the scratch engine and differentiated by your `backward`:
# values in boxes, operations in circles. Each box holds its value (data) and dy/d(that value)
# (grad). x has two paths to y, and its grad is the sum of both.

# %% [markdown] lang="es"
# El grafo de la sección 1, construido por el motor desde cero y derivado por tu `backward`:
# valores en cajas, operaciones en círculos. Cada caja guarda su valor (data) y dy/d(ese
# valor) (grad). x llega a y por dos caminos, y su grad es la suma de ambos.

# %%
x_node = Tensor(cfg.x, label="x")
y_node = x_node**2 + 3 * x_node + 1
y_node.label = "y"
backward(y_node)
ctx.figure("graph_polynomial", draw_graph(y_node))

# %% [markdown] lang="en"
# One neuron, tanh(w1·x1 + w2·x2 + b). Read it right to left: backward starts at the output
# with grad 1 and multiplies by one local derivative per circle.

# %% [markdown] lang="es"
# Una neurona, tanh(w1·x1 + w2·x2 + b). Se lee de derecha a izquierda: backward empieza en la
# salida con grad 1 y multiplica por una derivada local en cada círculo.

# %%
w1, w2, x1, x2, b = (Tensor(v, label=n) for v, n in
                     ((-3.0, "w1"), (1.0, "w2"), (2.0, "x1"), (0.0, "x2"), (6.88, "b")))
neuron = (x1 * w1 + x2 * w2 + b).tanh()
neuron.label = "tanh(w·x + b)"
backward(neuron)
ctx.figure("graph_neuron", draw_graph(neuron))

# %% [markdown] lang="en"
# ## 4. A real classifier with nothing but the scratch engine
# A 2-16-2 ReLU network on the moons, trained by full-batch gradient descent on the
# cross-entropy: every gradient of every step comes from your `backward`.

# %% [markdown] lang="es"
# ## 4. Un clasificador de verdad solo con el motor desde cero
# Una red ReLU 2-16-2 en las lunas, entrenada por descenso de gradiente con el lote completo
# sobre la entropía cruzada: cada gradiente de cada paso sale de tu `backward`.

# %%
data = load("moons", n_samples=1000, noise=0.2, seed=ctx.seed)
X_train, y_train = data.train[0].double().numpy(), data.train[1].numpy()
params = scratch_mlp.init_params(2, cfg.scratch_hidden, 2, seed=ctx.seed)
losses = scratch_mlp.train(params, X_train, y_train, lr=cfg.scratch_lr, steps=cfg.scratch_steps,
                           backward=backward)
val_acc = float(np.mean(scratch_mlp.predict(params, data.val[0].double().numpy())
                        == data.val[1].numpy()))
test_acc = float(np.mean(scratch_mlp.predict(params, data.test[0].double().numpy())
                         == data.test[1].numpy()))
ctx.table([ctx.t("network", "red"), ctx.t("steps", "pasos"), "lr",
           ctx.t("training loss", "pérdida de entrenamiento"),
           ctx.t("validation accuracy", "exactitud en validación"),
           ctx.t("test accuracy", "exactitud en test")],
          [[f"2-{cfg.scratch_hidden}-2 ReLU", cfg.scratch_steps, cfg.scratch_lr, losses[-1],
            val_acc, test_acc]])

# %%
ctx.finish({
    "manual_grad": by_hand,
    "autograd_grad": autograd_grad,
    "grad_abs_error": abs(autograd_grad - by_hand),
    "accumulation_ratio": accumulation_ratio,
    "zeroed_final_loss": float(zeroed_loss),
    "forgot_final_loss": float(forgot_loss),
    "forgot_zero_grad_loss_ratio": float(forgot_loss / zeroed_loss),
    "scratch_vs_torch_max_grad_diff": max_grad_diff,
    "scratch_vs_torch_loss_diff": abs(float(ours_loss.data) - theirs_loss.item()),
    "scratch_moons_final_loss": losses[-1],
    "scratch_moons_val_accuracy": val_acc,
    "scratch_moons_test_accuracy": test_acc,
})

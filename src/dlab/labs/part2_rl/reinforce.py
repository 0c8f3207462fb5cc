# %% [markdown] lang="en"
# A policy network learns to balance the pole from its own trials: REINFORCE plays an
# episode, then makes the actions that were followed by a high return more likely. The same
# network is trained twice from the same start, without and with a learned value baseline;
# the baseline tells the update how much better than *expected* each return was, which
# cuts the noise of the gradient, and it reaches CartPole's classic "solved" line (a mean
# return of 195 over 100 episodes) well before 300 episodes.

# %% [markdown] lang="es"
# Una red de política aprende a equilibrar el palo con sus propios intentos: REINFORCE juega
# un episodio y después hace más probables las acciones que fueron seguidas de un retorno
# alto. La misma red se entrena dos veces desde el mismo punto de partida, sin y con una línea
# base de valor aprendida; la línea base le dice a la actualización cuánto mejor de lo
# *esperado* fue cada retorno, lo que reduce el ruido del gradiente, y alcanza la línea
# clásica de "resuelto" de CartPole (retorno medio de 195 en 100 episodios) mucho antes de 300
# episodios.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    episodes: int = 500     # per variant, as the course asks
    hidden: int = 64        # Dense(64) → Dense(64) → Dense(2)
    gamma: float = 0.99
    lr: float = 5e-3        # Adam, policy network (1e-2 collapses to one action on some seeds)
    value_lr: float = 1e-2  # Adam, value network of the baseline
    window: int = 100       # moving average that defines "solved"
    solved: float = 195.0   # CartPole-v0's line; v1's is 475 (reported too)

    def check(self):
        positive(episodes=self.episodes, hidden=self.hidden, gamma=self.gamma, lr=self.lr,
                 value_lr=self.value_lr, window=self.window, solved=self.solved)


LAB = Lab(
    id="reinforce",
    title_en="REINFORCE on CartPole-v1, with and without a value baseline",
    title_es="REINFORCE en CartPole-v1, con y sin línea base de valor",
    source="Part 2 · class 162 (homework)",
    block="part2-rl",
    dataset="Gymnasium CartPole-v1 (episodes and action sampling seeded from the run's seed)",
    criteria=(
        Criterion("baseline_episodes_to_solved", "<=", 300,
                  "REINFORCE with baseline: the mean return over the last 100 episodes reaches "
                  "195 within 300 episodes",
                  "REINFORCE con línea base: el retorno medio de los últimos 100 episodios "
                  "llega a 195 en 300 episodios o menos"),
        Criterion("plain_episodes_to_solved", "<=", 300,
                  "Plain REINFORCE (no baseline) also reaches 195 within 300 episodes",
                  "REINFORCE sin línea base también llega a 195 en 300 episodios o menos",
                  evidence="measured with this network and lr 5e-3: seed 0 never (best "
                           "100-episode mean 125.6 in 500 episodes), seed 1 never (194.4), "
                           "seed 2 after 309 episodes; with the baseline: 162, 190, 105"),
        Criterion("episodes_saved_by_baseline", ">", 0,
                  "The baseline gets there in fewer episodes than plain REINFORCE (a run that "
                  "never gets there counts as needing one episode more than it trained)",
                  "La línea base llega en menos episodios que REINFORCE sin ella (una "
                  "ejecución que nunca llega cuenta como si necesitara un episodio más de los "
                  "que entrenó)"),
    ),
    config=Config,
    quick={"episodes": 40, "window": 20},
    timed=("plain_seconds", "baseline_seconds"),
)

# %% [markdown] lang="en"
# ## 1. The policy network
# The policy maps the four numbers of CartPole's observation to a probability for each of
# the two actions. The network outputs two raw scores (logits); a softmax turns them into
# probabilities, and the agent *samples* its action from them: a stochastic policy explores
# by itself, and its log-probabilities are what the gradient pushes on.

# %% [markdown] lang="es"
# ## 1. La red de política
# La política transforma los cuatro números de la observación de CartPole en una
# probabilidad para cada una de las dos acciones. La red da dos puntuaciones crudas
# (logits); una softmax las convierte en probabilidades y el agente *muestrea* su acción de
# ellas: una política estocástica explora por sí misma, y sus log-probabilidades son lo que
# empuja el gradiente.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.rl import episodes_to_reach, make_env, moving_average
from dlab.rl.reinforce import ReinforceConfig, train

# %% exercise="policy_network"
def policy_network(obs_size: int, n_actions: int, hidden: int) -> nn.Module:
    """[en] Return the policy network: nn.Linear(obs_size, hidden), ReLU,
    nn.Linear(hidden, hidden), ReLU, nn.Linear(hidden, n_actions). The output is the raw
    logits (no softmax: the training loop applies it).

    [es] Devuelve la red de política: nn.Linear(obs_size, hidden), ReLU,
    nn.Linear(hidden, hidden), ReLU, nn.Linear(hidden, n_actions). La salida son los logits
    crudos (sin softmax: el bucle de entrenamiento la aplica).
    """
    return nn.Sequential(nn.Linear(obs_size, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, n_actions))


# %% check
import torch
from torch import nn

from dlab.exercises import expect


@ctx.check("policy_network")
def has_two_hidden_layers_and_raw_logits():
    model = policy_network(4, 2, 64)
    expect.type(model, nn.Module, "policy_network(4, 2, 64)")
    expect.shape(model(torch.zeros(3, 4)), (3, 2), "policy_network(4, 2, 64)(torch.zeros(3, 4))")
    sizes = [tuple(m.weight.shape) for m in model.modules() if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(64, 4), (64, 64), (2, 64)],
                 "weight shapes of the nn.Linear layers of policy_network(4, 2, 64)")
    expect.equal(sum(isinstance(m, nn.ReLU) for m in model.modules()), 2,
                 "number of nn.ReLU in policy_network(4, 2, 64)")
    expect.last_layer_linear(model, "policy_network(4, 2, 64)")


# %% [markdown] lang="en"
# ## 2. Returns-to-go
# The action at step t can only be credited with what came *after* it: the return-to-go
# G_t = r_t + γ·r_{t+1} + γ²·r_{t+2} + … Computing it backwards, G_t = r_t + γ·G_{t+1},
# takes one pass over the episode.

# %% [markdown] lang="es"
# ## 2. Retornos hacia adelante
# A la acción del paso t solo se le puede atribuir lo que vino *después*: el retorno
# G_t = r_t + γ·r_{t+1} + γ²·r_{t+2} + … Calcularlo hacia atrás, G_t = r_t + γ·G_{t+1},
# requiere una sola pasada por el episodio.

# %% exercise="returns_to_go"
def returns_to_go(rewards: list, gamma: float) -> torch.Tensor:
    """[en] Return a float32 tensor G with one entry per reward, where
    G[t] = rewards[t] + gamma * rewards[t+1] + gamma**2 * rewards[t+2] + ... up to the end
    of the episode (so G[-1] = rewards[-1]).

    [es] Devuelve un tensor float32 G con una entrada por recompensa, donde
    G[t] = rewards[t] + gamma * rewards[t+1] + gamma**2 * rewards[t+2] + ... hasta el final
    del episodio (así que G[-1] = rewards[-1]).
    """
    returns, running = [], 0.0
    for reward in reversed(rewards):
        running = reward + gamma * running
        returns.append(running)
    return torch.tensor(returns[::-1], dtype=torch.float32)


# %% check
import torch

from dlab.exercises import expect


@ctx.check("returns_to_go")
def credits_each_step_with_what_follows():
    G = returns_to_go([1.0, 0.0, 2.0], 0.5)
    expect.type(G, torch.Tensor, "returns_to_go([1, 0, 2], 0.5)")
    expect.close(G, [1.0 + 0.25 * 2.0, 0.5 * 2.0, 2.0], "returns_to_go([1, 0, 2], 0.5)")
    expect.close(returns_to_go([1.0] * 3, 1.0), [3.0, 2.0, 1.0],
                 "returns_to_go([1, 1, 1], 1.0) (no discount: the sum of what is left)")


@ctx.check("returns_to_go")
def a_cartpole_episode_of_200_steps():
    G = returns_to_go([1.0] * 200, 0.99)
    expect.shape(G, (200,), "returns_to_go([1] * 200, 0.99)")
    expect.close(G[0], (1 - 0.99 ** 200) / (1 - 0.99), "returns_to_go([1] * 200, 0.99)[0]",
                 atol=1e-3)
    expect.close(G[-1], 1.0, "returns_to_go([1] * 200, 0.99)[-1] (the last reward alone)")


# %% [markdown] lang="en"
# ## 3. The REINFORCE loss, and the baseline
# The policy-gradient theorem says that ∇J = E[∇ log π(a_t | s_t) · G_t]: gradient *ascent*
# on J is gradient *descent* on −mean_t(log π(a_t | s_t) · G_t). Every CartPole return is
# positive, so without a baseline every action taken is made more likely, the good ones only
# slightly more than the bad: a very noisy signal. Subtracting a baseline b(s_t) that does
# not depend on the action keeps the gradient unbiased and makes it much less noisy. The
# natural choice is V(s_t), the return expected from that state, learned by a second network
# regressed on G_t. The advantage G_t − V(s_t) then says whether the action did better or
# worse than usual. V must be *detached* in the policy loss: the baseline is trained by its
# own squared error, never to make the policy loss smaller.

# %% [markdown] lang="es"
# ## 3. La pérdida de REINFORCE y la línea base
# El teorema del gradiente de la política dice que ∇J = E[∇ log π(a_t | s_t) · G_t]: el
# *ascenso* por gradiente sobre J es el *descenso* sobre −media_t(log π(a_t | s_t) · G_t).
# En CartPole todos los retornos son positivos, así que sin línea base cada acción tomada se
# vuelve más probable, las buenas solo un poco más que las malas: una señal muy ruidosa.
# Restar una línea base b(s_t) que no dependa de la acción mantiene el gradiente sin sesgo y
# lo hace mucho menos ruidoso. La elección natural es V(s_t), el retorno esperado desde ese
# estado, aprendido por una segunda red que hace regresión sobre G_t. La ventaja
# G_t − V(s_t) dice entonces si la acción salió mejor o peor de lo habitual. V debe ir
# *desacoplada* (detach) en la pérdida de la política: la línea base se entrena con su propio
# error cuadrático, nunca para achicar la pérdida de la política.

# %% exercise="reinforce_loss"
def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor,
                   values=None) -> torch.Tensor:
    """[en] The policy loss of one episode: `log_probs[t]` is log pi(a_t | s_t) (with
    gradient), `returns[t]` is G_t, `values` is None (no baseline) or V(s_t) from the value
    network. The advantage is returns, or returns - values with values detached
    (`values.detach()`). Return the scalar -(log_probs * advantage).mean().

    [es] La pérdida de la política en un episodio: `log_probs[t]` es log pi(a_t | s_t) (con
    gradiente), `returns[t]` es G_t, `values` es None (sin línea base) o V(s_t) de la red de
    valor. La ventaja es returns, o returns - values con values desacoplado
    (`values.detach()`). Devuelve el escalar -(log_probs * ventaja).mean().
    """
    advantage = returns if values is None else returns - values.detach()
    return -(log_probs * advantage).mean()


# %% check
import torch

from dlab.exercises import expect

_LOG_PROBS = torch.log(torch.tensor([0.5, 0.25, 0.8]))
_RETURNS = torch.tensor([3.0, 2.0, 1.0])


@ctx.check("reinforce_loss")
def is_minus_the_mean_of_log_prob_times_return():
    loss = reinforce_loss(_LOG_PROBS.clone().requires_grad_(), _RETURNS)
    expect.shape(loss, (), "reinforce_loss(log_probs, returns)")
    expect.close(loss, -(_LOG_PROBS * _RETURNS).mean(),
                 "reinforce_loss(log_probs, returns) (minus the mean over steps)")


@ctx.check("reinforce_loss")
def descending_it_makes_good_actions_likelier():
    log_probs = _LOG_PROBS.clone().requires_grad_()
    reinforce_loss(log_probs, _RETURNS).backward()
    expect.true(bool((log_probs.grad < 0).all()),
                "With positive returns, the gradient of reinforce_loss with respect to every "
                "log-prob should be negative (a descent step raises them). Check the sign.",
                "Con retornos positivos, el gradiente de reinforce_loss respecto de cada "
                "log-probabilidad debería ser negativo (un paso de descenso las sube). Revisa "
                "el signo.")


@ctx.check("reinforce_loss")
def subtracts_a_detached_baseline():
    log_probs = _LOG_PROBS.clone().requires_grad_()
    values = torch.tensor([1.0, 2.5, 0.0], requires_grad=True)
    loss = reinforce_loss(log_probs, _RETURNS, values)
    expect.close(loss, -(_LOG_PROBS * (_RETURNS - values.detach())).mean(),
                 "reinforce_loss(log_probs, returns, values) (advantage = returns - values)")
    loss.backward()
    expect.true(values.grad is None or bool((values.grad == 0).all()),
                "reinforce_loss sends gradient into `values`: detach them (values.detach()), "
                "the baseline learns from its own loss only.",
                "reinforce_loss manda gradiente a `values`: desacóplalos (values.detach()); la "
                "línea base aprende solo de su propia pérdida.")


# %% [markdown] lang="en"
# ## 4. Two trainings from the same start
# Both runs start from the same policy weights, play the same seeded episodes' initial
# states and draw their actions from identically seeded generators: the baseline is the only
# difference. Each episode is followed by one Adam step on the policy (and, with the
# baseline, one on the value network, of the same shape with a single output).

# %% [markdown] lang="es"
# ## 4. Dos entrenamientos desde el mismo punto de partida
# Las dos ejecuciones empiezan con los mismos pesos de la política, juegan episodios con los
# mismos estados iniciales (con semilla) y sortean sus acciones con generadores con la misma
# semilla: la línea base es la única diferencia. Después de cada episodio se da un paso de
# Adam sobre la política (y, con línea base, otro sobre la red de valor, de la misma forma
# con una sola salida).

# %%
rl_cfg = ReinforceConfig(episodes=cfg.episodes, gamma=cfg.gamma, lr=cfg.lr,
                         value_lr=cfg.value_lr)
runs, seconds = {}, {}
for variant in ("plain", "baseline"):
    torch.manual_seed(ctx.seed)
    policy = policy_network(4, 2, cfg.hidden)
    value = policy_network(4, 1, cfg.hidden) if variant == "baseline" else None
    env = make_env("CartPole-v1", ctx.seed)
    started = time.perf_counter()
    runs[variant] = train(env, policy, rl_cfg, value=value, returns_fn=returns_to_go,
                          loss_fn=reinforce_loss, seed=ctx.seed).returns
    seconds[variant] = time.perf_counter() - started
    env.close()

LABELS = {"plain": ctx.t("REINFORCE", "REINFORCE"),
          "baseline": ctx.t("REINFORCE + baseline V(s)", "REINFORCE + línea base V(s)")}
reach = {k: episodes_to_reach(r, cfg.solved, cfg.window) for k, r in runs.items()}
reach_v1 = {k: episodes_to_reach(r, 475, cfg.window) for k, r in runs.items()}
best = {k: float(moving_average(r, cfg.window)[cfg.window - 1:].max()) for k, r in runs.items()}
ctx.table([ctx.t("variant", "variante"),
           ctx.t(f"episodes to {cfg.solved:g}", f"episodios hasta {cfg.solved:g}"),
           ctx.t("episodes to 475", "episodios hasta 475"),
           ctx.t(f"best {cfg.window}-episode mean", f"mejor media de {cfg.window} episodios"),
           ctx.t(f"mean of the last {cfg.window}", f"media de los últimos {cfg.window}"),
           ctx.t("seconds", "segundos")],
          [[LABELS[k], reach[k] or ctx.t("never", "nunca"), reach_v1[k] or ctx.t("never", "nunca"),
            best[k], float(runs[k][-cfg.window:].mean()), seconds[k]] for k in runs],
          title=ctx.t(f"{cfg.episodes} episodes each; moving average over {cfg.window} episodes",
                      f"{cfg.episodes} episodios cada una; media móvil de {cfg.window} "
                      "episodios"))

# %%
fig, ax = plt.subplots(figsize=(10, 4.5))
for (variant, returns), color in zip(runs.items(), ("tab:blue", "tab:orange")):
    episodes = np.arange(1, len(returns) + 1)
    ax.plot(episodes, returns, color=color, alpha=0.25, linewidth=0.8)
    ax.plot(episodes, moving_average(returns, cfg.window), color=color, linewidth=2,
            label=LABELS[variant] + ctx.t(f" (mean of the last {cfg.window})",
                                          f" (media de los últimos {cfg.window})"))
for level, text in ((cfg.solved, ctx.t("195: v0's 'solved'", "195: 'resuelto' en v0")),
                    (475, ctx.t("475: v1's 'solved'", "475: 'resuelto' en v1"))):
    ax.axhline(level, color="k", linestyle="--", linewidth=1, alpha=0.6)
    ax.annotate(text, (0.01, level), xycoords=("axes fraction", "data"), va="bottom", fontsize=8)
ax.axvline(300, color="tab:red", linestyle=":", linewidth=1.2)
ax.set_xlabel(ctx.t("episode", "episodio"))
ax.set_ylabel(ctx.t("return (steps balanced)", "retorno (pasos en equilibrio)"))
ax.set_title(ctx.t("Return per episode (faint) and its moving average",
                   "Retorno por episodio (tenue) y su media móvil"))
ax.legend(loc="center right", fontsize=8)
ctx.figure("returns", fig)

# %% [markdown] lang="en"
# Without a baseline the curve climbs slowly and can fall back: with every advantage
# positive, a lucky streak of one action can push the policy into always choosing it, and a
# policy that never explores the other action cannot learn its way back (the course's
# "policy collapse"). With the baseline, the value network soon predicts how long the pole
# will last from each state; actions are then judged against that expectation and the
# policy improves steadily. The dotted line marks episode 300. RL curves differ a lot from
# one seed to another: rerun with `--seed 1` and `--seed 2` before trusting one run.

# %% [markdown] lang="es"
# Sin línea base la curva sube despacio y puede retroceder: con todas las ventajas positivas,
# una racha de suerte de una acción puede empujar a la política a elegirla siempre, y una
# política que nunca explora la otra acción no puede volver a aprenderla (el "colapso de la
# política" del curso). Con la línea base, la red de valor pronto predice cuánto durará el
# palo desde cada estado; las acciones se juzgan entonces frente a esa expectativa y la
# política mejora de forma sostenida. La línea punteada marca el episodio 300. Las curvas de
# RL cambian mucho de una semilla a otra: vuelve a ejecutar con `--seed 1` y `--seed 2` antes
# de fiarte de una sola ejecución.

# %%
never = cfg.episodes + 1  # "did not get there" counts as needing more than was trained
ctx.finish({
    "plain_episodes_to_solved": reach["plain"],
    "baseline_episodes_to_solved": reach["baseline"],
    "episodes_saved_by_baseline": (reach["plain"] or never) - (reach["baseline"] or never),
    "plain_episodes_to_475": reach_v1["plain"],
    "baseline_episodes_to_475": reach_v1["baseline"],
    "plain_best_mean_return": best["plain"],
    "baseline_best_mean_return": best["baseline"],
    "plain_last_mean_return": float(runs["plain"][-cfg.window:].mean()),
    "baseline_last_mean_return": float(runs["baseline"][-cfg.window:].mean()),
    "plain_seconds": seconds["plain"],
    "baseline_seconds": seconds["baseline"],
})

# %% [markdown] lang="en"
# A Deep Q-Network learns to balance CartPole from a replay buffer of its own past moves. One
# network scores both actions in a state; the agent mostly picks the higher score and, with a
# probability ε that shrinks from 1.0 to 0.05 over the first 10,000 steps, a random one. The
# course's homework: Dense(64) → Dense(64) → Dense(2), a buffer of 50,000 transitions,
# batches of 64, a target network copied every 100 steps, and a mean return of 195 over 100
# episodes within 500 episodes. The network kept on validation episodes is then frozen and
# tested on 100 new ones. A second, short run without replay and without a target network
# shows what those two tricks are for.

# %% [markdown] lang="es"
# Una Deep Q-Network aprende a equilibrar CartPole a partir de un búfer de repetición con sus
# propias jugadas pasadas. Una red puntúa las dos acciones en cada estado; el agente casi
# siempre elige la de mayor puntuación y, con una probabilidad ε que baja de 1.0 a 0.05 en los
# primeros 10 000 pasos, una al azar. La tarea del curso: Dense(64) → Dense(64) → Dense(2), un
# búfer de 50 000 transiciones, lotes de 64, una red objetivo copiada cada 100 pasos y un
# retorno medio de 195 en 100 episodios antes de 500 episodios. La red conservada según
# episodios de validación se congela después y se prueba en 100 episodios nuevos. Una
# segunda ejecución corta, sin repetición y sin red objetivo, muestra para qué sirven esos
# dos trucos.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: list = field(default_factory=lambda: [64, 64])
    buffer_size: int = 50_000
    batch_size: int = 64
    gamma: float = 0.99
    lr: float = 1e-3
    target_sync_steps: int = 100
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10_000
    learning_starts: int = 1_000
    train_every: int = 2          # env steps per gradient step (the DQN paper used 4)
    max_episodes: int = 500
    max_steps: int = 100_000      # CPU budget: ~2 minutes of training
    window: int = 100
    solved: float = 195.0         # CartPole-v0's line; v1's is 475 (reported too)
    validate_every: int = 20      # episodes between two validations of the greedy policy
    validation_episodes: int = 10
    eval_episodes: int = 100      # the final test of the kept network
    ablation_steps: int = 30_000  # the run without replay nor target network (0: skip it)

    def check(self):
        positive(buffer_size=self.buffer_size, batch_size=self.batch_size, lr=self.lr,
                 target_sync_steps=self.target_sync_steps,
                 epsilon_decay_steps=self.epsilon_decay_steps, train_every=self.train_every,
                 max_episodes=self.max_episodes, max_steps=self.max_steps, window=self.window,
                 validate_every=self.validate_every,
                 validation_episodes=self.validation_episodes, eval_episodes=self.eval_episodes)


LAB = Lab(
    id="dqn",
    title_en="Deep Q-Network on CartPole-v1: replay buffer and target network",
    title_es="Deep Q-Network en CartPole-v1: búfer de repetición y red objetivo",
    source="Part 2 · class 164 (homework)",
    block="part2-rl",
    dataset="Gymnasium CartPole-v1 (episodes, exploration and replay sampling seeded from the "
            "run's seed)",
    criteria=(
        Criterion("episodes_to_solved", "<=", 500,
                  "The mean return over the last 100 training episodes reaches 195 within 500 "
                  "episodes",
                  "El retorno medio de los últimos 100 episodios de entrenamiento llega a 195 "
                  "en 500 episodios o menos"),
        Criterion("test_kept_mean_return", ">=", 195,
                  "The network kept on validation, frozen and greedy, averages ≥ 195 over 100 "
                  "new test episodes",
                  "La red conservada según la validación, congelada y voraz, promedia ≥ 195 en "
                  "100 episodios de test nuevos"),
    ),
    config=Config,
    quick={"buffer_size": 2_000, "epsilon_decay_steps": 600, "learning_starts": 200,
           "max_episodes": 40, "max_steps": 1_200, "window": 10, "validate_every": 10,
           "validation_episodes": 2, "eval_episodes": 5, "ablation_steps": 300},
    timed=("train_seconds", "steps_per_second", "ablation_seconds"),
)

# %% [markdown] lang="en"
# ## 1. Exploring, then exploiting: the ε schedule
# At first the Q-network knows nothing, so its greedy choice is as good as a coin toss and
# random actions are what fill the buffer with varied experience. As the estimates improve,
# the agent should trust them more. A linear schedule does that: ε falls from `start` to
# `end` over `decay_steps` environment steps and then stays at `end`, so some exploration
# always remains. Starting with a small ε is a classic mistake: the agent repeats its first,
# arbitrary preferences and never discovers better ones.

# %% [markdown] lang="es"
# ## 1. Explorar y después explotar: el calendario de ε
# Al principio la red Q no sabe nada: su elección voraz vale lo que una moneda al aire, y las
# acciones al azar son las que llenan el búfer de experiencia variada. A medida que las
# estimaciones mejoran, el agente debe confiar más en ellas. Un calendario lineal lo hace: ε
# baja de `start` a `end` a lo largo de `decay_steps` pasos del entorno y después se queda en
# `end`, así que siempre queda algo de exploración. Empezar con un ε pequeño es un error
# clásico: el agente repite sus primeras preferencias arbitrarias y nunca descubre otras
# mejores.

# %%
import copy
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.rl import episodes_to_reach, evaluate, make_env, moving_average, torch_threads
from dlab.rl.dqn import DQNConfig, greedy_policy, train_dqn
from dlab.rl.plots import learning_curves


# %% exercise="linear_epsilon"
def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """[en] Return ε after `step` environment steps (0 for the first): it goes down in a
    straight line from `start` (at step 0) to `end` (at step `decay_steps`) and stays at
    `end` afterwards. Return a Python float.

    [es] Devuelve ε tras `step` pasos del entorno (0 para el primero): baja en línea recta
    desde `start` (en el paso 0) hasta `end` (en el paso `decay_steps`) y después se queda en
    `end`. Devuelve un float de Python.
    """
    fraction = min(step / decay_steps, 1.0)
    return float(start + fraction * (end - start))


# %% check
from dlab.exercises import expect


@ctx.check("linear_epsilon")
def starts_at_start_and_ends_at_end():
    expect.close(linear_epsilon(0, 1.0, 0.05, 10_000), 1.0, "linear_epsilon(0, 1.0, 0.05, 10000)")
    expect.close(linear_epsilon(10_000, 1.0, 0.05, 10_000), 0.05,
                 "linear_epsilon(10000, 1.0, 0.05, 10000)")
    expect.close(linear_epsilon(25_000, 1.0, 0.05, 10_000), 0.05,
                 "linear_epsilon(25000, 1.0, 0.05, 10000) (after the decay ε stays at `end`)")


@ctx.check("linear_epsilon")
def falls_in_a_straight_line():
    for step, expected in ((2_500, 0.7625), (5_000, 0.525), (7_500, 0.2875)):
        expect.close(linear_epsilon(step, 1.0, 0.05, 10_000), expected,
                     f"linear_epsilon({step}, 1.0, 0.05, 10000)")
    expect.close(linear_epsilon(50, 0.5, 0.1, 100), 0.3, "linear_epsilon(50, 0.5, 0.1, 100)")


# %% [markdown] lang="en"
# ## 2. The TD target
# Q(s, a) should equal the reward plus the discounted value of the best action in the next
# state: y = r + γ · max_a' Q(s', a'). The next state's values come from the *target
# network*, a copy of the Q-network refreshed only every 100 steps; with the network itself,
# every update would also move the target it chases and the estimates can spiral upwards. If
# the episode *terminated* in s' (the pole fell), there is no future and y = r. An episode
# *truncated* by the time limit (CartPole-v1 stops at 500 steps) did not end the game: its
# next state keeps its value. Gymnasium reports the two separately, and mixing them up is a
# common bug: the loop stores `terminated`, not `terminated or truncated`.

# %% [markdown] lang="es"
# ## 2. El objetivo TD
# Q(s, a) debería valer la recompensa más el valor descontado de la mejor acción en el estado
# siguiente: y = r + γ · max_a' Q(s', a'). Los valores del estado siguiente salen de la *red
# objetivo*, una copia de la red Q que solo se actualiza cada 100 pasos; con la propia red,
# cada actualización movería también el objetivo que persigue y las estimaciones pueden
# dispararse. Si el episodio *terminó* en s' (el palo cayó), no hay futuro e y = r. Un
# episodio *truncado* por el límite de tiempo (CartPole-v1 corta a los 500 pasos) no terminó
# el juego: su estado siguiente conserva su valor. Gymnasium informa las dos cosas por
# separado y confundirlas es un error común: el bucle guarda `terminated`, no
# `terminated or truncated`.

# %% exercise="td_target"
def td_target(rewards: torch.Tensor, next_q_values: torch.Tensor, terminated: torch.Tensor,
              gamma: float) -> torch.Tensor:
    """[en] The TD targets of a batch of B transitions: `rewards` (B,), `next_q_values`
    (B, n_actions) = the target network's Q(s', a') for every action, `terminated` (B,) =
    1.0 where the episode ended in s', else 0.0. Return a (B,) tensor
    y = rewards + gamma * (max over actions of next_q_values) * (1 - terminated).

    [es] Los objetivos TD de un lote de B transiciones: `rewards` (B,), `next_q_values`
    (B, n_acciones) = la Q(s', a') de la red objetivo para cada acción, `terminated` (B,) =
    1.0 donde el episodio terminó en s', si no 0.0. Devuelve un tensor (B,)
    y = rewards + gamma * (máximo sobre las acciones de next_q_values) * (1 - terminated).
    """
    best_next = next_q_values.max(dim=1).values
    return rewards + gamma * best_next * (1.0 - terminated)


# %% check
import torch

from dlab.exercises import expect

_REWARDS = torch.tensor([1.0, 1.0, 0.5])
_NEXT_Q = torch.tensor([[2.0, 3.0], [5.0, 4.0], [-1.0, -2.0]])


@ctx.check("td_target")
def bootstraps_from_the_best_next_action():
    y = td_target(_REWARDS, _NEXT_Q, torch.zeros(3), 0.9)
    expect.shape(y, (3,), "td_target(rewards (3,), next_q_values (3, 2), terminated (3,), 0.9)")
    expect.close(y, [1.0 + 0.9 * 3.0, 1.0 + 0.9 * 5.0, 0.5 + 0.9 * -1.0],
                 "td_target(rewards, next_q_values, zeros, 0.9) (r + γ · max over each row)")


@ctx.check("td_target")
def no_future_after_termination():
    y = td_target(_REWARDS, _NEXT_Q, torch.tensor([0.0, 1.0, 1.0]), 0.9)
    expect.close(y, [1.0 + 0.9 * 3.0, 1.0, 0.5],
                 "td_target(rewards, next_q_values, terminated=[0, 1, 1], 0.9) (y = r where "
                 "the episode terminated)")
    y = td_target(torch.zeros(2), torch.ones(2, 4), torch.zeros(2), 0.5)
    expect.close(y, [0.5, 0.5], "td_target(zeros(2), ones(2, 4), zeros(2), 0.5)")


# %% [markdown] lang="en"
# ## 3. The loss: only the action taken
# The network outputs a Q-value for every action, but a transition only tells us about the
# action that was taken. The loss picks that one per row (`gather`) and compares it with its
# target by mean squared error; the other actions' outputs get no gradient from this
# transition.

# %% [markdown] lang="es"
# ## 3. La pérdida: solo la acción tomada
# La red da un valor Q para cada acción, pero una transición solo informa sobre la acción que
# se tomó. La pérdida elige esa en cada fila (`gather`) y la compara con su objetivo por error
# cuadrático medio; las salidas de las otras acciones no reciben gradiente de esta transición.

# %% exercise="q_loss"
def q_loss(q_values: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """[en] `q_values` (B, n_actions) is the Q-network's output for a batch of states,
    `actions` (B,) the integer action taken in each, `targets` (B,) their TD targets. Return
    the scalar mean over the batch of (Q(s, a_taken) - target)². Pick Q(s, a_taken) with
    `q_values.gather(1, actions.long().unsqueeze(1)).squeeze(1)` (or equivalent indexing).

    [es] `q_values` (B, n_acciones) es la salida de la red Q para un lote de estados,
    `actions` (B,) la acción entera tomada en cada uno, `targets` (B,) sus objetivos TD.
    Devuelve el escalar media sobre el lote de (Q(s, a_tomada) - objetivo)². Elige
    Q(s, a_tomada) con `q_values.gather(1, actions.long().unsqueeze(1)).squeeze(1)` (o una
    indexación equivalente).
    """
    taken = q_values.gather(1, actions.long().unsqueeze(1)).squeeze(1)
    return ((taken - targets) ** 2).mean()


# %% check
import torch

from dlab.exercises import expect

_Q = torch.tensor([[1.0, 4.0], [2.0, -1.0], [0.5, 0.5], [3.0, 2.0]])
_ACTIONS = torch.tensor([0, 1, 1, 0])
_TARGETS = torch.tensor([2.0, 1.0, 0.0, 3.0])


@ctx.check("q_loss")
def squared_error_of_the_actions_taken():
    loss = q_loss(_Q, _ACTIONS, _TARGETS)
    expect.shape(loss, (), "q_loss(q_values (4, 2), actions (4,), targets (4,))")
    expect.close(loss, ((1.0 - 2.0) ** 2 + (-1.0 - 1.0) ** 2 + 0.5 ** 2 + 0.0) / 4,
                 "q_loss(q_values, actions=[0, 1, 1, 0], targets) (mean of "
                 "(Q(s, a_taken) - target)²)")


@ctx.check("q_loss")
def only_the_taken_actions_get_gradient():
    q_values = _Q.clone().requires_grad_()
    q_loss(q_values, _ACTIONS, _TARGETS).backward()
    expected = torch.zeros(4, 2)
    expected[torch.arange(4), _ACTIONS] = 2 * (_Q[torch.arange(4), _ACTIONS] - _TARGETS) / 4
    expect.close(q_values.grad, expected,
                 "gradient of q_loss with respect to q_values (nonzero only at the actions "
                 "taken: 2 · (Q - target) / B)")


# %% [markdown] lang="en"
# ## 4. Training
# The loop (`dlab.rl.dqn.train_dqn`) plays ε-greedy moves with your schedule, stores every
# transition in a ring buffer of 50,000, and every second step trains on a random batch of
# 64 with your TD target and loss (Adam); every 100 steps the target network gets a copy of
# the weights. Training runs for up to 500 episodes, or until a budget of environment steps
# is spent, and does not stop at 195: the best 100-episode mean is compared with both
# CartPole lines, v0's 195 and v1's 475. Every 20 episodes the greedy policy (ε = 0) plays
# 10 validation episodes, and the weights with the best validation score are kept aside
# (section 7 says why).

# %% [markdown] lang="es"
# ## 4. Entrenamiento
# El bucle (`dlab.rl.dqn.train_dqn`) juega movimientos ε-voraces con tu calendario, guarda
# cada transición en un búfer circular de 50 000 y, cada dos pasos, entrena con un lote al
# azar de 64 usando tu objetivo TD y tu pérdida (Adam); cada 100 pasos la red objetivo recibe
# una copia de los pesos. Se entrena hasta 500 episodios, o hasta agotar un presupuesto de
# pasos del entorno, sin parar en 195: la mejor media de 100 episodios se compara con las dos
# líneas de CartPole, 195 de v0 y 475 de v1. Cada 20 episodios la política voraz (ε = 0)
# juega 10 episodios de validación, y se guardan aparte los pesos con la mejor puntuación de
# validación (la sección 7 explica por qué).

# %%
dqn_cfg = DQNConfig(hidden=tuple(cfg.hidden), buffer_size=cfg.buffer_size,
                    batch_size=cfg.batch_size, gamma=cfg.gamma, lr=cfg.lr,
                    target_sync_steps=cfg.target_sync_steps, epsilon_start=cfg.epsilon_start,
                    epsilon_end=cfg.epsilon_end, epsilon_decay_steps=cfg.epsilon_decay_steps,
                    learning_starts=cfg.learning_starts, train_every=cfg.train_every,
                    max_episodes=cfg.max_episodes, max_steps=cfg.max_steps, window=cfg.window)


validation_env = make_env("CartPole-v1", ctx.seed + 10_000)  # episodes training never sees
validation = []  # (episode, mean greedy return)
best = {"score": -np.inf, "episode": None, "weights": None}


def watch(episode, result):
    """Validate the greedy policy every `validate_every` episodes and keep the best weights;
    print progress every 50 episodes."""
    if episode % cfg.validate_every == 0 and result.updates:
        score = float(evaluate(validation_env, greedy_policy(result.network),
                               cfg.validation_episodes).mean())
        validation.append((episode, score))
        if score > best["score"]:
            best.update(score=score, episode=episode,
                        weights=copy.deepcopy(result.network.state_dict()))
    if episode % 50 == 0:
        ctx.console.print(
            ctx.t("episode", "episodio") + f" {episode:4d} · {result.steps:6d} "
            + ctx.t("steps", "pasos") + f" · ε {result.epsilons[-1]:.2f} · "
            + ctx.t(f"mean of the last {cfg.window}", f"media de los últimos {cfg.window}")
            + f" {np.mean(result.returns[-cfg.window:]):6.1f}", highlight=False)


result = train_dqn(dqn_cfg, seed=ctx.seed, epsilon_fn=linear_epsilon, target_fn=td_target,
                   loss_fn=q_loss, on_episode=watch)
returns = np.array(result.returns)
average = moving_average(returns, cfg.window)
full_windows = average[cfg.window - 1:]
best_mean = float(full_windows.max()) if len(full_windows) else None
reach = {line: episodes_to_reach(returns, line, cfg.window) for line in (cfg.solved, 475.0)}


def shown(value):
    return ctx.t("never", "nunca") if value is None else value


ctx.table([ctx.t("episodes", "episodios"), ctx.t("env steps", "pasos del entorno"),
           ctx.t("gradient steps", "pasos de gradiente"),
           ctx.t(f"episodes to {cfg.solved:g}", f"episodios hasta {cfg.solved:g}"),
           ctx.t("episodes to 475", "episodios hasta 475"),
           ctx.t(f"best {cfg.window}-episode mean", f"mejor media de {cfg.window} episodios"),
           ctx.t("seconds", "segundos")],
          [[len(returns), result.steps, result.updates, shown(reach[cfg.solved]),
            shown(reach[475.0]), shown(best_mean), result.seconds]])

# %% [markdown] lang="en"
# ## 5. Without replay and without a target network
# The course's second exercise: the same loop, but the buffer only holds the last 64
# transitions (so every batch is a run of consecutive, strongly correlated moments of one
# episode) and the target network is copied after every step (so it *is* the network being
# trained). It runs for a shorter budget of steps from the same seed.

# %% [markdown] lang="es"
# ## 5. Sin repetición y sin red objetivo
# El segundo ejercicio del curso: el mismo bucle, pero el búfer solo guarda las últimas 64
# transiciones (así que cada lote es una serie de momentos consecutivos, muy correlacionados,
# de un mismo episodio) y la red objetivo se copia después de cada paso (así que *es* la red
# que se entrena). Corre con un presupuesto de pasos más corto, desde la misma semilla.

# %%
ablation = None
if cfg.ablation_steps > 0:
    bare_cfg = dataclasses.replace(dqn_cfg, buffer_size=cfg.batch_size, target_sync_steps=1,
                                   max_steps=cfg.ablation_steps)
    ablation = train_dqn(bare_cfg, seed=ctx.seed, epsilon_fn=linear_epsilon,
                         target_fn=td_target, loss_fn=q_loss)
    fair = min(len(ablation.returns), len(returns))  # the same number of episodes
    ctx.table([ctx.t("variant", "variante"), ctx.t("episodes", "episodios"),
               ctx.t("env steps", "pasos del entorno"),
               ctx.t(f"mean return, episodes 1–{fair}", f"retorno medio, episodios 1–{fair}"),
               ctx.t("largest mean Q", "mayor Q media")],
              [[ctx.t("replay 50k + target network", "repetición 50k + red objetivo"),
                len(returns), result.steps, float(returns[:fair].mean()),
                float(np.nanmax(result.mean_q))],
               [ctx.t("last 64 steps, no target network",
                      "últimos 64 pasos, sin red objetivo"),
                len(ablation.returns), ablation.steps, float(np.mean(ablation.returns[:fair])),
                float(np.nanmax(ablation.mean_q)) if ablation.updates else float("nan")]])

# %% [markdown] lang="en"
# ## 6. The learning curve
# Left: the return of every episode and its moving average, with both "solved" lines.
# Right: ε and the mean of max_a Q(s, a) over the training batches. With γ = 0.99 and a
# reward of 1 per step, no state is worth more than 1 / (1 − γ) = 100. Estimates above that
# line are overestimates: the max in the TD target picks whichever next-state estimate
# happens to be too high, and the bootstrap passes the error on (the reason Double DQN
# exists). The target network slows that loop down; the orange curve shows the estimates
# when the target moves with every step.

# %% [markdown] lang="es"
# ## 6. La curva de aprendizaje
# Izquierda: el retorno de cada episodio y su media móvil, con las dos líneas de "resuelto".
# Derecha: ε y la media de max_a Q(s, a) sobre los lotes de entrenamiento. Con γ = 0.99 y una
# recompensa de 1 por paso, ningún estado vale más de 1 / (1 − γ) = 100. Las estimaciones por
# encima de esa línea son sobreestimaciones: el máximo del objetivo TD elige la estimación
# del estado siguiente que por azar quedó demasiado alta, y el bootstrap propaga el error (el
# motivo por el que existe Double DQN). La red objetivo frena ese círculo; la curva naranja
# muestra las estimaciones cuando el objetivo se mueve en cada paso.

# %%
fig, (ax_ret, ax_q) = plt.subplots(1, 2, figsize=(13, 4.5))
episodes = np.arange(1, len(returns) + 1)
ax_ret.plot(episodes, returns, color="tab:blue", alpha=0.25, linewidth=0.8)
series = {ctx.t(f"DQN, mean of the last {cfg.window}", f"DQN, media de los últimos {cfg.window}"):
          returns}
if ablation is not None:
    series[ctx.t("no replay, no target network", "sin repetición ni red objetivo")] = \
        ablation.returns
learning_curves(ax_ret, series, cfg.window,
                title=ctx.t("Return per episode (faint) and its moving average",
                            "Retorno por episodio (tenue) y su media móvil"),
                ylabel=ctx.t("return (steps balanced)", "retorno (pasos en equilibrio)"),
                hlines={ctx.t("195: v0's 'solved'", "195: 'resuelto' en v0"): cfg.solved,
                        ctx.t("475: v1's 'solved'", "475: 'resuelto' en v1"): 475.0})
if validation:
    ax_ret.plot(*zip(*validation), "o", color="tab:green", markersize=3.5,
                label=ctx.t(f"greedy policy, mean of {cfg.validation_episodes} validation "
                            "episodes", f"política voraz, media de {cfg.validation_episodes} "
                            "episodios de validación"))
    ax_ret.legend(fontsize=8, loc="center left")
if reach[cfg.solved] is not None:
    ax_ret.axvline(reach[cfg.solved], color="tab:green", linestyle=":", linewidth=1.2)
ax_ret.set_xlabel(ctx.t("episode", "episodio"))
ax_q.plot(episodes, result.mean_q, color="tab:purple",
          label=ctx.t("mean max Q (DQN)", "Q máxima media (DQN)"))
if ablation is not None and ablation.updates:
    ax_q.plot(np.arange(1, len(ablation.mean_q) + 1), ablation.mean_q, color="tab:orange",
              label=ctx.t("mean max Q (no replay, no target)", "Q máxima media (sin repetición "
                          "ni objetivo)"))
ax_q.axhline(1 / (1 - cfg.gamma), color="k", linestyle="--", linewidth=1, alpha=0.6)
ax_q.annotate(f"1 / (1 − γ) = {1 / (1 - cfg.gamma):g}", (0.99, 1 / (1 - cfg.gamma)),
              xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=8)
ax_q.set_xlabel(ctx.t("episode", "episodio"))
ax_q.set_ylabel("Q")
ax_eps = ax_q.twinx()
ax_eps.plot(episodes, result.epsilons, color="tab:gray", linestyle="--")
ax_eps.set_ylabel(ctx.t("ε (dashed grey)", "ε (gris discontinua)"))
ax_eps.set_ylim(0, 1.05)
ax_q.legend(loc="upper left", fontsize=8)
ax_q.set_title(ctx.t("Q estimates and exploration", "Estimaciones de Q y exploración"))
fig.tight_layout()
ctx.figure("learning_curve", fig)

# %% [markdown] lang="en"
# The return stays near 20 (random play) while ε is high and the buffer is filling, then
# climbs once most moves are greedy. The curve is not monotonic: DQN can reach long episodes
# and then partly lose them again. One common explanation: once the buffer holds mostly
# successful states, the estimates for the states that lead to a fall are refreshed less and
# less, and drift. RL results also vary a lot with the seed: run `--seed 1` and `--seed 2`
# before trusting one curve.

# %% [markdown] lang="es"
# El retorno se queda cerca de 20 (juego al azar) mientras ε es alto y el búfer se llena, y
# sube cuando la mayoría de los movimientos son voraces. La curva no es monótona: DQN puede
# llegar a episodios largos y luego perderlos en parte. Una explicación habitual: cuando el
# búfer tiene sobre todo estados exitosos, las estimaciones de los estados que llevan a una
# caída se actualizan cada vez menos y se desvían. Los resultados de RL también cambian mucho
# con la semilla: ejecuta con `--seed 1` y `--seed 2` antes de fiarte de una sola curva.

# %% [markdown] lang="en"
# ## 7. Which network to keep
# The training curve flatters the agent. Its episodes are played by a network that changes
# every other step and keeps correcting itself from recent moves; frozen, the same network
# can fail in a systematic way, for instance by letting the cart drift slowly off the track,
# and then it fails that way in every episode. What counts is how a *frozen* greedy network
# does on episodes it has never seen. So every 20 episodes the greedy policy played 10
# validation episodes, and the weights with the best validation score were kept, the idea
# behind Stable-Baselines3's `EvalCallback`. That choice was made on validation episodes; the
# test below uses 100 episodes from yet another seed, for the kept network and for the one
# training ended with.

# %% [markdown] lang="es"
# ## 7. Qué red conservar
# La curva de entrenamiento favorece al agente. Sus episodios los juega una red que cambia
# cada dos pasos y se va corrigiendo con las jugadas recientes; congelada, la misma red puede
# fallar de forma sistemática, por ejemplo dejando que el carro se deslice poco a poco fuera
# de la pista, y entonces falla así en todos los episodios. Lo que cuenta es cómo le va a una
# red voraz *congelada* en episodios que nunca vio. Por eso, cada 20 episodios la política
# voraz jugó 10 episodios de validación y se guardaron los pesos con la mejor puntuación de
# validación: la idea del `EvalCallback` de Stable-Baselines3. Esa elección se hizo con
# episodios de validación; la prueba de abajo usa 100 episodios de otra semilla más, para la
# red conservada y para aquella con la que terminó el entrenamiento.

# %%
kept = copy.deepcopy(result.network)
if best["weights"] is not None:
    kept.load_state_dict(best["weights"])
with torch_threads(1):  # a tiny network: one thread is the fastest
    test = {name: evaluate(make_env("CartPole-v1", ctx.seed + 20_000), greedy_policy(net),
                           cfg.eval_episodes)
            for name, net in (("final", result.network), ("kept", kept))}
ctx.table([ctx.t("network", "red"), ctx.t("after episode", "tras el episodio"),
           ctx.t(f"validation ({cfg.validation_episodes} episodes)",
                 f"validación ({cfg.validation_episodes} episodios)"),
           ctx.t(f"test: greedy return, {cfg.eval_episodes} episodes",
                 f"test: retorno voraz, {cfg.eval_episodes} episodios")],
          [[ctx.t("at the end of training", "al final del entrenamiento"), len(returns),
            shown(validation[-1][1] if validation and validation[-1][0] == len(returns)
                  else None),
            f"{test['final'].mean():.1f} ± {test['final'].std():.1f}"],
           [ctx.t("best on validation", "la mejor en validación"), shown(best["episode"]),
            shown(best["score"] if best["episode"] else None),
            f"{test['kept'].mean():.1f} ± {test['kept'].std():.1f}"]])

# %%
ctx.finish({
    "episodes_to_solved": reach[cfg.solved],
    "episodes_to_475": reach[475.0],
    "best_mean_return": best_mean,
    "last_mean_return": float(returns[-cfg.window:].mean()),
    "episodes_trained": len(returns),
    "env_steps": result.steps,
    "gradient_steps": result.updates,
    "kept_episode": best["episode"],
    "kept_validation_return": best["score"] if best["episode"] else None,
    "test_kept_mean_return": float(test["kept"].mean()),
    "test_kept_std_return": float(test["kept"].std()),
    "test_final_mean_return": float(test["final"].mean()),
    "test_final_std_return": float(test["final"].std()),
    "max_mean_q": float(np.nanmax(result.mean_q)) if result.updates else None,
    "ablation_mean_return": float(np.mean(ablation.returns[:fair])) if ablation else None,
    "ablation_max_mean_q": (float(np.nanmax(ablation.mean_q))
                            if ablation and ablation.updates else None),
    "train_seconds": result.seconds,
    "steps_per_second": result.steps / result.seconds,
    "ablation_seconds": ablation.seconds if ablation else None,
})

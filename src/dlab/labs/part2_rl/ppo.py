# %% [markdown] lang="en"
# Proximal Policy Optimization, written by us in one readable file (`dlab.rl.ppo`), trained
# first on CartPole-v1 as a fast check (50,000 steps, about a minute) and then on
# LunarLander-v3 for the course's 500,000 steps: an actor and a critic, experience gathered by
# 16 copies of the environment, advantages by GAE, and the clipped objective that keeps every
# update close to the policy that collected the data. The score is the mean return of the
# greedy policy over 100 evaluation episodes (200 means "solved"). Full mode takes 10 to 30
# minutes on a 2-core laptop CPU, most of it LunarLander; `--quick` takes seconds.
# `benchmarks/ppo_vs_sb3.py` races this PPO against Stable-Baselines3's on the same budget.

# %% [markdown] lang="es"
# Proximal Policy Optimization, escrito por nosotros en un solo archivo legible
# (`dlab.rl.ppo`), entrenado primero en CartPole-v1 como comprobación rápida (50 000 pasos,
# alrededor de un minuto) y después en LunarLander-v3 durante los 500 000 pasos del curso: un
# actor y un crítico, experiencia recogida por 16 copias del entorno, ventajas con GAE y el
# objetivo recortado que mantiene cada actualización cerca de la política que recogió los
# datos. La nota es el retorno medio de la política voraz en 100 episodios de evaluación (200
# significa "resuelto"). El modo completo tarda de 10 a 30 minutos en la CPU de un portátil de
# 2 núcleos, casi todo en LunarLander; `--quick` tarda segundos. `benchmarks/ppo_vs_sb3.py`
# compara este PPO con el de Stable-Baselines3 con el mismo presupuesto.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    # The other settings are dlab.rl.ppo.PRESETS[env], shown in a table by the lab.
    cartpole_steps: int = 50_000     # the course's budget for CartPole
    lander_steps: int = 500_000      # the course's budget for LunarLander
    lander_epochs: int = 10          # passes over each batch of experience
    eval_episodes: int = 100
    window: int = 100                # episodes in the moving average of the curves
    gif_max_steps: int = 1_000       # LunarLander-v3 truncates at 1,000 steps anyway

    def check(self):
        positive(cartpole_steps=self.cartpole_steps, lander_steps=self.lander_steps,
                 lander_epochs=self.lander_epochs, eval_episodes=self.eval_episodes,
                 window=self.window, gif_max_steps=self.gif_max_steps)


LAB = Lab(
    id="ppo",
    title_en="PPO from scratch: CartPole-v1, then LunarLander-v3 (full mode: 10–30 min)",
    title_es="PPO desde cero: CartPole-v1 y después LunarLander-v3 (modo completo: 10–30 min)",
    source="Part 2 · class 165 (homework)",
    block="part2-rl",
    dataset="Gymnasium CartPole-v1 and LunarLander-v3 (vectorized, seeded from the run's seed; "
            "evaluation episodes from another seed)",
    criteria=(
        Criterion("lander_eval_mean", ">=", 200,
                  "LunarLander-v3 after 500,000 steps: mean return of the greedy policy over "
                  "100 evaluation episodes ≥ 200",
                  "LunarLander-v3 tras 500 000 pasos: retorno medio de la política voraz en "
                  "100 episodios de evaluación ≥ 200"),
        Criterion("lander_return_gain", ">", 0,
                  "The learning curve rises: the last 100 training episodes average more than "
                  "the first 100",
                  "La curva de aprendizaje sube: los últimos 100 episodios de entrenamiento "
                  "promedian más que los 100 primeros"),
        Criterion("cartpole_eval_mean", ">=", 475,
                  "Fast check, CartPole-v1 after 50,000 steps: mean return of the greedy policy "
                  "over 100 episodes ≥ 475 (v1's 'solved' line)",
                  "Comprobación rápida, CartPole-v1 tras 50 000 pasos: retorno medio de la "
                  "política voraz en 100 episodios ≥ 475 (la línea de 'resuelto' de v1)"),
    ),
    config=Config,
    quick={"cartpole_steps": 1_024, "lander_steps": 2_048, "lander_epochs": 2,
           "eval_episodes": 3, "window": 10, "gif_max_steps": 60},
    timed=("cartpole_seconds", "cartpole_steps_per_second", "lander_seconds",
           "lander_steps_per_second"),
)

# %% [markdown] lang="en"
# ## 1. Actor, critic and advantages
# The actor is a policy network: state → a probability for each action, from which the agent
# samples. The critic is a second network: state → V(s), the return it expects from there.
# After a rollout, each step's *advantage* says how much better things went than the critic
# expected. The one-step version is the TD error δ_t = r_t + γ·V(s_{t+1}) − V(s_t): low
# variance, but only as good as the critic. Summing the whole future instead is unbiased but
# noisy. GAE (generalized advantage estimation) blends them with a factor λ:
# A_t = δ_t + γλ·δ_{t+1} + (γλ)²·δ_{t+2} + …, computed backwards as A_t = δ_t + γλ·A_{t+1}.
# Where an episode ends, both the bootstrap V(s_{t+1}) and the sum stop: the next row of the
# batch already belongs to a new episode.

# %% [markdown] lang="es"
# ## 1. Actor, crítico y ventajas
# El actor es una red de política: estado → una probabilidad por acción, de la que el agente
# muestrea. El crítico es una segunda red: estado → V(s), el retorno que espera desde ahí.
# Tras recoger experiencia, la *ventaja* de cada paso dice cuánto mejor salieron las cosas de
# lo que esperaba el crítico. La versión de un paso es el error TD
# δ_t = r_t + γ·V(s_{t+1}) − V(s_t): poca varianza, pero vale lo que valga el crítico. Sumar
# todo el futuro, en cambio, no tiene sesgo pero sí mucho ruido. GAE (estimación generalizada
# de la ventaja) mezcla las dos con un factor λ: A_t = δ_t + γλ·δ_{t+1} + (γλ)²·δ_{t+2} + …,
# calculado hacia atrás como A_t = δ_t + γλ·A_{t+1}. Donde termina un episodio se cortan el
# bootstrap V(s_{t+1}) y la suma: la fila siguiente del lote ya es de un episodio nuevo.

# %%
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.rl import evaluate, make_env, moving_average, run_episode, save_gif, torch_threads
from dlab.rl.ppo import PRESETS, train_ppo
from dlab.viz.compare import curves


# %% exercise="compute_gae"
def compute_gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor,
                last_value: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """[en] Advantages of a rollout of T steps in N environments. `rewards`, `values`
    (= V(s_t)) and `dones` are (T, N) tensors; `dones[t]` is 1.0 where the episode ended with
    step t. `last_value` (N,) is V of the state after the last step. Walking back from
    t = T - 1 to 0, with next_value = last_value for the last step and values[t + 1]
    otherwise, and alive = 1 - dones[t]:
    delta = rewards[t] + gamma * next_value * alive - values[t] and
    A[t] = delta + gamma * lam * alive * A[t + 1] (A after the last step is 0).
    Return A as a (T, N) tensor.

    [es] Ventajas de una recogida de T pasos en N entornos. `rewards`, `values` (= V(s_t)) y
    `dones` son tensores (T, N); `dones[t]` vale 1.0 donde el episodio terminó con el paso t.
    `last_value` (N,) es V del estado tras el último paso. Recorriendo de t = T - 1 a 0, con
    next_value = last_value en el último paso y values[t + 1] en los demás, y
    alive = 1 - dones[t]: delta = rewards[t] + gamma * next_value * alive - values[t] y
    A[t] = delta + gamma * lam * alive * A[t + 1] (A después del último paso vale 0).
    Devuelve A como un tensor (T, N).
    """
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    for t in reversed(range(rewards.shape[0])):
        next_value = last_value if t == rewards.shape[0] - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        advantages[t] = running
    return advantages


# %% check
import torch

from dlab.exercises import expect

_R = torch.tensor([[1.0], [0.0], [2.0]])
_V = torch.tensor([[0.5], [1.0], [0.0]])
_LAST = torch.tensor([4.0])


@ctx.check("compute_gae")
def lambda_zero_gives_the_td_errors():
    A = compute_gae(_R, _V, torch.zeros(3, 1), _LAST, 0.9, 0.0)
    expect.shape(A, (3, 1), "compute_gae(rewards (3, 1), ...)")
    expect.close(A, [[1.0 + 0.9 * 1.0 - 0.5], [0.0 + 0.9 * 0.0 - 1.0], [2.0 + 0.9 * 4.0]],
                 "compute_gae(..., gamma=0.9, lam=0.0) (one-step TD errors δ_t)")


@ctx.check("compute_gae")
def lambda_one_gives_the_discounted_return_minus_v():
    A = compute_gae(_R, _V, torch.zeros(3, 1), _LAST, 0.9, 1.0)
    g2 = 2.0 + 0.9 * 4.0
    g1 = 0.0 + 0.9 * g2
    g0 = 1.0 + 0.9 * g1
    expect.close(A, [[g0 - 0.5], [g1 - 1.0], [g2 - 0.0]],
                 "compute_gae(..., gamma=0.9, lam=1.0) (discounted return-to-go, bootstrapped "
                 "with last_value, minus V)", atol=1e-5)


@ctx.check("compute_gae")
def an_episode_end_cuts_bootstrap_and_sum():
    dones = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    rewards, values = torch.ones(3, 2), torch.full((3, 2), 0.5)
    A = compute_gae(rewards, values, dones, torch.tensor([2.0, 2.0]), 0.5, 0.5)
    expect.close(A[1, 0], 0.5, "A[1, 0] where dones[1, 0] = 1 (r - V: nothing after the end)")
    delta0 = 1.0 + 0.5 * 0.5 - 0.5
    expect.close(A[0, 0], delta0 + 0.25 * 0.5,
                 "A[0, 0], the step before an episode end (δ_0 + γλ · A[1, 0])")
    expect.close(A[2, 0], 1.0 + 0.5 * 2.0 - 0.5,
                 "A[2, 0], the first step of the new episode (uses last_value)")
    d2 = 1.0 + 0.5 * 2.0 - 0.5
    d1 = 1.0 + 0.5 * 0.5 - 0.5
    expect.close(A[:, 1], [d1 + 0.25 * (d1 + 0.25 * d2), d1 + 0.25 * d2, d2],
                 "A[:, 1], an environment whose episode does not end", atol=1e-6)


# %% [markdown] lang="en"
# ## 2. The clipped objective
# A policy-gradient step pushes up the probability of actions with a positive advantage and
# down those with a negative one. PPO reuses each batch for several epochs, so after a few
# steps the policy being trained, π_new, is no longer the one that collected the data,
# π_old. The probability ratio ρ = π_new(a|s) / π_old(a|s) corrects for that, and the clip
# stops the ratio from being pushed outside [1 − ε, 1 + ε]: the objective is
# min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A), whose gradient is zero once the ratio has moved far
# enough in the direction the advantage asks for. The `min` makes it pessimistic: a move in
# the wrong direction is never clipped away. Log-probabilities are what the networks give,
# so ρ = exp(log π_new − log π_old).

# %% [markdown] lang="es"
# ## 2. El objetivo recortado
# Un paso de gradiente de la política sube la probabilidad de las acciones con ventaja
# positiva y baja la de las que la tienen negativa. PPO reutiliza cada lote durante varias
# épocas, así que tras unos pasos la política que se entrena, π_new, ya no es la que recogió
# los datos, π_old. El cociente de probabilidades ρ = π_new(a|s) / π_old(a|s) corrige eso, y
# el recorte impide empujar el cociente fuera de [1 − ε, 1 + ε]: el objetivo es
# min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A), cuyo gradiente es cero en cuanto el cociente se ha movido
# lo bastante en la dirección que pide la ventaja. El `min` lo hace pesimista: un movimiento
# en la dirección equivocada nunca queda recortado. Las redes dan log-probabilidades, así que
# ρ = exp(log π_new − log π_old).

# %% exercise="clipped_surrogate_loss"
def clipped_surrogate_loss(new_log_prob: torch.Tensor, old_log_prob: torch.Tensor,
                           advantages: torch.Tensor, clip_coef: float) -> torch.Tensor:
    """[en] PPO's policy loss for a minibatch (all three tensors have shape (B,)): the ratio
    = exp(new_log_prob - old_log_prob), the objective per step
    min(ratio * advantages, clamp(ratio, 1 - clip_coef, 1 + clip_coef) * advantages), and the
    loss to minimize = minus its mean, a scalar. Gradients must flow through `new_log_prob`.

    [es] La pérdida de la política de PPO para un minilote (los tres tensores tienen forma
    (B,)): el cociente = exp(new_log_prob - old_log_prob), el objetivo por paso
    min(cociente * advantages, clamp(cociente, 1 - clip_coef, 1 + clip_coef) * advantages),
    y la pérdida a minimizar = menos su media, un escalar. El gradiente debe pasar por
    `new_log_prob`.
    """
    ratio = (new_log_prob - old_log_prob).exp()
    clipped = ratio.clamp(1 - clip_coef, 1 + clip_coef)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


# %% check
import torch

from dlab.exercises import expect


def _loss_and_grad(ratios, advantages):
    old = torch.zeros(len(ratios))
    new = torch.log(torch.tensor(ratios)).requires_grad_()
    loss = clipped_surrogate_loss(new, old, torch.tensor(advantages), 0.2)
    loss.backward()
    return loss, new.grad


@ctx.check("clipped_surrogate_loss")
def same_policy_gives_minus_the_mean_advantage():
    loss, grad = _loss_and_grad([1.0, 1.0, 1.0], [2.0, -1.0, 0.5])
    expect.shape(loss, (), "clipped_surrogate_loss(...) (a scalar)")
    expect.close(loss, -(2.0 - 1.0 + 0.5) / 3,
                 "clipped_surrogate_loss when new = old log-probs (ratio 1: minus the mean "
                 "advantage)")
    expect.close(grad, [-2.0 / 3, 1.0 / 3, -0.5 / 3],
                 "gradient with respect to new_log_prob at ratio 1 (-A / B: descending it "
                 "raises the actions with a positive advantage)")


@ctx.check("clipped_surrogate_loss")
def clips_only_in_the_direction_the_advantage_favours():
    loss, grad = _loss_and_grad([1.5, 0.5, 1.5, 0.5], [1.0, -1.0, -1.0, 1.0])
    expect.close(loss, -(1.2 - 0.8 - 1.5 + 0.5) / 4,
                 "clipped_surrogate_loss(ratios=[1.5, 0.5, 1.5, 0.5], advantages=[1, -1, -1, "
                 "1], clip 0.2) (min of unclipped and clipped, per step)")
    expect.close(grad, [0.0, 0.0, 1.5 / 4, -0.5 / 4],
                 "gradient with respect to new_log_prob (zero where the clip is active, "
                 "ratio · (-A) / B elsewhere)", atol=1e-6)


# %% [markdown] lang="en"
# ## 3. The training loop
# `dlab.rl.ppo.train_ppo` repeats: play `rollout` steps in each copy of the environment
# (gymnasium's `SyncVectorEnv`: all copies in one process, stepped one after the other),
# compute the advantages with your `compute_gae`, then run several epochs of Adam over
# shuffled minibatches of the batch, minimizing your `clipped_surrogate_loss` + 0.5 · the
# critic's squared error − a small entropy bonus (which keeps the policy from turning
# deterministic too early). Advantages are normalized per minibatch. An episode cut by the
# time limit is not a real end: its last state still has a future, so the loop adds
# γ·V(last state) to its final reward before GAE. The networks are two tanh MLPs of 64 and 64
# units, like Stable-Baselines3's default `MlpPolicy`.
#
# First the fast check. CartPole gives +1 per step until the pole falls or 500 steps pass;
# short rollouts in 8 copies, 20 epochs per batch and a learning rate that decays linearly
# to zero solve it within the course's 50,000 steps.

# %% [markdown] lang="es"
# ## 3. El bucle de entrenamiento
# `dlab.rl.ppo.train_ppo` repite: jugar `rollout` pasos en cada copia del entorno (el
# `SyncVectorEnv` de gymnasium: todas las copias en un solo proceso, una tras otra), calcular
# las ventajas con tu `compute_gae` y hacer varias épocas de Adam sobre minilotes barajados
# del lote, minimizando tu `clipped_surrogate_loss` + 0.5 · el error cuadrático del crítico −
# un pequeño bonus de entropía (que evita que la política se vuelva determinista demasiado
# pronto). Las ventajas se normalizan por minilote. Un episodio cortado por el límite de
# tiempo no es un final de verdad: su último estado aún tiene futuro, así que el bucle suma
# γ·V(último estado) a su recompensa final antes de GAE. Las redes son dos MLP tanh de 64 y
# 64 unidades, como la `MlpPolicy` por defecto de Stable-Baselines3.
#
# Primero la comprobación rápida. CartPole da +1 por paso hasta que el palo cae o pasan 500
# pasos; recogidas cortas en 8 copias, 20 épocas por lote y una tasa de aprendizaje que baja
# linealmente hasta cero lo resuelven dentro de los 50 000 pasos del curso.

# %%
def train(config):
    """Train our PPO with your two functions; TensorBoard logs go to tensorboard/<env_id>."""
    env_id = config.env_id
    every = max(1, -(-config.total_steps // config.batch_size) // 10)

    def report(result):
        if len(result.log) % every == 0:
            recent = result.returns[-cfg.window:]
            ctx.console.print(
                f"{env_id} · {result.steps:7d} " + ctx.t("steps", "pasos") + " · "
                + ctx.t(f"mean of the last {len(recent)} episodes",
                        f"media de los últimos {len(recent)} episodios")
                + f" {np.mean(recent) if recent else float('nan'):7.1f} · "
                f"{result.steps_per_second:5.0f} " + ctx.t("steps/s", "pasos/s"),
                highlight=False)

    return train_ppo(config, seed=ctx.seed, gae_fn=compute_gae,
                     loss_fn=clipped_surrogate_loss, log_dir=ctx.out / "tensorboard" / env_id,
                     on_iteration=report)


def evaluation(env_id, agent):
    """Returns of the greedy policy over fresh episodes (a seed training never used)."""
    with torch_threads(1):  # small networks: one thread is the fastest
        return evaluate(make_env(env_id, ctx.seed + 10_000), agent.greedy, cfg.eval_episodes)


configs = {"CartPole-v1": replace(PRESETS["CartPole-v1"], total_steps=cfg.cartpole_steps),
           "LunarLander-v3": replace(PRESETS["LunarLander-v3"], total_steps=cfg.lander_steps,
                                     update_epochs=cfg.lander_epochs)}
SHOWN = ("total_steps", "num_envs", "num_steps", "num_minibatches", "minibatch_size",
         "update_epochs", "lr", "anneal_lr", "gamma", "gae_lambda", "clip_coef", "ent_coef",
         "vf_coef", "max_grad_norm")
ctx.table([ctx.t("setting", "ajuste"), *configs],
          [[name, *(getattr(c, name) for c in configs.values())] for name in SHOWN],
          title=ctx.t("PPO settings (dlab.rl.ppo.PRESETS)",
                      "Ajustes de PPO (dlab.rl.ppo.PRESETS)"))
cartpole = train(configs["CartPole-v1"])
cartpole_eval = evaluation("CartPole-v1", cartpole.agent)

# %% [markdown] lang="en"
# ## 4. LunarLander
# The lander starts high with a random push and must come to rest between the flags. Shaped
# rewards: moving towards the pad and slowing down pay, each leg touching the ground +10,
# firing an engine costs fuel, crashing −100 and landing +100. Four actions: nothing, left
# engine, main engine, right engine. An episode scoring 200 or more counts as solved. With
# γ = 0.999 a reward 1,000 steps away still counts for a third of its value, which is what
# lets the agent learn that a careful landing is worth the fuel. 16 copies of the
# environment feed batches of 2,048 steps, and each batch gets 10 epochs of minibatches of
# 64, as in Stable-Baselines3's defaults. The learning rate stays at 3e-4: decaying it to zero
# left the lander short of 200 in our trials. The TensorBoard logs are in the run folder:
# `tensorboard --logdir <run folder>/tensorboard`.

# %% [markdown] lang="es"
# ## 4. LunarLander
# El módulo de aterrizaje empieza arriba con un empujón al azar y debe quedar quieto entre
# las banderas. Recompensas con forma: acercarse a la plataforma y frenar suman, cada pata
# que toca el suelo +10, encender un motor gasta combustible, estrellarse −100 y aterrizar
# +100. Cuatro acciones: nada, motor izquierdo, motor principal, motor derecho. Un episodio
# con 200 puntos o más cuenta como resuelto. Con γ = 0.999, una recompensa a 1000 pasos de
# distancia todavía cuenta un tercio de su valor, y eso permite aprender que un aterrizaje
# cuidadoso compensa el combustible. 16 copias del entorno alimentan lotes de 2048 pasos y cada lote recibe 10
# épocas de minilotes de 64, como en la configuración por defecto de Stable-Baselines3. La
# tasa de aprendizaje se queda en 3e-4: bajarla hasta cero dejó al módulo por debajo de 200
# en nuestras pruebas. Los registros de TensorBoard quedan en la carpeta de la ejecución:
# `tensorboard --logdir <carpeta de la ejecución>/tensorboard`.

# %%
lander = train(configs["LunarLander-v3"])
lander_eval = evaluation("LunarLander-v3", lander.agent)
lander_returns = np.array(lander.returns)
first = lander_returns[:cfg.window].mean()
last = lander_returns[-cfg.window:].mean()
ctx.table([ctx.t("environment", "entorno"), ctx.t("env steps", "pasos del entorno"),
           ctx.t("training episodes", "episodios de entrenamiento"),
           ctx.t(f"greedy policy, {cfg.eval_episodes} episodes",
                 f"política voraz, {cfg.eval_episodes} episodios"),
           ctx.t("seconds", "segundos"), ctx.t("steps/s", "pasos/s")],
          [[name, run.steps, len(run.returns), f"{ev.mean():.1f} ± {ev.std():.1f}",
            run.seconds, run.steps_per_second]
           for name, run, ev in (("CartPole-v1", cartpole, cartpole_eval),
                                 ("LunarLander-v3", lander, lander_eval))])

# %% [markdown] lang="en"
# ## 5. Learning curves
# The return of every training episode (of the stochastic policy, while it learns) against
# the environment steps spent so far, with its moving average, for both environments.
# Below, what PPO watches during an update: the policy's entropy (how random it still is),
# the approximate KL divergence between π_new and π_old and the share of clipped steps (how
# far each update moved the policy), and the share of the returns' variance the critic
# explains.

# %% [markdown] lang="es"
# ## 5. Curvas de aprendizaje
# El retorno de cada episodio de entrenamiento (de la política estocástica, mientras aprende)
# frente a los pasos del entorno gastados hasta entonces, con su media móvil, en los dos
# entornos. Debajo, lo que PPO vigila durante una actualización: la entropía de la política
# (cuán aleatoria sigue siendo), la divergencia KL aproximada entre π_new y π_old y la
# proporción de pasos recortados (cuánto movió la política cada actualización), y la parte
# de la varianza de los retornos que explica el crítico.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
for ax, name, run, line in ((axes[0], "CartPole-v1", cartpole, 475.0),
                            (axes[1], "LunarLander-v3", lander, 200.0)):
    steps, values = np.array(run.return_steps), np.array(run.returns)
    ax.plot(steps, values, color="tab:blue", alpha=0.2, linewidth=0.7)
    curves(ax, {ctx.t(f"mean of the last {cfg.window} episodes",
                      f"media de los últimos {cfg.window} episodios"):
                (steps, moving_average(values, cfg.window))},
           title=ctx.t(f"{name}: return per training episode",
                       f"{name}: retorno por episodio de entrenamiento"),
           xlabel=ctx.t("environment steps", "pasos del entorno"),
           ylabel=ctx.t("return", "retorno"),
           hlines={ctx.t(f"{line:g}: solved", f"{line:g}: resuelto"): line})
fig.tight_layout()
ctx.figure("learning_curves", fig)

STATS = {"entropy": ctx.t("policy entropy (nats)", "entropía de la política (nats)"),
         "approx_kl": ctx.t("approximate KL(π_old ‖ π_new)", "KL aproximada (π_old ‖ π_new)"),
         "clip_fraction": ctx.t("share of clipped steps", "proporción de pasos recortados"),
         "explained_variance": ctx.t("variance explained by the critic",
                                     "varianza explicada por el crítico")}
fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
steps = [s["step"] for s in lander.log]
for ax, (key, label) in zip(axes, STATS.items()):
    ax.plot(steps, [s[key] for s in lander.log], color="tab:purple", linewidth=1.2)
    ax.set_title(label, fontsize=9)
    ax.set_xlabel(ctx.t("environment steps", "pasos del entorno"), fontsize=8)
    ax.grid(alpha=0.3)
axes[3].set_ylim(-1, 1)
fig.suptitle(ctx.t("LunarLander-v3: PPO's update statistics",
                   "LunarLander-v3: estadísticas de las actualizaciones de PPO"))
fig.tight_layout()
ctx.figure("update_statistics", fig)

# %% [markdown] lang="en"
# ## 6. One landing
# One evaluation episode of the greedy policy, rendered as an animated GIF
# (`figures/lunarlander.gif` in the run folder).

# %% [markdown] lang="es"
# ## 6. Un aterrizaje
# Un episodio de evaluación de la política voraz, dibujado como GIF animado
# (`figures/lunarlander.gif` en la carpeta de la ejecución).

# %%
render_env = make_env("LunarLander-v3", ctx.seed + 10_000, render_mode="rgb_array")
landing = run_episode(render_env, lander.agent.greedy, render=True,
                      max_steps=cfg.gif_max_steps)
render_env.close()
gif = save_gif(landing.frames, ctx.out / "figures" / "lunarlander.gif", fps=50, every=2,
               scale=0.5)
ctx.console.print(ctx.t(f"GIF: {gif} (return {landing.total_reward:.1f}, {landing.length} "
                        "steps)",
                        f"GIF: {gif} (retorno {landing.total_reward:.1f}, {landing.length} "
                        "pasos)"), highlight=False)
if ctx.notebook:
    from IPython.display import Image, display

    display(Image(filename=str(gif)))

# %%
ctx.finish({
    "lander_eval_mean": float(lander_eval.mean()),
    "lander_eval_std": float(lander_eval.std()),
    "lander_eval_share_200": float((lander_eval >= 200).mean()),
    "lander_return_gain": float(last - first),
    "lander_first_mean_return": float(first),
    "lander_last_mean_return": float(last),
    "lander_training_episodes": len(lander.returns),
    "lander_env_steps": lander.steps,
    "cartpole_eval_mean": float(cartpole_eval.mean()),
    "cartpole_eval_std": float(cartpole_eval.std()),
    "cartpole_last_mean_return": float(np.mean(cartpole.returns[-cfg.window:])),
    "cartpole_env_steps": cartpole.steps,
    "cartpole_seconds": cartpole.seconds,
    "cartpole_steps_per_second": cartpole.steps_per_second,
    "lander_seconds": lander.seconds,
    "lander_steps_per_second": lander.steps_per_second,
})

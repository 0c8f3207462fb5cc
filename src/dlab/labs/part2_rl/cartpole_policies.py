# %% [markdown] lang="en"
# Before any learning, three hand-made policies for CartPole-v1: pushing at random, always
# pushing right, and a rule that pushes the cart toward the side the pole is falling. Each
# plays 100 episodes from the same seeded starts; their returns (one point per step the pole
# stays up, 500 at most) set the yardsticks that the learning agents of the next labs must
# beat. One episode of each policy is rendered as an animated GIF.

# %% [markdown] lang="es"
# Antes de aprender nada, tres políticas hechas a mano para CartPole-v1: empujar al azar,
# empujar siempre a la derecha y una regla que empuja el carro hacia el lado al que cae el
# palo. Cada una juega 100 episodios desde los mismos estados iniciales (con semilla); sus
# retornos (un punto por cada paso que el palo sigue en pie, 500 como máximo) fijan las
# referencias que los agentes que aprenden en los próximos laboratorios deben superar. Un
# episodio de cada política se dibuja como GIF animado.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    episodes: int = 100        # per policy, as the course asks
    gamma: float = 0.99        # for the discounted return G_0 of each episode
    gif_max_steps: int = 500   # CartPole-v1 truncates at 500 anyway
    gif_every: int = 2         # keep one rendered frame in two (25 fps of the env's 50)
    gif_scale: float = 0.5     # 600×400 frames → 300×200: small files

    def check(self):
        positive(episodes=self.episodes, gamma=self.gamma, gif_max_steps=self.gif_max_steps,
                 gif_every=self.gif_every, gif_scale=self.gif_scale)


LAB = Lab(
    id="cartpole-policies",
    title_en="CartPole-v1 with hand-made policies: random, always right, lean-following",
    title_es="CartPole-v1 con políticas hechas a mano: al azar, siempre derecha, seguir la "
             "inclinación",
    source="Part 2 · class 161 (homework)",
    block="part2-rl",
    dataset="Gymnasium CartPole-v1 (episodes seeded from the run's seed)",
    criteria=(
        Criterion("random_mean_return", "between", (15, 30),
                  "Random policy: mean return ≈ 20 steps (within [15, 30]) over the episodes",
                  "Política al azar: retorno medio ≈ 20 pasos (entre 15 y 30) en los episodios"),
        Criterion("lean_mean_return", ">=", 80,
                  "Lean-following heuristic (angle + angular velocity): mean return ≥ 80",
                  "Heurística que sigue la inclinación (ángulo + velocidad angular): retorno "
                  "medio ≥ 80"),
        Criterion("always_right_to_random", "<", 1.0,
                  "\"Always right\" dies fast: its mean return / the random policy's < 1",
                  "\"Siempre derecha\" muere rápido: su retorno medio / el de la política al "
                  "azar < 1"),
        Criterion("gifs_written", "is", True,
                  "One GIF per policy was written (figures/*.gif)",
                  "Se escribió un GIF por política (figures/*.gif)"),
    ),
    config=Config,
    quick={"episodes": 20, "gif_max_steps": 40, "gif_every": 4, "gif_scale": 0.3},
)

# %% [markdown] lang="en"
# ## 1. The environment
# An agent acts, the environment answers with the next observation and a reward. Gymnasium's
# `env.step(action)` returns five values: `obs, reward, terminated, truncated, info`.
# `terminated` means the episode ended inside the task (the pole fell past 12° or the cart
# left the track); `truncated` means an outside limit cut it (CartPole-v1 stops at 500
# steps). Here are the observation and action spaces of three classic environments.

# %% [markdown] lang="es"
# Un agente actúa y el entorno responde con la siguiente observación y una recompensa.
# `env.step(action)` de Gymnasium devuelve cinco valores: `obs, reward, terminated,
# truncated, info`. `terminated` indica que el episodio terminó dentro de la tarea (el palo
# pasó de 12° o el carro salió de la pista); `truncated`, que lo cortó un límite externo
# (CartPole-v1 se detiene a los 500 pasos). Estos son los espacios de observaciones y de
# acciones de tres entornos clásicos.

# %%
import matplotlib.pyplot as plt
import numpy as np

from dlab.rl import make_env, run_episode, save_gif

ENVS = ("CartPole-v1", "MountainCar-v0", "LunarLander-v3")
spaces = []
for env_id in ENVS:
    env = make_env(env_id, ctx.seed)
    spaces.append([env_id, str(env.observation_space), str(env.action_space)])
    env.close()
ctx.table(["env", ctx.t("observation space", "espacio de observaciones"),
           ctx.t("action space", "espacio de acciones")], spaces)

# %% [markdown] lang="en"
# CartPole's observation holds four numbers: cart position, cart velocity, pole angle
# (radians, positive when the pole leans right) and pole angular velocity. The two actions
# push the cart left (0) or right (1).
#
# ## 2. A policy that follows the lean
# To keep a broom upright on your hand you move the hand under it, toward the side it falls.
# The pole angle alone says where the pole *is*; the angular velocity says where it is
# *going*. Pushing toward the sign of angle + angular velocity reacts before the angle grows,
# which is what keeps the pole up for hundreds of steps.

# %% [markdown] lang="es"
# La observación de CartPole tiene cuatro números: posición del carro, velocidad del carro,
# ángulo del palo (en radianes, positivo cuando se inclina a la derecha) y velocidad angular
# del palo. Las dos acciones empujan el carro a la izquierda (0) o a la derecha (1).
#
# ## 2. Una política que sigue la inclinación
# Para mantener una escoba de pie sobre la mano, movemos la mano por debajo, hacia el lado al
# que cae. El ángulo solo dice dónde *está* el palo; la velocidad angular dice hacia dónde
# *va*. Empujar según el signo de ángulo + velocidad angular reacciona antes de que el ángulo
# crezca, y eso mantiene el palo en pie durante cientos de pasos.

# %% exercise="lean_policy"
def lean_policy(obs: np.ndarray) -> int:
    """[en] The lean-following policy for CartPole: `obs` is
    [cart position, cart velocity, pole angle, pole angular velocity]. Return the action 1
    (push right) when pole angle + pole angular velocity > 0, else 0 (push left), as a
    plain Python int.

    [es] La política que sigue la inclinación en CartPole: `obs` es
    [posición del carro, velocidad del carro, ángulo del palo, velocidad angular del palo].
    Devuelve la acción 1 (empujar a la derecha) cuando ángulo + velocidad angular > 0 y 0
    (empujar a la izquierda) si no, como un int de Python.
    """
    return int(obs[2] + obs[3] > 0)


# %% check
import numpy as np

from dlab.exercises import expect


@ctx.check("lean_policy")
def pushes_toward_the_lean():
    expect.type(lean_policy(np.array([0.0, 0.0, 0.05, 0.1], dtype=np.float32)), int,
                "lean_policy(obs)")
    expect.equal(lean_policy(np.array([0.0, 0.0, 0.05, 0.1], dtype=np.float32)), 1,
                 "lean_policy([0, 0, 0.05, 0.1]) (pole leaning and falling right)")
    expect.equal(lean_policy(np.array([0.0, 0.0, -0.05, -0.1], dtype=np.float32)), 0,
                 "lean_policy([0, 0, -0.05, -0.1]) (pole leaning and falling left)")


@ctx.check("lean_policy")
def uses_the_angular_velocity_not_the_cart():
    expect.equal(lean_policy(np.array([0.0, 0.0, 0.02, -0.5], dtype=np.float32)), 0,
                 "lean_policy([0, 0, 0.02, -0.5]) (leaning right but swinging left fast: "
                 "0.02 - 0.5 < 0)")
    expect.equal(lean_policy(np.array([0.0, 0.0, -0.02, 0.5], dtype=np.float32)), 1,
                 "lean_policy([0, 0, -0.02, 0.5]) (leaning left but swinging right fast)")
    expect.equal(lean_policy(np.array([2.0, 3.0, -0.05, -0.1], dtype=np.float32)), 0,
                 "lean_policy([2, 3, -0.05, -0.1]) (the cart's position and velocity do not "
                 "count)")


# %% [markdown] lang="en"
# ## 3. The discounted return
# A return adds the rewards of an episode; the *discounted* return
# G₀ = r₀ + γ·r₁ + γ²·r₂ + … weighs a reward k steps away by γᵏ, so that with γ = 0.99 a
# reward 100 steps ahead counts about a third. The learning labs maximise it.

# %% [markdown] lang="es"
# ## 3. El retorno descontado
# Un retorno suma las recompensas de un episodio; el retorno *descontado*
# G₀ = r₀ + γ·r₁ + γ²·r₂ + … pondera una recompensa a k pasos por γᵏ, de modo que con
# γ = 0.99 una recompensa a 100 pasos cuenta alrededor de un tercio. Los laboratorios que
# aprenden lo maximizan.

# %% exercise="discounted_return"
def discounted_return(rewards: list, gamma: float) -> float:
    """[en] Return G_0 = rewards[0] + gamma * rewards[1] + gamma**2 * rewards[2] + ... for
    the rewards of one episode, in the order they were received, as a Python float.

    [es] Devuelve G_0 = rewards[0] + gamma * rewards[1] + gamma**2 * rewards[2] + ... para
    las recompensas de un episodio, en el orden en que se recibieron, como float de Python.
    """
    total = 0.0
    for reward in reversed(rewards):
        total = reward + gamma * total
    return float(total)


# %% check
from dlab.exercises import expect


@ctx.check("discounted_return")
def weighs_later_rewards_less():
    expect.close(discounted_return([1.0, 0.0, 2.0], 0.5), 1.5,
                 "discounted_return([1, 0, 2], 0.5) (1 + 0.5·0 + 0.25·2)")
    expect.close(discounted_return([3.0, 1.0], 0.9), 3.9, "discounted_return([3, 1], 0.9)")
    expect.close(discounted_return([1.0] * 4, 1.0), 4.0,
                 "discounted_return([1, 1, 1, 1], 1.0) (no discount: the plain sum)")


@ctx.check("discounted_return")
def handles_long_and_empty_episodes():
    expect.close(discounted_return([1.0] * 500, 0.99), (1 - 0.99 ** 500) / (1 - 0.99),
                 "discounted_return([1] * 500, 0.99)", atol=1e-6)
    expect.close(discounted_return([], 0.99), 0.0, "discounted_return([], 0.99)")


# %% [markdown] lang="en"
# ## 4. A hundred episodes per policy
# Each policy gets its own copy of the environment, seeded alike, so all of them start their
# episodes from the same states. The rule from the course's first exercise, which looks at
# the angle only, plays too, for comparison.

# %% [markdown] lang="es"
# Cada política recibe su propia copia del entorno, con la misma semilla, así que todas
# empiezan sus episodios desde los mismos estados. La regla del primer ejercicio del curso,
# que solo mira el ángulo, también juega, para comparar.

# %%
def random_policy_for(env):
    """Pushes left or right with equal chance, from the env's own seeded action space."""
    return lambda obs: int(env.action_space.sample())


POLICIES = {
    "random": random_policy_for,
    "always_right": lambda env: (lambda obs: 1),
    "lean": lambda env: lean_policy,
    "angle_only": lambda env: (lambda obs: int(obs[2] > 0)),
}
LABELS = {"random": ctx.t("random", "al azar"),
          "always_right": ctx.t("always right", "siempre derecha"),
          "lean": ctx.t("lean: angle + angular velocity", "inclinación: ángulo + vel. angular"),
          "angle_only": ctx.t("angle only (course rule)", "solo el ángulo (regla del curso)")}

returns, discounted = {}, {}
for name, make_policy in POLICIES.items():
    env = make_env("CartPole-v1", ctx.seed)
    policy = make_policy(env)
    rewards_per_episode = []
    for _ in range(cfg.episodes):
        episode = run_episode(env, policy)
        rewards_per_episode.append([1.0] * episode.length)  # CartPole pays 1 per step
    env.close()
    returns[name] = np.array([sum(r) for r in rewards_per_episode])
    discounted[name] = np.array([discounted_return(r, cfg.gamma) for r in rewards_per_episode])

ctx.table([ctx.t("policy", "política"), ctx.t("mean return", "retorno medio"),
           ctx.t("std", "desv. típica"), "min", "max", ctx.t(f"mean G₀ (γ={cfg.gamma})",
                                                           f"G₀ medio (γ={cfg.gamma})")],
          [[LABELS[n], returns[n].mean(), returns[n].std(), returns[n].min(), returns[n].max(),
            discounted[n].mean()] for n in POLICIES],
          title=ctx.t(f"{cfg.episodes} episodes per policy", f"{cfg.episodes} episodios por "
                      "política"))

# %%
fig, ax = plt.subplots(figsize=(8, 4))
bins = np.linspace(0, 500, 51)
for name in POLICIES:
    ax.hist(returns[name], bins=bins, alpha=0.6, label=LABELS[name])
ax.set_xlabel(ctx.t("return (steps the pole stayed up)", "retorno (pasos con el palo en pie)"))
ax.set_ylabel(ctx.t("episodes", "episodios"))
ax.set_yscale("log")
ax.legend()
ax.set_title(ctx.t("Returns of each policy", "Retornos de cada política"))
ctx.figure("returns", fig)

# %% [markdown] lang="en"
# Pushing always right tips the pole left within about ten steps. Random pushes cancel out
# on average and last about twice as long. The angle-only rule corrects too late: by the time
# the angle changes sign the pole is already swinging hard, so it overshoots back and forth
# (about 40 steps). Adding the angular velocity anticipates the swing and nearly always
# reaches the 500-step limit. The discounted return G₀ saturates near 1/(1 − γ) = 100 for long
# episodes: the far future barely counts.
#
# ## 5. Watching one episode of each
# The environment draws itself as an image when made with `render_mode="rgb_array"`; the
# frames of one episode become a GIF (`figures/<policy>.gif` in the run folder), and a strip
# of frames goes into the report.

# %% [markdown] lang="es"
# Empujar siempre a la derecha hace caer el palo hacia la izquierda en unos diez pasos. Los
# empujes al azar se compensan en promedio y duran el doble. La regla de solo el ángulo
# corrige tarde: cuando el ángulo cambia de signo el palo ya oscila con fuerza, así que se pasa
# de un lado a otro (unos 40 pasos). Sumar la velocidad angular anticipa la oscilación y casi
# siempre llega al límite de 500 pasos. El retorno descontado G₀ se satura cerca de
# 1/(1 − γ) = 100 en episodios largos: el futuro lejano apenas cuenta.
#
# ## 5. Un episodio de cada una, en imágenes
# El entorno se dibuja como imagen cuando se crea con `render_mode="rgb_array"`; los cuadros
# de un episodio forman un GIF (`figures/<política>.gif` en la carpeta de la ejecución) y una
# tira de cuadros va al informe.

# %%
SHOWN = ("random", "always_right", "lean")
gifs, strips = {}, {}
for name in SHOWN:
    env = make_env("CartPole-v1", ctx.seed, render_mode="rgb_array")
    episode = run_episode(env, POLICIES[name](env), render=True, max_steps=cfg.gif_max_steps)
    env.close()
    gifs[name] = save_gif(episode.frames, ctx.out / "figures" / f"{name}.gif",
                          every=cfg.gif_every, scale=cfg.gif_scale)
    picks = np.linspace(0, len(episode.frames) - 1, 4).round().astype(int)
    strips[name] = [(int(i), episode.frames[i]) for i in picks]
    if ctx.notebook:
        from IPython.display import Image, display

        display(Image(filename=str(gifs[name])))

fig, axes = plt.subplots(len(SHOWN), 4, figsize=(12, 1.7 * len(SHOWN)))
for row, name in zip(axes, SHOWN):
    for ax, (step, frame) in zip(row, strips[name]):
        ax.imshow(frame[100:330])  # the track and the pole; skip the empty sky and floor
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{LABELS[name]} · " + ctx.t(f"step {step}", f"paso {step}"), fontsize=8)
fig.tight_layout()
ctx.figure("episodes", fig)

# %%
ctx.finish({
    **{f"{name}_mean_return": float(returns[name].mean()) for name in POLICIES},
    **{f"{name}_std_return": float(returns[name].std()) for name in POLICIES},
    **{f"{name}_mean_discounted_return": float(discounted[name].mean()) for name in POLICIES},
    "always_right_to_random": float(returns["always_right"].mean() / returns["random"].mean()),
    "gifs_written": all(path.exists() for path in gifs.values()),
})

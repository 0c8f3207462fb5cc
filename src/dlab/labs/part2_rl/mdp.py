# %% [markdown] lang="en"
# FrozenLake is a Markov decision process small enough to write down: 16 cells, 4 actions,
# and a table of where each action may take you on slippery ice. With that table, value
# iteration and policy iteration compute the best possible policy exactly, and it wins about
# three episodes in four while avoiding the holes. Then the table is hidden: Q-learning and
# SARSA learn from experience alone, on FrozenLake and on Taxi, and end up close to the
# policy that planning found.

# %% [markdown] lang="es"
# FrozenLake es un proceso de decisión de Markov lo bastante pequeño como para escribirlo
# entero: 16 casillas, 4 acciones y una tabla de adónde puede llevarte cada acción sobre el
# hielo resbaladizo. Con esa tabla, la iteración de valores y la iteración de políticas
# calculan exactamente la mejor política posible, que gana unos tres episodios de cada cuatro
# esquivando los agujeros. Después se oculta la tabla: Q-learning y SARSA aprenden solo de la
# experiencia, en FrozenLake y en Taxi, y terminan cerca de la política que encontró la
# planificación.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import ConfigError, positive


@dataclass
class Config:
    gamma: float = 0.99
    tol: float = 1e-6               # value iteration stops when no value moves more than this
    eval_episodes: int = 1000       # FrozenLake success rates (the course's 1 000 episodes)
    lake_episodes: int = 10_000     # Q-learning / SARSA training episodes on FrozenLake
    lake_alpha: float = 0.05        # slippery ice: small steps average the noise out
    taxi_episodes: int = 8000      # SARSA's greedy policy still loops in places at 5 000
    taxi_alpha: float = 0.2         # Taxi is deterministic: larger steps are safe
    taxi_eval_episodes: int = 200
    epsilon_end: float = 0.05
    decay_fraction: float = 0.5     # epsilon goes 1 → epsilon_end over this share of episodes
    curve_window: int = 500         # moving average of the training curves, in episodes

    def check(self):
        positive(tol=self.tol, eval_episodes=self.eval_episodes,
                 lake_episodes=self.lake_episodes, lake_alpha=self.lake_alpha,
                 taxi_episodes=self.taxi_episodes, taxi_alpha=self.taxi_alpha,
                 taxi_eval_episodes=self.taxi_eval_episodes, decay_fraction=self.decay_fraction,
                 curve_window=self.curve_window)
        if not 0 < self.gamma < 1:
            raise ConfigError(f"gamma must be in (0, 1) for value iteration to converge, "
                              f"got {self.gamma}.")


LAB = Lab(
    id="mdp",
    title_en="FrozenLake as an MDP: value and policy iteration, then Q-learning and SARSA",
    title_es="FrozenLake como MDP: iteración de valores y de políticas, luego Q-learning y "
             "SARSA",
    source="Part 2 · class 163 (homework) and class 164 (tabular Q-learning)",
    block="part2-rl",
    dataset="Gymnasium FrozenLake-v1 (4×4, is_slippery=True) and Taxi-v4 (seeded episodes)",
    criteria=(
        Criterion("vi_success_rate", ">=", 0.7,
                  "Value-iteration policy: success rate ≥ 0.7 over the evaluation episodes on "
                  "the slippery lake",
                  "Política de iteración de valores: tasa de éxito ≥ 0.7 en los episodios de "
                  "evaluación sobre el lago resbaladizo"),
        Criterion("vi_pi_agree", "is", True,
                  "Value iteration and policy iteration agree (same V* within 1e-4, every "
                  "action of each optimal for the other)",
                  "La iteración de valores y la de políticas coinciden (mismo V* con error "
                  "< 1e-4, cada acción de una es óptima para la otra)"),
        Criterion("vi_risky_states", "<=", 0,
                  "Safe paths: number of cells where the optimal action is more likely to slip "
                  "into a hole on the next step than the safest action there = 0",
                  "Caminos seguros: casillas donde la acción óptima tiene más probabilidad de "
                  "resbalar a un agujero en el paso siguiente que la acción más segura = 0"),
        Criterion("vi_to_shortest_hole_rate", "<", 0.5,
                  "Safe paths: the optimal policy falls into a hole in less than half as many "
                  "episodes as the shortest route does",
                  "Caminos seguros: la política óptima cae en un agujero en menos de la mitad "
                  "de episodios que la ruta más corta"),
        Criterion("lake_qlearning_success_share", ">=", 0.9,
                  "FrozenLake: Q-learning's greedy policy reaches ≥ 90% of the optimal "
                  "success rate",
                  "FrozenLake: la política voraz de Q-learning alcanza ≥ 90% de la tasa de "
                  "éxito óptima"),
        Criterion("lake_sarsa_success_share", ">=", 0.9,
                  "FrozenLake: SARSA's greedy policy reaches ≥ 90% of the optimal success rate",
                  "FrozenLake: la política voraz de SARSA alcanza ≥ 90% de la tasa de éxito "
                  "óptima"),
        Criterion("taxi_qlearning_optimal_share", ">=", 0.95,
                  "Taxi: Q-learning's greedy action is optimal in ≥ 95% of the states its "
                  "evaluation episodes visit",
                  "Taxi: la acción voraz de Q-learning es óptima en ≥ 95% de los estados que "
                  "visitan sus episodios de evaluación"),
        Criterion("taxi_sarsa_optimal_share", ">=", 0.9,
                  "Taxi: SARSA's greedy action is optimal in ≥ 90% of the states its "
                  "evaluation episodes visit",
                  "Taxi: la acción voraz de SARSA es óptima en ≥ 90% de los estados que "
                  "visitan sus episodios de evaluación"),
        Criterion("taxi_worst_return_gap", "<=", 0.5,
                  "Taxi: the greedy policies of both Q-learning and SARSA score a mean return "
                  "within 0.5 of the optimal policy's",
                  "Taxi: las políticas voraces de Q-learning y de SARSA obtienen un retorno "
                  "medio a menos de 0.5 del de la política óptima"),
    ),
    config=Config,
    quick={"eval_episodes": 100, "lake_episodes": 1000, "taxi_episodes": 300,
           "taxi_eval_episodes": 20, "curve_window": 100},
)

# %% [markdown] lang="en"
# ## 1. The model, read from the environment
# An MDP is a set of states S, a set of actions A, transition probabilities P(s' | s, a), a
# reward R and a discount γ. Gymnasium's toy-text environments carry their whole model in
# `env.unwrapped.P` (`env.P` fails: `gym.make` wraps the environment, and the wrappers do not
# pass that attribute on). For each state and action it lists the possible outcomes as
# `(probability, next state, reward, terminated)`. On slippery ice the cell you aim for is
# reached only one time in three; the other two thirds slide you sideways.
#
# Two arrays hold what planning needs: `P[s, a, s']`, the probability of landing in `s'` *and
# going on* (outcomes that end the episode, in a hole or at the goal, are left out, so
# nothing is counted after the end), and `R[s, a]`, the expected immediate reward.

# %% [markdown] lang="es"
# ## 1. El modelo, leído del entorno
# Un MDP es un conjunto de estados S, uno de acciones A, probabilidades de transición
# P(s' | s, a), una recompensa R y un descuento γ. Los entornos toy-text de Gymnasium llevan
# su modelo completo en `env.unwrapped.P` (`env.P` falla: `gym.make` envuelve el entorno y los
# envoltorios no dejan pasar ese atributo). Para cada estado y acción lista los resultados
# posibles como `(probabilidad, siguiente estado, recompensa, terminado)`. Sobre hielo
# resbaladizo la casilla a la que apuntas se alcanza solo una vez de cada tres; los otros dos
# tercios te deslizan hacia un costado.
#
# Dos arreglos guardan lo que necesita la planificación: `P[s, a, s']`, la probabilidad de
# caer en `s'` *y seguir* (los resultados que terminan el episodio, en un agujero o en la
# meta, quedan fuera, así no se cuenta nada después del final), y `R[s, a]`, la recompensa
# inmediata esperada.

# %%
import matplotlib.pyplot as plt
import numpy as np

from dlab.rl import evaluate, make_env, run_episode
from dlab.rl.plots import draw_grid_policy, learning_curves
from dlab.rl.tabular import (TDConfig, model_from_env, optimal_actions, policy_iteration,
                             sarsa_update, td_control, value_iteration)

ACTION_NAMES = ctx.t("left down right up", "izquierda abajo derecha arriba").split()
lake = make_env("FrozenLake-v1", ctx.seed, is_slippery=True)
desc = lake.unwrapped.desc.astype(str)
P, R = model_from_env(lake)
holes = {s for s, letter in enumerate(desc.ravel()) if letter == "H"}
playable = [s for s, letter in enumerate(desc.ravel()) if letter in "SF"]
ctx.table([ctx.t("map", "mapa"), ctx.t("states", "estados"), ctx.t("actions", "acciones"),
           ctx.t("P shape", "forma de P"), ctx.t("R shape", "forma de R")],
          [[" / ".join("".join(row) for row in desc), P.shape[0], P.shape[1], P.shape, R.shape]])
ctx.table([ctx.t("outcome", "resultado"), ctx.t("probability", "probabilidad"),
           ctx.t("next state", "siguiente estado"), ctx.t("reward", "recompensa"),
           ctx.t("terminated", "terminado")],
          [[i, p, s_next, r, done] for i, (p, s_next, r, done)
           in enumerate(lake.unwrapped.P[14][2])],
          title=ctx.t("env.unwrapped.P[14][2]: 'right' from the cell left of the goal",
                      "env.unwrapped.P[14][2]: 'derecha' desde la casilla a la izquierda de la "
                      "meta"))

# %% [markdown] lang="en"
# ## 2. The Bellman backup
# The value of an action is what it pays now plus the discounted value of where it leads:
# Q(s, a) = R(s, a) + γ · Σ_s' P(s' | s, a) · V(s'). Value iteration repeats
# V(s) ← max_a Q(s, a) over all states until nothing moves by more than 1e-6; because each
# sweep shrinks the error by a factor γ, it converges whenever γ < 1 (with γ = 1 on a lake
# where you can wander forever, it would not). Policy iteration uses the same backup to
# improve a policy after evaluating it exactly.

# %% [markdown] lang="es"
# ## 2. El respaldo de Bellman
# El valor de una acción es lo que paga ahora más el valor descontado de adónde lleva:
# Q(s, a) = R(s, a) + γ · Σ_s' P(s' | s, a) · V(s'). La iteración de valores repite
# V(s) ← max_a Q(s, a) sobre todos los estados hasta que nada se mueve más de 1e-6; como cada
# pasada reduce el error en un factor γ, converge siempre que γ < 1 (con γ = 1, en un lago
# donde se puede vagar para siempre, no lo haría). La iteración de políticas usa el mismo
# respaldo para mejorar una política después de evaluarla exactamente.

# %% exercise="bellman_q"
def bellman_q(P: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """[en] One Bellman backup. `P` has shape (S, A, S) with P[s, a, s2] the probability of
    moving from s to s2 with action a, `R` has shape (S, A) (expected immediate reward), `V`
    has shape (S,). Return the array Q of shape (S, A) with
    Q[s, a] = R[s, a] + gamma * sum over s2 of P[s, a, s2] * V[s2].

    [es] Un respaldo de Bellman. `P` tiene forma (S, A, S) con P[s, a, s2] la probabilidad
    de pasar de s a s2 con la acción a, `R` tiene forma (S, A) (recompensa inmediata
    esperada), `V` tiene forma (S,). Devuelve el arreglo Q de forma (S, A) con
    Q[s, a] = R[s, a] + gamma * suma sobre s2 de P[s, a, s2] * V[s2].
    """
    return R + gamma * P @ V


# %% check
import numpy as np

from dlab.exercises import expect

# Two states, two actions: from state 0, action 0 stays (reward 1), action 1 moves to state 1
# with probability 0.8 (reward 0); state 1 loops on itself with reward 2.
_P = np.array([[[1.0, 0.0], [0.2, 0.8]], [[0.0, 1.0], [0.0, 1.0]]])
_R = np.array([[1.0, 0.0], [2.0, 2.0]])
_V = np.array([10.0, 20.0])


@ctx.check("bellman_q")
def matches_the_formula_on_a_toy_mdp():
    Q = bellman_q(_P, _R, _V, 0.9)
    expect.shape(Q, (2, 2), "bellman_q(P, R, V, 0.9)")
    expect.close(Q, [[1 + 0.9 * 10, 0.9 * (0.2 * 10 + 0.8 * 20)], [2 + 0.9 * 20, 2 + 0.9 * 20]],
                 "bellman_q(P, R, V, 0.9) on the two-state MDP")


@ctx.check("bellman_q")
def discounts_and_keeps_rewards():
    expect.close(bellman_q(_P, _R, _V, 0.0), _R, "bellman_q(P, R, V, gamma=0) (only R is left)")
    expect.close(bellman_q(_P, _R, np.zeros(2), 0.9), _R,
                 "bellman_q(P, R, zeros, 0.9) (with V = 0 only R is left)")


@ctx.check("bellman_q")
def uses_each_state_actions_own_row_of_P():
    rng = np.random.default_rng(0)
    P = rng.random((5, 3, 5))
    P /= P.sum(axis=2, keepdims=True)
    R, V = rng.normal(size=(5, 3)), rng.normal(size=5)
    expected = R + 0.5 * np.einsum("sat,t->sa", P, V)
    expect.close(bellman_q(P, R, V, 0.5), expected, "bellman_q on a random 5-state MDP")


# %%
vi = value_iteration(P, R, cfg.gamma, tol=cfg.tol, backup=bellman_q)
pi = policy_iteration(P, R, cfg.gamma, backup=bellman_q)
optimal = optimal_actions(vi.Q)
value_gap = float(np.abs(vi.V - pi.V).max())
pi_optimal_share = float(np.mean([optimal[s, pi.policy[s]] for s in playable]))
vi_optimal_for_pi = float(np.mean([optimal_actions(pi.Q)[s, vi.policy[s]] for s in playable]))
ctx.table([ctx.t("method", "método"), ctx.t("iterations", "iteraciones"), "V*(start)",
           ctx.t("optimal actions", "acciones óptimas")],
          [[ctx.t("value iteration", "iteración de valores"), vi.iterations, vi.V[0],
            vi_optimal_for_pi],
           [ctx.t("policy iteration", "iteración de políticas"), pi.iterations, pi.V[0],
            pi_optimal_share]],
          title=ctx.t(f"γ = {cfg.gamma}; largest |V_VI − V_PI| = {value_gap:.1e}",
                      f"γ = {cfg.gamma}; mayor |V_VI − V_PI| = {value_gap:.1e}"))

# %% [markdown] lang="en"
# Value iteration needs hundreds of cheap sweeps; policy iteration a handful of expensive
# ones (each solves a linear system to evaluate its policy exactly). They land on the same
# values and on policies that are optimal for each other; where they pick different arrows
# the actions are tied (in a hole or at the goal nothing matters).
#
# ## 3. What the optimal policy looks like
# Left: V* and the optimal action in every cell. Right: the shortest route to the goal, the
# policy that would be optimal if the ice did not slip (value iteration on the non-slippery
# lake), scored on the same slippery lake.

# %% [markdown] lang="es"
# La iteración de valores necesita cientos de pasadas baratas; la de políticas, un puñado de
# pasadas caras (cada una resuelve un sistema lineal para evaluar su política exactamente).
# Llegan a los mismos valores y a políticas óptimas la una para la otra; donde eligen flechas
# distintas, las acciones empatan (en un agujero o en la meta nada importa).
#
# ## 3. Cómo es la política óptima
# Izquierda: V* y la acción óptima en cada casilla. Derecha: la ruta más corta a la meta, la
# política que sería óptima si el hielo no resbalara (iteración de valores sobre el lago sin
# resbalar), puntuada sobre el mismo lago resbaladizo.

# %%
P_firm, R_firm = model_from_env(make_env("FrozenLake-v1", ctx.seed, is_slippery=False))
shortest = value_iteration(P_firm, R_firm, cfg.gamma, tol=cfg.tol).policy
# The probability of slipping into a hole on the very next step, for each state and action.
hole_risk = np.array([[sum(p for p, s_next, _, _ in lake.unwrapped.P[s][a] if s_next in holes)
                       for a in range(P.shape[1])] for s in range(P.shape[0])])


def score_on_the_slippery_lake(policy):
    """Success rate, share of episodes lost in a hole and mean length over the evaluation
    episodes, on a lake seeded like every other evaluation."""
    env = make_env("FrozenLake-v1", ctx.seed, is_slippery=True)
    episodes = [run_episode(env, lambda s: int(policy[s])) for _ in range(cfg.eval_episodes)]
    limit = env.spec.max_episode_steps
    falls = [e.total_reward == 0 and e.length < limit for e in episodes]
    return (float(np.mean([e.total_reward for e in episodes])), float(np.mean(falls)),
            float(np.mean([e.length for e in episodes])))


def risky_states(policy):
    """Cells where the policy's action is likelier to slip into a hole than the safest one."""
    return int(sum(hole_risk[s, policy[s]] > hole_risk[s].min() + 1e-9 for s in playable))


scores = {"vi": score_on_the_slippery_lake(vi.policy),
          "shortest": score_on_the_slippery_lake(shortest)}
risky = {"vi": risky_states(vi.policy), "shortest": risky_states(shortest)}
names = {"vi": ctx.t("optimal (value iteration)", "óptima (iteración de valores)"),
         "shortest": ctx.t("shortest route", "ruta más corta")}
ctx.table([ctx.t("policy", "política"), ctx.t("success rate", "tasa de éxito"),
           ctx.t("fell in a hole", "cayó en un agujero"),
           ctx.t("mean episode length", "duración media"),
           ctx.t("risky cells", "casillas arriesgadas")],
          [[names[k], *scores[k], risky[k]] for k in scores],
          title=ctx.t(f"{cfg.eval_episodes} episodes on the slippery lake",
                      f"{cfg.eval_episodes} episodios sobre el lago resbaladizo"))

fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
V_shortest = np.linalg.solve(np.eye(len(R)) - cfg.gamma * P[np.arange(len(R)), shortest],
                             R[np.arange(len(R)), shortest])
for ax, (key, policy, V) in zip(axes, (("vi", vi.policy, vi.V),
                                        ("shortest", shortest, V_shortest))):
    success = scores[key][0]
    image = draw_grid_policy(ax, desc, V, policy, vmax=1.0,
                             title=ctx.t(f"{names[key]} · success {success:.2f}",
                                         f"{names[key]} · éxito {success:.2f}"))
fig.colorbar(image, ax=axes, shrink=0.8, label=ctx.t("value V(s) on the slippery lake",
                                                     "valor V(s) en el lago resbaladizo"))
ctx.figure("value_and_policy", fig)

# %% [markdown] lang="en"
# The optimal policy looks odd until you remember the slipping: next to a hole it aims *away*
# from it, often straight into a wall, because the only ways to slide are then sideways along
# the wall, never into the hole. It accepts long detours (episodes several times longer) to
# keep the chance of falling low. The shortest route walks past the holes and falls in almost
# every time.
#
# ## 4. Learning without the model: Q-learning and SARSA
# Now the agent only sees what happens when it acts. After each step it moves its estimate
# Q(s, a) a fraction α toward a target built from the reward and its own estimate of the next
# state: the temporal-difference (TD) error. Q-learning's target uses the *best* next action,
# r + γ · max_a' Q(s', a'), whatever the agent does next (off-policy); SARSA's uses the action
# a' it really takes next, r + γ · Q(s', a') (on-policy). When the episode *terminates* (hole,
# goal) there is no next state to bootstrap from; when it is only *truncated* by the time
# limit, there is. Actions are chosen ε-greedily, with ε falling linearly from 1 to 0.05.

# %% [markdown] lang="es"
# La política óptima parece rara hasta recordar el resbalón: junto a un agujero apunta *lejos*
# de él, a menudo directo contra una pared, porque así los únicos deslizamientos posibles son
# de costado a lo largo de la pared, nunca hacia el agujero. Acepta largos rodeos (episodios
# varias veces más largos) para mantener baja la probabilidad de caer. La ruta más corta pasa
# junto a los agujeros y cae casi siempre.
#
# ## 4. Aprender sin el modelo: Q-learning y SARSA
# Ahora el agente solo ve lo que pasa cuando actúa. Después de cada paso mueve su estimación
# Q(s, a) una fracción α hacia un objetivo construido con la recompensa y su propia
# estimación del estado siguiente: el error de diferencia temporal (TD). El objetivo de
# Q-learning usa la *mejor* acción siguiente, r + γ · max_a' Q(s', a'), haga lo que haga
# después el agente (off-policy); el de SARSA usa la acción a' que de verdad toma,
# r + γ · Q(s', a') (on-policy). Cuando el episodio *termina* (agujero, meta) no hay estado
# siguiente del que tomar valor; cuando solo se *trunca* por el límite de tiempo, sí lo hay.
# Las acciones se eligen con ε-greedy, con ε bajando linealmente de 1 a 0.05.

# %% exercise="q_learning_update"
def q_learning_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, a_next: int,
                      terminated: bool, alpha: float, gamma: float) -> float:
    """[en] One Q-learning update of the table `Q` (shape (states, actions)), in place:
    target = r if the episode terminated, else r + gamma * max over actions of Q[s_next];
    td_error = target - Q[s, a]; Q[s, a] += alpha * td_error. Return td_error as a float.
    `a_next` (the action the agent will take next) is given for symmetry with SARSA;
    Q-learning does not use it.

    [es] Una actualización de Q-learning de la tabla `Q` (forma (estados, acciones)), en el
    mismo arreglo: objetivo = r si el episodio terminó, si no r + gamma * máximo sobre las
    acciones de Q[s_next]; error_td = objetivo - Q[s, a]; Q[s, a] += alpha * error_td.
    Devuelve error_td como float. `a_next` (la acción que el agente tomará después) se pasa
    por simetría con SARSA; Q-learning no la usa.
    """
    target = r if terminated else r + gamma * Q[s_next].max()
    td_error = target - Q[s, a]
    Q[s, a] += alpha * td_error
    return float(td_error)


# %% check
import numpy as np

from dlab.exercises import expect


def _table():
    return np.array([[0.0, 1.0], [2.0, 5.0], [3.0, -1.0]])


@ctx.check("q_learning_update")
def moves_toward_the_best_next_action():
    Q = _table()
    error = q_learning_update(Q, 0, 0, 1.0, 1, 0, False, 0.5, 0.9)
    expect.close(error, 1.0 + 0.9 * 5.0 - 0.0,
                 "td_error of q_learning_update(Q, s=0, a=0, r=1, s_next=1, a_next=0, "
                 "terminated=False, alpha=0.5, gamma=0.9) (target uses max Q[1] = 5, not "
                 "Q[1, a_next] = 2)")
    expect.close(Q[0, 0], 0.5 * 5.5, "Q[0, 0] after that update (0 + alpha * td_error)")
    expect.close(Q[1:], _table()[1:], "the other rows of Q after that update (unchanged)")
    expect.close(Q[0, 1], 1.0, "Q[0, 1] after that update (unchanged)")


@ctx.check("q_learning_update")
def does_not_bootstrap_past_the_end():
    Q = _table()
    error = q_learning_update(Q, 2, 1, 1.0, 1, 1, True, 0.5, 0.9)
    expect.close(error, 1.0 - (-1.0), "td_error of an update with terminated=True "
                 "(target = r = 1, nothing after the end)")
    expect.close(Q[2, 1], -1.0 + 0.5 * 2.0, "Q[2, 1] after that update")


# %%
def learn(env_id, update, episodes, alpha, **env_kwargs):
    """Train a Q table on a fresh seeded env with ``update``; returns (Q, per-episode returns)."""
    env = make_env(env_id, ctx.seed, **env_kwargs)
    td = TDConfig(episodes=episodes, alpha=alpha, gamma=cfg.gamma, epsilon_end=cfg.epsilon_end,
                  decay_fraction=cfg.decay_fraction)
    return td_control(env, td, update=update, seed=ctx.seed)


UPDATES = {"qlearning": q_learning_update, "sarsa": sarsa_update}
METHOD = {"qlearning": "Q-learning", "sarsa": "SARSA"}
lake_runs = {k: learn("FrozenLake-v1", u, cfg.lake_episodes, cfg.lake_alpha, is_slippery=True)
             for k, u in UPDATES.items()}
lake_scores = {k: score_on_the_slippery_lake(Q.argmax(axis=1)) for k, (Q, _) in
               lake_runs.items()}
lake_optimal = {k: float(np.mean([optimal[s, Q[s].argmax()] for s in playable]))
                for k, (Q, _) in lake_runs.items()}
ctx.table([ctx.t("method", "método"), ctx.t("greedy success rate", "éxito de la voraz"),
           ctx.t("share of optimal success", "fracción del éxito óptimo"),
           ctx.t("optimal actions (of 11 cells)", "acciones óptimas (de 11 casillas)"),
           "max |max_a Q − V*|"],
          [[METHOD[k], lake_scores[k][0], lake_scores[k][0] / scores["vi"][0], lake_optimal[k],
            float(np.abs(Q.max(axis=1) - vi.V)[playable].max())]
           for k, (Q, _) in lake_runs.items()],
          title=ctx.t(f"FrozenLake, {cfg.lake_episodes} training episodes",
                      f"FrozenLake, {cfg.lake_episodes} episodios de entrenamiento"))

# %% [markdown] lang="en"
# ## 5. The same learners on Taxi
# Taxi-v4 (Gymnasium 1.4's current version of Taxi-v3, with the same rules) has 500 states:
# a taxi on a 5×5 grid must pick a passenger up and drop them at their destination (+20),
# paying −1 per step and −10 for a wrong pick-up or drop-off. Its model is in
# `env.unwrapped.P` too, so value iteration gives the optimum to compare with. A learned
# policy is judged on the states its own evaluation episodes visit: an unvisited state's
# action never matters.

# %% [markdown] lang="es"
# ## 5. Los mismos aprendices en Taxi
# Taxi-v4 (la versión actual en Gymnasium 1.4 de Taxi-v3, con las mismas reglas) tiene 500
# estados: un taxi en una grilla de 5×5 debe recoger a un pasajero y dejarlo en su destino
# (+20), pagando −1 por paso y −10 por recoger o dejar en el lugar equivocado. Su modelo
# también está en `env.unwrapped.P`, así que la iteración de valores da el óptimo con el que
# comparar. Una política aprendida se juzga en los estados que visitan sus propios episodios
# de evaluación: la acción de un estado no visitado nunca importa.

# %%
taxi = make_env("Taxi-v4", ctx.seed)
taxi_plan = value_iteration(*model_from_env(taxi), cfg.gamma, tol=cfg.tol, backup=bellman_q)
taxi_optimal = optimal_actions(taxi_plan.Q)


def score_on_taxi(policy):
    """Mean return over the evaluation episodes and the share of visited states where the
    policy's action is optimal."""
    env = make_env("Taxi-v4", ctx.seed)
    visited = set()

    def act(s):
        visited.add(int(s))
        return int(policy[s])

    mean_return = float(evaluate(env, act, cfg.taxi_eval_episodes).mean())
    return mean_return, float(np.mean([taxi_optimal[s, policy[s]] for s in visited]))


taxi_runs = {k: learn("Taxi-v4", u, cfg.taxi_episodes, cfg.taxi_alpha)
             for k, u in UPDATES.items()}
taxi_scores = {"vi": score_on_taxi(taxi_plan.policy),
               **{k: score_on_taxi(Q.argmax(axis=1)) for k, (Q, _) in taxi_runs.items()}}
ctx.table([ctx.t("policy", "política"), ctx.t("mean return", "retorno medio"),
           ctx.t("optimal actions (visited states)", "acciones óptimas (estados visitados)")],
          [[names["vi"], *taxi_scores["vi"]],
           *[[METHOD[k], *taxi_scores[k]] for k in taxi_runs]],
          title=ctx.t(f"Taxi-v4, {cfg.taxi_episodes} training episodes, "
                      f"{cfg.taxi_eval_episodes} greedy evaluation episodes",
                      f"Taxi-v4, {cfg.taxi_episodes} episodios de entrenamiento, "
                      f"{cfg.taxi_eval_episodes} de evaluación voraz"))

# %%
fig, (ax_lake, ax_taxi) = plt.subplots(1, 2, figsize=(12, 4))
learning_curves(ax_lake, {METHOD[k]: returns for k, (_, returns) in lake_runs.items()},
                cfg.curve_window, ylabel=ctx.t("success rate (training, ε-greedy)",
                                               "tasa de éxito (entrenamiento, ε-greedy)"),
                title=ctx.t("FrozenLake", "FrozenLake"),
                hlines={ctx.t("optimal policy", "política óptima"): scores["vi"][0]})
learning_curves(ax_taxi, {METHOD[k]: returns for k, (_, returns) in taxi_runs.items()},
                cfg.curve_window, ylabel=ctx.t("return (training, ε-greedy)",
                                               "retorno (entrenamiento, ε-greedy)"),
                title="Taxi-v4",
                hlines={ctx.t("optimal policy", "política óptima"): taxi_scores["vi"][0]})
for ax in (ax_lake, ax_taxi):
    ax.set_xlabel(ctx.t(f"episode (moving average of {cfg.curve_window})",
                        f"episodio (media móvil de {cfg.curve_window})"))
ctx.figure("learning_curves", fig)

# %% [markdown] lang="en"
# The training curves stay below the optimal line even at the end: they are measured while
# exploring (ε = 0.05 still takes a random action one step in twenty, and on Taxi a wrong
# drop-off costs 10). The greedy policies, scored without exploration in the tables above,
# are what the criteria judge. SARSA, which evaluates the exploring policy it follows, tends
# to prefer actions that stay safe even when a random step is taken.

# %% [markdown] lang="es"
# Las curvas de entrenamiento quedan por debajo de la línea óptima incluso al final: se miden
# mientras se explora (ε = 0.05 todavía toma una acción al azar uno de cada veinte pasos, y en
# Taxi dejar mal al pasajero cuesta 10). Las políticas voraces, evaluadas sin exploración en
# las tablas de arriba, son las que juzgan los criterios. SARSA, que evalúa la política
# exploradora que sigue, tiende a preferir acciones que siguen siendo seguras aunque se dé un
# paso al azar.

# %%
ctx.finish({
    "vi_success_rate": scores["vi"][0],
    "vi_hole_rate": scores["vi"][1],
    "vi_mean_episode_length": scores["vi"][2],
    "vi_iterations": vi.iterations,
    "pi_iterations": pi.iterations,
    "vi_pi_value_gap": value_gap,
    "vi_pi_agree": value_gap < 1e-4 and pi_optimal_share == 1.0 and vi_optimal_for_pi == 1.0,
    "vi_risky_states": risky["vi"],
    "shortest_risky_states": risky["shortest"],
    "shortest_success_rate": scores["shortest"][0],
    "shortest_hole_rate": scores["shortest"][1],
    "vi_to_shortest_hole_rate": scores["vi"][1] / max(scores["shortest"][1], 1e-9),
    **{f"lake_{k}_success_rate": lake_scores[k][0] for k in UPDATES},
    **{f"lake_{k}_success_share": lake_scores[k][0] / scores["vi"][0] for k in UPDATES},
    **{f"lake_{k}_optimal_share": lake_optimal[k] for k in UPDATES},
    "taxi_optimal_return": taxi_scores["vi"][0],
    **{f"taxi_{k}_return": taxi_scores[k][0] for k in UPDATES},
    **{f"taxi_{k}_optimal_share": taxi_scores[k][1] for k in UPDATES},
    "taxi_worst_return_gap": max(taxi_scores["vi"][0] - taxi_scores[k][0] for k in UPDATES),
})

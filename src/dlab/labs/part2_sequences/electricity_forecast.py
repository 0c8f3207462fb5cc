# %% [markdown] lang="en"
# Forecasting a real series: Germany's daily electricity consumption, 2006–2017. From the
# last 30 days, forecast the next 7. Two simple rules set the bar — repeat the last value, or
# repeat the average of the last week — and two networks try to clear it: an LSTM of 64 units
# and a WaveNet-style stack of causal dilated 1-D convolutions. All four are scored once on
# the most recent 15 % of the series, and then taken apart by weekday and on public holidays.

# %% [markdown] lang="es"
# Pronosticar una serie real: el consumo eléctrico diario de Alemania, 2006–2017. A partir de
# los últimos 30 días, pronosticar los 7 siguientes. Dos reglas simples ponen la vara — repetir
# el último valor o repetir el promedio de la última semana — y dos redes intentan superarla:
# una LSTM de 64 unidades y una pila al estilo WaveNet de convoluciones 1-D causales y
# dilatadas. Las cuatro se evalúan una sola vez sobre el 15 % más reciente de la serie y
# después se desglosan por día de la semana y en los feriados.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    lookback: int = 30
    horizon: int = 7
    lstm_units: int = 64
    filters: int = 32
    rates: list = field(default_factory=lambda: [1, 2, 4, 8, 16, 32])
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    patience: int = 10
    step_lengths: list = field(default_factory=lambda: [30, 120, 365])  # for the timing only
    step_repeats: int = 10

    def check(self):
        positive(lookback=self.lookback, horizon=self.horizon, lstm_units=self.lstm_units,
                 filters=self.filters, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, patience=self.patience, step_repeats=self.step_repeats)


LAB = Lab(
    id="electricity-forecast",
    title_en="Forecasting daily electricity consumption: baselines, LSTM and WaveNet",
    title_es="Pronóstico del consumo eléctrico diario: referencias, LSTM y WaveNet",
    source="Part 2 · classes 136 and 138 (homework)",
    block="part2-sequences",
    dataset="electricity (OPSD Germany daily consumption 2006–2017, split 70/15/15 in time "
            "order, standardized with train statistics)",
    criteria=(
        Criterion("lstm_over_naive", "<", 1.0,
                  "LSTM [64] beats the naive forecast: test MAE ratio LSTM / naive < 1",
                  "La LSTM [64] supera al pronóstico ingenuo: cociente de MAE en test "
                  "LSTM / ingenuo < 1"),
        Criterion("lstm_over_ma7", "<=", 1.05,
                  "LSTM comparable to or better than MA(7): test MAE ratio LSTM / MA(7) ≤ 1.05",
                  "LSTM comparable o mejor que MA(7): cociente de MAE en test LSTM / MA(7) "
                  "≤ 1.05"),
        Criterion("wavenet_over_lstm", "<=", 1.10,
                  "WaveNet within 10 % of the LSTM: test MAE ratio WaveNet / LSTM ≤ 1.10",
                  "WaveNet a menos de 10 % de la LSTM: cociente de MAE en test WaveNet / LSTM "
                  "≤ 1.10"),
        Criterion("wavenet_over_lstm_step_time_longest", "<", 1.0,
                  "WaveNet's parallel convolutions pay off on long windows: a training step on "
                  "a 365-day window takes less time than the LSTM's (float32, time ratio < 1)",
                  "Las convoluciones en paralelo de WaveNet rinden en ventanas largas: un paso "
                  "de entrenamiento con una ventana de 365 días tarda menos que el de la LSTM "
                  "(float32, cociente de tiempos < 1)"),
        Criterion("wavenet_over_lstm_epoch_time", "<", 1.0,
                  "WaveNet is faster per epoch than the LSTM, both trained in float32 (time "
                  "ratio < 1)",
                  "WaveNet es más rápida por época que la LSTM, ambas entrenadas en float32 "
                  "(cociente de tiempos < 1)",
                  evidence="Not reliably on this CPU at a 30-day window: the float32 "
                           "WaveNet/LSTM epoch-time ratio measured 1.01 (0.352 vs 0.349 s) and "
                           "1.21 (0.44 vs 0.37 s) in two full runs, 0.76-0.94 in quick runs, "
                           "on 2 shared cores; a lone training step took 4.97 vs 4.85 ms. One "
                           "fused LSTM kernel over 30 steps costs about as much as six small "
                           "convolutions; the convolutions win clearly on longer windows "
                           "(12.1 vs 17.4 ms per step at 120 days, 35 vs 84 ms at 365), which "
                           "the criterion above checks."),
    ),
    config=Config,
    quick={"epochs": 1, "step_lengths": [30, 365], "step_repeats": 1},
    # A wall-clock ratio near 1 can flip between two runs of the same code: it is shown and
    # checked, but worth no grading points.
    points={"wavenet_over_lstm_epoch_time": 0},
    timed=("lstm_seconds_per_epoch", "wavenet_seconds_per_epoch",
           "wavenet_over_lstm_epoch_time", "one_epoch_seconds", "step_seconds",
           "wavenet_over_lstm_step_time_longest"),
)

# %% [markdown] lang="en"
# ## 1. The series, split in time order
# Train on 2006 to late 2014, validate on the next 15 %, test on the last 15 % (March 2016 to
# December 2017). The values are standardized with the mean and standard deviation of the
# training part only; errors are reported back in GWh. A window of 30 days may reach back
# into the previous split — those days are the past, known when the forecast is made — but
# the 7 days it forecasts always lie inside its own split.

# %% [markdown] lang="es"
# ## 1. La serie, partida en orden temporal
# Se entrena con 2006 hasta fines de 2014, se valida con el 15 % siguiente y se evalúa con el
# último 15 % (marzo de 2016 a diciembre de 2017). Los valores se estandarizan con la media y
# la desviación estándar de la parte de entrenamiento solamente; los errores se informan de
# vuelta en GWh. Una ventana de 30 días puede llegar hasta la partición anterior — esos días
# son el pasado, conocido al pronosticar — pero los 7 días que pronostica caen siempre dentro
# de su propia partición.

# %%
import datetime as dt
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from dateutil.easter import easter
from torch import nn

from dlab.data import load
from dlab.engine import EarlyStopping, Trainer
from dlab.sequences import RecurrentNet, make_windows
from dlab.viz.compare import grouped_bars

data = load("electricity")
series = torch.cat([data.train, data.val, data.test]).numpy()
dates = np.array([dt.date.fromisoformat(d) for d in data.info["dates"]])
start_val, start_test = len(data.train), len(data.train) + len(data.val)
bounds = {"train": (cfg.lookback, start_val), "val": (start_val, start_test),
          "test": (start_test, len(series))}
windows = {name: make_windows(series[a - cfg.lookback:b], cfg.lookback, cfg.horizon)
           for name, (a, b) in bounds.items()}
tensors = {name: (torch.from_numpy(X), torch.from_numpy(Y)) for name, (X, Y) in windows.items()}
mean, std = data.normalization["mean"], data.normalization["std"]
ctx.table([ctx.t("split", "partición"), ctx.t("from", "desde"), ctx.t("to", "hasta"),
           ctx.t("forecast windows", "ventanas de pronóstico")],
          [[name, dates[a], dates[b - 1], len(windows[name][0])]
           for name, (a, b) in bounds.items()])

# %% [markdown] lang="en"
# ## 2. The baselines
# Two forecasts with no learning at all. The naive one repeats the last observed day for all
# 7 days ahead; the moving average MA(7) repeats the mean of the last 7 days. A model that
# cannot beat them has learnt nothing worth its cost.

# %% [markdown] lang="es"
# ## 2. Las referencias
# Dos pronósticos sin ningún aprendizaje. El ingenuo repite el último día observado para los
# 7 días siguientes; la media móvil MA(7) repite el promedio de los últimos 7 días. Un modelo
# que no les gana no aprendió nada que justifique su costo.

# %% exercise="moving_average_forecast"
def moving_average_forecast(X: np.ndarray, k: int, horizon: int) -> np.ndarray:
    """[en] `X` is an (n, lookback) array of windows, oldest value first. For every window,
    forecast each of the next `horizon` steps as the mean of its last `k` values. Return an
    (n, horizon) float array. With k = 1 this is the naive forecast (the last value repeated).

    [es] `X` es un arreglo (n, lookback) de ventanas, con el valor más antiguo primero. Para
    cada ventana, pronostica cada uno de los `horizon` pasos siguientes como el promedio de
    sus últimos `k` valores. Devuelve un arreglo float (n, horizon). Con k = 1 es el
    pronóstico ingenuo (el último valor repetido).
    """
    return np.repeat(X[:, -k:].mean(axis=1, keepdims=True), horizon, axis=1)


# %% check
import numpy as np

from dlab.exercises import expect


@ctx.check("moving_average_forecast")
def averages_the_most_recent_values():
    X = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 0.0, 0.0, 6.0]])
    got = moving_average_forecast(X, 2, 3)
    expect.shape(got, (2, 3), "moving_average_forecast(X (2, 4), k=2, horizon=3)")
    expect.close(got, [[3.5, 3.5, 3.5], [3.0, 3.0, 3.0]],
                 "moving_average_forecast([[1, 2, 3, 4], [10, 0, 0, 6]], k=2, horizon=3)")


@ctx.check("moving_average_forecast")
def k_one_is_the_naive_forecast():
    X = np.array([[5.0, 1.0, 2.0], [0.0, 7.0, -1.0]])
    expect.close(moving_average_forecast(X, 1, 2), [[2.0, 2.0], [-1.0, -1.0]],
                 "moving_average_forecast([[5, 1, 2], [0, 7, -1]], k=1, horizon=2)")


# %%
X_test, Y_test = windows["test"]


def gwh(values) -> np.ndarray:
    return np.asarray(values) * std + mean


LABELS = {"naive": ctx.t("naive", "ingenuo"), "ma7": "MA(7)",
          "last_week": ctx.t("same day last week", "mismo día de la semana anterior"),
          "lstm": f"LSTM [{cfg.lstm_units}]", "wavenet": "WaveNet"}
forecasts = {"naive": moving_average_forecast(X_test, 1, cfg.horizon),
             "ma7": moving_average_forecast(X_test, 7, cfg.horizon),
             "last_week": X_test[:, -7:][:, :cfg.horizon]}

# %% [markdown] lang="en"
# The third row, "same day last week", is an extra reference this series calls for: its
# strongest pattern is the week (working days against weekends), and copying the week before
# follows it for free.
#
# ## 3. The LSTM
# One LSTM layer of 64 units reads the 30 days; a linear head turns its last state into the 7
# forecasts at once (a direct multi-step forecast, no feeding back of its own predictions).
# Both networks train in float32, so the errors below are the same on any CPU; section 5 also
# times one epoch of each in bfloat16.

# %% [markdown] lang="es"
# La tercera fila, "mismo día de la semana anterior", es una referencia extra que esta serie
# pide: su patrón más fuerte es la semana (días hábiles contra fines de semana), y copiar la
# semana anterior lo sigue gratis.
#
# ## 3. La LSTM
# Una capa LSTM de 64 unidades lee los 30 días; una cabeza lineal convierte su último estado en
# los 7 pronósticos de una vez (un pronóstico directo a varios pasos, sin realimentar sus
# propias predicciones). Las dos redes entrenan en float32, así que los errores de abajo son
# los mismos en cualquier CPU; la sección 5 también mide una época de cada una en bfloat16.

# %%
def train(model: nn.Module, precision: str = "fp32", epochs: int = cfg.epochs):
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr), loss="mse",
                      callbacks=[EarlyStopping(patience=cfg.patience)],
                      **ctx.trainer_options(precision=precision))
    started = time.perf_counter()
    history = trainer.fit(tensors["train"], tensors["val"], epochs=epochs,
                          batch_size=cfg.batch_size, seed=ctx.seed)
    return trainer, (time.perf_counter() - started) / len(history)


torch.manual_seed(ctx.seed)
lstm = RecurrentNet("lstm", 1, cfg.lstm_units, cfg.horizon)
lstm_trainer, lstm_seconds = train(lstm)

# %% [markdown] lang="en"
# ## 4. WaveNet: causal dilated convolutions
# A 1-D convolution with kernel 2 mixes each day with one earlier day. Two rules make a stack
# of them a forecaster. Causal: the output at day t may only see days ≤ t, so the input is
# padded on the left only. Dilated: layer ℓ looks 2^ℓ days back (rates 1, 2, 4, …, 32), so six
# layers see 64 days with a handful of weights, and every day of the window is processed in
# parallel instead of one after another.

# %% [markdown] lang="es"
# ## 4. WaveNet: convoluciones causales y dilatadas
# Una convolución 1-D con kernel 2 mezcla cada día con un día anterior. Dos reglas convierten
# una pila de ellas en un pronosticador. Causal: la salida del día t solo puede ver días ≤ t,
# así que la entrada se rellena solo por la izquierda. Dilatada: la capa ℓ mira 2^ℓ días
# atrás (tasas 1, 2, 4, …, 32), así que seis capas ven 64 días con pocos pesos, y todos los
# días de la ventana se procesan en paralelo en lugar de uno tras otro.

# %% exercise="causal_conv"
def causal_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                dilation: int) -> torch.Tensor:
    """[en] A causal dilated 1-D convolution. `x` is (batch, channels_in, time), `weight` is
    (channels_out, channels_in, kernel) and `bias` is (channels_out,), as in `nn.Conv1d`.
    Return a (batch, channels_out, time) tensor — the same length as `x` — whose step t
    depends only on steps ≤ t of `x`: the zeros that keep the length must all go on the left,
    (kernel − 1) · dilation of them. Use `torch.nn.functional.conv1d` (with `dilation`) and
    either pad on the left first or pad both sides and drop the extra outputs on the right.

    [es] Una convolución 1-D causal y dilatada. `x` es (batch, canales_entrada, tiempo),
    `weight` es (canales_salida, canales_entrada, kernel) y `bias` es (canales_salida,), como
    en `nn.Conv1d`. Devuelve un tensor (batch, canales_salida, tiempo) — del mismo largo que
    `x` — cuyo paso t dependa solo de los pasos ≤ t de `x`: los ceros que mantienen el largo
    deben ir todos a la izquierda, (kernel − 1) · dilation de ellos. Usa
    `torch.nn.functional.conv1d` (con `dilation`) y rellena primero por la izquierda, o
    rellena ambos lados y descarta las salidas sobrantes de la derecha.
    """
    pad = (weight.shape[-1] - 1) * dilation
    out = nn.functional.conv1d(x, weight, bias, padding=pad, dilation=dilation)
    return out[..., :x.shape[-1]]


# %% check
import torch

from dlab.exercises import expect


def _conv_case():
    torch.manual_seed(0)
    return torch.randn(2, 3, 10), torch.randn(4, 3, 2), torch.randn(4)


@ctx.check("causal_conv")
def keeps_the_length():
    x, w, b = _conv_case()
    expect.shape(causal_conv(x, w, b, 2), (2, 4, 10),
                 "causal_conv(x (2, 3, 10), weight (4, 3, 2), bias, dilation=2)")


@ctx.check("causal_conv")
def each_step_mixes_now_with_dilation_steps_back():
    x, w, b = _conv_case()
    for d in (1, 4):
        earlier = torch.nn.functional.pad(x, (d, 0))[..., :10]  # x[t - d], zero before t = d
        want = (torch.einsum("oi,bit->bot", w[..., 0], earlier)
                + torch.einsum("oi,bit->bot", w[..., 1], x) + b[:, None])
        expect.close(causal_conv(x, w, b, d), want,
                     f"causal_conv(..., dilation={d}): w[..., 0]·x[t − {d}] + w[..., 1]·x[t] + b",
                     atol=1e-5)


@ctx.check("causal_conv")
def never_looks_at_the_future():
    x, w, b = _conv_case()
    changed = x.clone()
    changed[..., 7:] += 5.0
    before, after = causal_conv(x, w, b, 2), causal_conv(changed, w, b, 2)
    expect.true(torch.allclose(before[..., :7], after[..., :7]),
                "Changing x from step 7 on changed causal_conv's outputs before step 7: the "
                "convolution sees the future (zeros padded on the right, or on both sides).",
                "Cambiar x desde el paso 7 cambió salidas de causal_conv anteriores al paso 7: "
                "la convolución ve el futuro (ceros a la derecha, o a ambos lados).")


# %%
class WaveNet(nn.Module):
    """Causal dilated convolutions with ReLU, read at the last day by a linear head."""

    def __init__(self, filters: int, rates: list, horizon: int):
        super().__init__()
        self.rates = list(rates)
        self.convs = nn.ModuleList(nn.Conv1d(1 if i == 0 else filters, filters, kernel_size=2)
                                   for i in range(len(self.rates)))
        self.head = nn.Linear(filters, horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(1)  # (batch, 1 channel, days)
        for conv, rate in zip(self.convs, self.rates):
            h = torch.relu(causal_conv(h, conv.weight, conv.bias, rate))
        return self.head(h[:, :, -1])


torch.manual_seed(ctx.seed)
wavenet = WaveNet(cfg.filters, cfg.rates, cfg.horizon)
wavenet_trainer, wavenet_seconds = train(wavenet)
n_params = {name: sum(p.numel() for p in m.parameters())
            for name, m in (("lstm", lstm), ("wavenet", wavenet))}
seconds_per_epoch = {"lstm": lstm_seconds, "wavenet": wavenet_seconds}

# %% [markdown] lang="en"
# ## 5. The test period, once
# Mean absolute error over all 7 days ahead, in GWh, with root mean squared error and mean
# absolute percentage error beside it (consumption never comes near zero, so the percentage
# is safe here). The seconds per epoch are those of float32 training; the second table times
# one extra epoch of fresh copies of both networks in float32 and in bfloat16 autocast, where
# this CPU has native bfloat16 kernels for the LSTM (the speed ranking can flip with the
# precision).

# %% [markdown] lang="es"
# ## 5. El período de test, una vez
# Error absoluto medio sobre los 7 días siguientes, en GWh, con la raíz del error cuadrático
# medio y el error porcentual absoluto medio al lado (el consumo nunca se acerca a cero, así
# que el porcentaje es seguro aquí). Los segundos por época son los del entrenamiento en
# float32; la segunda tabla mide una época extra de copias nuevas de ambas redes en float32 y
# con autocast bfloat16, donde esta CPU tiene núcleos bfloat16 nativos para la LSTM (el orden
# de velocidad puede invertirse con la precisión).

# %%
forecasts["lstm"] = lstm_trainer.predict(tensors["test"][0]).numpy()
forecasts["wavenet"] = wavenet_trainer.predict(tensors["test"][0]).numpy()
truth = gwh(Y_test)
errors = {name: gwh(f) - truth for name, f in forecasts.items()}
mae = {name: float(np.abs(e).mean()) for name, e in errors.items()}
ctx.table([ctx.t("forecast", "pronóstico"), "MAE (GWh)", "RMSE (GWh)", "MAPE (%)",
           ctx.t("parameters", "parámetros"), ctx.t("s / epoch", "s / época")],
          [[LABELS[name], mae[name], float(np.sqrt((e ** 2).mean())),
            float(100 * np.abs(e / truth).mean()), n_params.get(name, 0),
            seconds_per_epoch.get(name, "")]
           for name, e in errors.items()],
          title=ctx.t("Test period, 7 days ahead", "Período de test, 7 días adelante"))


def one_epoch_seconds(build, precision: str) -> float:
    with torch.random.fork_rng():  # timing only: the lab's random stream stays as it was
        return train(build(), precision, epochs=1)[1]


builders = {"lstm": lambda: RecurrentNet("lstm", 1, cfg.lstm_units, cfg.horizon),
            "wavenet": lambda: WaveNet(cfg.filters, cfg.rates, cfg.horizon)}
epoch_timing = {f"{name}_{p}": one_epoch_seconds(build, p)
                for name, build in builders.items() for p in ("fp32", "bf16")}
ctx.table([ctx.t("network", "red"), ctx.t("s / epoch, float32", "s / época, float32"),
           ctx.t("s / epoch, bfloat16", "s / época, bfloat16")],
          [[LABELS[name], epoch_timing[f"{name}_fp32"], epoch_timing[f"{name}_bf16"]]
           for name in builders],
          title=ctx.t("One more epoch of each, timed", "Una época más de cada una, medida"))

# %% [markdown] lang="en"
# ## 6. When do convolutions pay off?
# An LSTM must walk through the window one day after another; each convolution layer handles
# every day of the window at once. That advantage grows with the window. One training step
# (forward and backward, a batch of 64, float32) of fresh copies of both networks is timed at
# growing window lengths; the networks above are not touched.

# %% [markdown] lang="es"
# ## 6. ¿Cuándo rinden las convoluciones?
# Una LSTM debe recorrer la ventana día tras día; cada capa de convolución procesa todos los
# días de la ventana a la vez. Esa ventaja crece con la ventana. Se mide un paso de
# entrenamiento (hacia adelante y hacia atrás, un lote de 64, float32) de copias nuevas de
# ambas redes con ventanas cada vez más largas; las redes de arriba no se tocan.

# %%
def step_seconds(model: nn.Module, length: int) -> float:
    x, y = torch.ones(cfg.batch_size, length), torch.ones(cfg.batch_size, cfg.horizon)
    nn.functional.mse_loss(model(x), y).backward()  # warm-up
    started = time.perf_counter()
    for _ in range(cfg.step_repeats):
        nn.functional.mse_loss(model(x), y).backward()
    return (time.perf_counter() - started) / cfg.step_repeats


with torch.random.fork_rng():
    step_timing = {name: [step_seconds(build(), n) for n in cfg.step_lengths]
                   for name, build in builders.items()}
ctx.table([ctx.t("window (days)", "ventana (días)")]
          + [ctx.t(f"{LABELS[n]}, ms / step", f"{LABELS[n]}, ms / paso") for n in builders],
          [[n] + [1000 * step_timing[name][i] for name in builders]
           for i, n in enumerate(cfg.step_lengths)])

# %% [markdown] lang="en"
# ## 7. Where each one wins and loses
# The same errors, grouped by the weekday of the day forecast, and split into public
# holidays (Germany's nationwide ones) against every other day. A holiday looks like a Sunday
# in the data, but nothing in a 30-day window announces it.

# %% [markdown] lang="es"
# ## 7. Dónde gana y dónde pierde cada uno
# Los mismos errores, agrupados por el día de la semana del día pronosticado y separados en
# feriados (los nacionales de Alemania) contra todos los demás días. Un feriado se parece a un
# domingo en los datos, pero nada en una ventana de 30 días lo anuncia.

# %%
def german_holidays(year: int) -> set:
    e = easter(year)
    days = {dt.date(year, 1, 1), dt.date(year, 5, 1), dt.date(year, 10, 3),
            dt.date(year, 12, 25), dt.date(year, 12, 26)}
    days |= {e + dt.timedelta(days=k) for k in (-2, 1, 39, 50)}
    if year == 2017:
        days.add(dt.date(2017, 10, 31))  # 500 years of the Reformation: nationwide that year
    return days


target_dates = np.array([[dates[start_test + i + k] for k in range(cfg.horizon)]
                         for i in range(len(Y_test))])
weekday = np.vectorize(lambda d: d.weekday())(target_dates)
holidays = set().union(*(german_holidays(y) for y in range(2006, 2018)))
is_holiday = np.vectorize(lambda d: d in holidays)(target_dates)
names = list(forecasts)
days_en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
days_es = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
by_weekday = {name: [float(np.abs(errors[name][weekday == d]).mean()) for d in range(7)]
              for name in names}
ctx.table([ctx.t("weekday", "día")] + [LABELS[n] for n in names],
          [[ctx.t(days_en[d], days_es[d])] + [by_weekday[n][d] for n in names]
           for d in range(7)],
          title=ctx.t("Test MAE (GWh) by weekday of the day forecast",
                      "MAE en test (GWh) según el día de la semana pronosticado"))
holiday_mae = {name: float(np.abs(errors[name][is_holiday]).mean()) for name in names}
ordinary_mae = {name: float(np.abs(errors[name][~is_holiday]).mean()) for name in names}
ctx.table([ctx.t("days forecast", "días pronosticados")] + [LABELS[n] for n in names],
          [[ctx.t(f"public holidays ({is_holiday.sum()} forecasts)",
                  f"feriados ({is_holiday.sum()} pronósticos)")]
           + [holiday_mae[n] for n in names],
           [ctx.t("other days", "otros días")] + [ordinary_mae[n] for n in names]],
          title=ctx.t("Test MAE (GWh) on holidays", "MAE en test (GWh) en feriados"))

fig, ax = plt.subplots(figsize=(11, 4))
grouped_bars(ax, [ctx.t(days_en[d], days_es[d]) for d in range(7)],
             {LABELS[n]: by_weekday[n] for n in names},
             title=ctx.t("Test MAE by weekday of the day forecast",
                         "MAE en test según el día pronosticado"),
             ylabel="MAE (GWh)", fmt="{:.0f}")
ctx.figure("mae_by_weekday", fig)

# %% [markdown] lang="en"
# Read the tables row by row. The naive forecast and MA(7) are worst on weekends, where the
# last working days say nothing about a Sunday; copying last week fixes weekends but carries
# last week's surprises into this one. The networks learn the weekly shape from the window
# and are hurt most on Mondays, right after the weekend, and on holidays, which no model here
# can foresee: a calendar feature (weekday, holiday flag) would be the next input to add.

# %% [markdown] lang="es"
# Lee las tablas fila por fila. El pronóstico ingenuo y MA(7) fallan más en los fines de
# semana, donde los últimos días hábiles no dicen nada sobre un domingo; copiar la semana
# anterior arregla los fines de semana pero arrastra las sorpresas de la semana pasada a esta.
# Las redes aprenden la forma de la semana a partir de la ventana y sufren sobre todo los
# lunes, justo después del fin de semana, y en los feriados, que ningún modelo de aquí puede
# prever: una variable de calendario (día de la semana, marca de feriado) sería la próxima
# entrada a agregar.

# %%
fig, axes = plt.subplots(2, 1, figsize=(12, 7))
first_day = dates[start_test:start_test + len(truth)]
axes[0].plot(first_day, truth[:, 0], color="k", lw=1, label=ctx.t("measured", "medido"))
for name in ("ma7", "lstm", "wavenet"):
    axes[0].plot(first_day, gwh(forecasts[name])[:, 0], lw=1, label=LABELS[name])
axes[0].set_title(ctx.t("One day ahead over the test period",
                        "Un día adelante en el período de test"))
zoom = slice(max(0, len(truth) - 70), len(truth))  # the last ten weeks: Christmas included
axes[1].plot(first_day[zoom], truth[zoom, 0], "k.-", lw=1, label=ctx.t("measured", "medido"))
for name in names:
    axes[1].plot(first_day[zoom], gwh(forecasts[name])[zoom, 0], lw=1, label=LABELS[name])
axes[1].set_title(ctx.t("Zoom on the last ten weeks", "Zoom sobre las últimas diez semanas"))
for ax in axes:
    ax.set_ylabel("GWh")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
ctx.figure("forecasts", fig)

# %%
ctx.finish({
    "test_mae_gwh": mae,
    "lstm_over_naive": mae["lstm"] / mae["naive"],
    "lstm_over_ma7": mae["lstm"] / mae["ma7"],
    "wavenet_over_lstm": mae["wavenet"] / mae["lstm"],
    "mae_by_weekday_gwh": by_weekday,
    "holiday_mae_gwh": holiday_mae,
    "lstm_seconds_per_epoch": lstm_seconds,
    "wavenet_seconds_per_epoch": wavenet_seconds,
    "wavenet_over_lstm_epoch_time": wavenet_seconds / lstm_seconds,
    "one_epoch_seconds": epoch_timing,
    "step_seconds": {name: dict(zip(map(str, cfg.step_lengths), values))
                     for name, values in step_timing.items()},
    "wavenet_over_lstm_step_time_longest": step_timing["wavenet"][-1] / step_timing["lstm"][-1],
})

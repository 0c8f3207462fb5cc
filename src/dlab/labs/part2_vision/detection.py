# %% [markdown] lang="en"
# Detection asks two questions at once: *what* is in the image and *where*, for every object,
# however many there are. This lab builds a one-stage detector in the spirit of the first YOLO,
# small enough to train on a laptop CPU in a few minutes: a CNN turns a 96×96 scene into a
# 12×12 grid, and each cell says whether an object's centre falls in it, which class it is and
# where its box lies. You write the three pieces every detector needs: the overlap of two boxes
# (IoU), the training targets on the grid, and non-maximum suppression. The detector is scored
# with the COCO reference implementation of mean average precision, and finally exported to
# ONNX and run with onnxruntime, as a deployed detector would be.

# %% [markdown] lang="es"
# Detectar es responder dos preguntas a la vez: *qué* hay en la imagen y *dónde*, para cada
# objeto, sean cuantos sean. Este laboratorio construye un detector de una sola etapa en el
# espíritu del primer YOLO, lo bastante pequeño para entrenarse en la CPU de un portátil en unos
# minutos: una CNN convierte una escena de 96×96 en una rejilla de 12×12, y cada celda dice si
# el centro de un objeto cae en ella, de qué clase es y dónde está su caja. Escribes las tres
# piezas que todo detector necesita: el solapamiento de dos cajas (IoU), los objetivos de
# entrenamiento sobre la rejilla y la supresión de no máximos. El detector se evalúa con la
# implementación de referencia de COCO de la precisión media (mAP) y al final se exporta a ONNX
# y se ejecuta con onnxruntime, como se haría con un detector en producción.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_scenes: int = 6000
    val_scenes: int = 1000
    test_scenes: int = 1000
    epochs: int = 6
    batch_size: int = 64
    lr: float = 3e-3             # peak of the one-cycle schedule
    positive_weight: float = 5.0   # objectness loss: weight of the few cells holding an object
    score_threshold: float = 0.05  # detections kept for mAP
    iou_threshold: float = 0.5     # non-maximum suppression
    onnx_scenes: int = 200         # validation scenes run through both torch and onnxruntime
    latency_images: int = 100

    def check(self):
        positive(train_scenes=self.train_scenes, val_scenes=self.val_scenes,
                 test_scenes=self.test_scenes, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, positive_weight=self.positive_weight,
                 onnx_scenes=self.onnx_scenes, latency_images=self.latency_images)


LAB = Lab(
    id="detection",
    title_en="A one-stage grid detector: IoU, targets, NMS, COCO mAP and ONNX",
    title_es="Un detector de rejilla de una etapa: IoU, objetivos, NMS, mAP de COCO y ONNX",
    source="Part 2 · classes 132 and 134 (custom detector homework, ONNX export)",
    block="part2-vision",
    dataset="fashion_mnist objects (trouser, sneaker, bag) pasted on 96×96 noisy scenes, "
            "1–4 per scene (dlab.vision.scenes)",
    criteria=(
        Criterion("val_map50", ">=", 0.7,
                  "mAP@0.5 on the validation scenes ≥ 0.7 (pycocotools)",
                  "mAP@0.5 en las escenas de validación ≥ 0.7 (pycocotools)"),
        Criterion("inspection_correct", ">=", 3,
                  "The detector finds every object of the 3 inspection images with its class "
                  "(IoU ≥ 0.5) and nothing else, above the score threshold chosen on "
                  "validation",
                  "El detector encuentra cada objeto de las 3 imágenes de inspección con su "
                  "clase (IoU ≥ 0.5) y nada más, por encima del umbral de puntuación elegido en "
                  "validación"),
        Criterion("onnx_matched_share", ">=", 1.0,
                  "Every box found by the PyTorch model is found by the ONNX model too (same "
                  "class, IoU ≥ 0.99)",
                  "Cada caja que encuentra el modelo de PyTorch la encuentra también el modelo "
                  "ONNX (misma clase, IoU ≥ 0.99)"),
        Criterion("onnx_same_counts", "is", True,
                  "PyTorch and ONNX give the same number of boxes on every compared scene",
                  "PyTorch y ONNX dan el mismo número de cajas en cada escena comparada"),
    ),
    config=Config,
    quick={"train_scenes": 200, "val_scenes": 48, "test_scenes": 48, "epochs": 1,
           "onnx_scenes": 16, "latency_images": 5},
    timed=("seconds_per_epoch", "torch_ms_per_image", "onnx_ms_per_image"),
)

# %% [markdown] lang="en"
# ## 1. Scenes with exact boxes
# Labelling boxes by hand is slow, so the scenes are generated: Fashion-MNIST objects, resized
# to 24–44 pixels, pasted without overlap on a noisy 96×96 canvas, 1 to 4 per scene. The box of
# each object is the tight box around its visible pixels, known exactly. Three classes with
# clearly different shapes: trousers (tall and narrow), sneakers (wide and low) and bags (about
# square); classes such as shirt and pullover would test the classifier more than the
# detector. Training scenes use training-split objects, validation and test scenes the objects
# of their own splits, each with its own seed. Boxes are `(x1, y1, x2, y2)` in pixels, with
# `x2` and `y2` just past the object.

# %% [markdown] lang="es"
# ## 1. Escenas con cajas exactas
# Etiquetar cajas a mano es lento, así que las escenas se generan: objetos de Fashion-MNIST,
# reescalados a 24–44 píxeles y pegados sin solaparse en un lienzo de 96×96 con ruido, de 1 a 4
# por escena. La caja de cada objeto es la caja ajustada a sus píxeles visibles y se conoce
# exactamente. Tres clases de formas bien distintas: pantalones (altos y estrechos), zapatillas
# (anchas y bajas) y bolsos (casi cuadrados); clases como camisa y jersey pondrían a prueba al
# clasificador más que al detector. Las escenas de entrenamiento usan objetos de la partición de
# entrenamiento, y las de validación y test los de sus propias particiones, cada una con su
# semilla. Las cajas son `(x1, y1, x2, y2)` en píxeles, con `x2` e `y2` justo después del
# objeto.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.data import load
from dlab.engine import LRScheduler, Trainer
from dlab.engine.timing import EpochTimer
from dlab.viz.boxes import draw_boxes, scene_row
from dlab.viz.plots import training_curves
from dlab.vision.coco_map import RECALL_POINTS, coco_map
from dlab.vision.deploy import export_onnx, median_latency_ms, onnx_predict, onnx_session
from dlab.vision.grid_detector import Grid, GridDetector, detection_loss, detections
from dlab.vision.scenes import scene_splits

CLASSES = (1, 7, 8)  # Fashion-MNIST trouser, sneaker, bag → detector classes 0, 1, 2
data = load("fashion_mnist", seed=ctx.seed, flatten=False)
names = [data.classes[c] for c in CLASSES]

train_scenes, val_scenes, test_scenes = scene_splits(
    data, CLASSES, (cfg.train_scenes, cfg.val_scenes, cfg.test_scenes), seed=ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("scenes", "escenas"), ctx.t("objects", "objetos")]
          + names,
          [[split, len(s), sum(len(b) for b in s.boxes)]
           + [int(sum((lab == c).sum() for lab in s.labels)) for c in range(len(CLASSES))]
           for split, s in (("train", train_scenes), ("val", val_scenes),
                            ("test", test_scenes))])

# %% [markdown] lang="en"
# ## 2. Intersection over union
# IoU measures how well two boxes agree: the area they share divided by the area they cover
# together, 1 for identical boxes and 0 for boxes that do not touch. It decides everything
# later on: whether a detection counts as a hit (IoU ≥ 0.5 for mAP@0.5), which duplicates
# non-maximum suppression removes, and whether the ONNX model finds the same boxes. With `x2`
# and `y2` exclusive, a box's width is simply `x2 - x1`.

# %% [markdown] lang="es"
# ## 2. Intersección sobre unión
# La IoU mide cuánto coinciden dos cajas: el área que comparten dividida por el área que cubren
# juntas, 1 para cajas idénticas y 0 para cajas que no se tocan. Decide todo lo que viene
# después: si una detección cuenta como acierto (IoU ≥ 0.5 para mAP@0.5), qué duplicados quita
# la supresión de no máximos y si el modelo ONNX encuentra las mismas cajas. Con `x2` e `y2`
# exclusivos, el ancho de una caja es simplemente `x2 - x1`.

# %% exercise="box_iou"
def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[en] Pairwise IoU of the boxes `a` (n, 4) and `b` (m, 4), each row `(x1, y1, x2, y2)`:
    return an (n, m) tensor whose entry [i, j] is area(a[i] ∩ b[j]) / area(a[i] ∪ b[j]).
    Width is `x2 - x1`, height `y2 - y1`; boxes that do not overlap have IoU 0. No Python loops:
    broadcast `a[:, None]` against `b[None, :]`.

    [es] IoU por pares de las cajas `a` (n, 4) y `b` (m, 4), cada fila `(x1, y1, x2, y2)`:
    devuelve un tensor (n, m) cuya entrada [i, j] es área(a[i] ∩ b[j]) / área(a[i] ∪ b[j]).
    El ancho es `x2 - x1` y el alto `y2 - y1`; las cajas que no se solapan tienen IoU 0. Sin
    bucles de Python: usa broadcasting de `a[:, None]` contra `b[None, :]`.
    """
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    union = area_a[:, None] + area_b[None, :] - intersection
    return intersection / union.clamp(min=1e-9)


# %% check
import torch

from dlab.exercises import expect


@ctx.check("box_iou")
def iou_of_hand_computed_pairs():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 4.0, 4.0]])
    b = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0], [1.0, 1.0, 3.0, 3.0],
                      [5.0, 6.0, 7.0, 9.0]])
    iou = box_iou(a, b)
    expect.shape(iou, (2, 4), "box_iou(a (2, 4), b (4, 4))")
    # identical; half-shifted (2 / 6); diagonal shift (1 / 7); far apart (0)
    expect.close(iou[0], [1.0, 1 / 3, 1 / 7, 0.0], "box_iou(a, b)[0]", atol=1e-6)
    # the 4×4 box contains the 2×2 boxes (4 / 16), and the last box lies outside it
    expect.close(iou[1], [0.25, 0.25, 0.25, 0.0], "box_iou(a, b)[1]", atol=1e-6)


@ctx.check("box_iou")
def boxes_apart_in_both_directions_do_not_overlap():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[3.0, 3.0, 5.0, 5.0], [2.0, 0.0, 4.0, 2.0]])
    expect.close(box_iou(a, b), [[0.0, 0.0]],
                 "box_iou of a box with one diagonally away from it and one that only touches "
                 "its edge (clamp the overlap's width and height at 0 before multiplying)",
                 atol=1e-6)


# %% [markdown] lang="en"
# ## 3. Targets on the grid
# The network looks at the scene through a grid of 12×12 cells of 8×8 pixels. An object belongs
# to the cell that holds the centre of its box, and that cell alone learns to report it: its
# objectness target is 1, and its box target says where the centre sits *inside the cell*
# (0 to 1 from the left and top edges) and how big the box is, as `log(w / anchor)` and
# `log(h / anchor)` with one anchor size of 32 pixels. Offsets inside a cell are small numbers
# the network can learn, whatever the cell; the logarithm turns "twice as big" and "half as
# big" into steps of the same size. In these scenes objects never overlap, so no two centres
# share a cell.

# %% [markdown] lang="es"
# ## 3. Objetivos sobre la rejilla
# La red mira la escena a través de una rejilla de 12×12 celdas de 8×8 píxeles. Un objeto
# pertenece a la celda que contiene el centro de su caja, y solo esa celda aprende a
# señalarlo: su objetivo de objectness es 1, y su objetivo de caja dice dónde está el centro
# *dentro de la celda* (de 0 a 1 desde los bordes izquierdo y superior) y cómo de grande es la
# caja, como `log(w / anchor)` y `log(h / anchor)` con un único tamaño de ancla de 32 píxeles.
# Los desplazamientos dentro de una celda son números pequeños que la red puede aprender, sea
# cual sea la celda; el logaritmo convierte «el doble» y «la mitad» en pasos del mismo tamaño.
# En estas escenas los objetos nunca se solapan, así que dos centros nunca comparten celda.

# %% exercise="encode_targets"
def encode_targets(boxes: torch.Tensor, labels: torch.Tensor, grid: Grid) -> torch.Tensor:
    """[en] The training target of one scene: a (6, S, S) float tensor (S = `grid.size`), zero
    except at the cell of each object. For a box `(x1, y1, x2, y2)` of `boxes` (k, 4) with
    class `labels[i]`: centre cx = (x1 + x2) / 2, cy = (y1 + y2) / 2; its cell is column
    `int(cx / grid.stride)`, row `int(cy / grid.stride)`; at [:, row, column] write
    [1, cx / stride - column, cy / stride - row, log(w / grid.anchor), log(h / grid.anchor),
    label], with w = x2 - x1 and h = y2 - y1.

    [es] El objetivo de entrenamiento de una escena: un tensor float (6, S, S) (S = `grid.size`),
    cero salvo en la celda de cada objeto. Para una caja `(x1, y1, x2, y2)` de `boxes` (k, 4) de
    clase `labels[i]`: centro cx = (x1 + x2) / 2, cy = (y1 + y2) / 2; su celda es la columna
    `int(cx / grid.stride)` y la fila `int(cy / grid.stride)`; en [:, fila, columna] escribe
    [1, cx / stride - columna, cy / stride - fila, log(w / grid.anchor), log(h / grid.anchor),
    clase], con w = x2 - x1 y h = y2 - y1.
    """
    target = torch.zeros(6, grid.size, grid.size)
    for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
        cx, cy = (x1 + x2) / 2 / grid.stride, (y1 + y2) / 2 / grid.stride
        column, row = int(cx), int(cy)
        target[:, row, column] = torch.tensor([
            1.0, cx - column, cy - row, math.log((x2 - x1) / grid.anchor),
            math.log((y2 - y1) / grid.anchor), float(label)])
    return target


# %% check
import math

import torch

from dlab.exercises import expect
from dlab.vision.grid_detector import Grid


@ctx.check("encode_targets")
def one_object_lands_in_its_cell():
    grid = Grid(size=12, stride=8, anchor=32.0)
    # centre (13, 42): column 1, row 5; offsets 13/8 - 1 = 0.625 and 42/8 - 5 = 0.25
    target = encode_targets(torch.tensor([[5.0, 34.0, 21.0, 50.0]]), torch.tensor([2]), grid)
    expect.shape(target, (6, 12, 12), "encode_targets(one box, Grid(size=12))")
    expect.equal(float(target[0].sum()), 1.0, "the objectness channel's sum (one object)")
    expect.equal(float(target[0, 5, 1]), 1.0,
                 "target[0, 5, 1], objectness at row 5 (from y), column 1 (from x)")
    expect.close(target[:, 5, 1], [1.0, 0.625, 0.25, math.log(16 / 32), math.log(16 / 32), 2.0],
                 "target[:, 5, 1]: objectness, x offset, y offset, log(w/32), log(h/32), class")


@ctx.check("encode_targets")
def several_objects_each_in_their_own_cell():
    grid = Grid(size=12, stride=8, anchor=32.0)
    boxes = torch.tensor([[60.0, 2.0, 92.0, 20.0], [8.0, 8.0, 48.0, 88.0]])
    target = encode_targets(boxes, torch.tensor([1, 0]), grid)
    # centres (76, 11) → row 1, column 9; (28, 48) → row 6, column 3
    expect.equal(torch.nonzero(target[0]).tolist(), [[1, 9], [6, 3]],
                 "the (row, column) cells with objectness 1")
    expect.close(target[:, 1, 9], [1.0, 0.5, 0.375, math.log(1.0), math.log(18 / 32), 1.0],
                 "target[:, 1, 9] (box 32 wide, 18 high, class 1)")
    expect.close(target[:, 6, 3], [1.0, 0.5, 0.0, math.log(40 / 32), math.log(80 / 32), 0.0],
                 "target[:, 6, 3] (box 40 wide, 80 high, class 0)")
    expect.equal(float(target[:, 0, 0].abs().sum()), 0.0, "target[:, 0, 0] (an empty cell)")


# %% [markdown] lang="en"
# ## 4. The detector and its loss
# Three Conv–BatchNorm–ReLU blocks, each followed by a 2×2 max-pool, bring 96 pixels down to 12
# cells; two more blocks at that resolution let each cell see a 54-pixel square around it,
# enough for the largest objects; a 1×1 convolution gives 8 numbers per cell: an objectness
# logit, 4 box numbers and 3 class logits (`dlab.vision.grid_detector`). The centre offsets go
# through a sigmoid, so they stay inside the cell. The loss adds three terms: binary
# cross-entropy on objectness over all 144 cells, and, only on the cells that hold an object,
# the L1 distance between predicted and true box numbers and the cross-entropy of the class.
# About one cell in 65 holds an object, so the objectness of those cells weighs 5 times more
# (YOLO rebalances the same way, by scaling down the empty cells): in a trial with 4,000
# scenes and 4 epochs, the unweighted loss left a correct detection with a median score of
# 0.36, the weighted one 0.87, and mAP@0.5 went from 0.986 to 0.992. The scenes' targets are
# encoded by your `encode_targets`.

# %% [markdown] lang="es"
# ## 4. El detector y su pérdida
# Tres bloques Conv–BatchNorm–ReLU, cada uno seguido de un max-pool de 2×2, reducen 96 píxeles
# a 12 celdas; dos bloques más a esa resolución permiten que cada celda vea un cuadrado de 54
# píxeles a su alrededor, suficiente para los objetos más grandes; una convolución 1×1 da 8
# números por celda: un logit de objectness, 4 números de caja y 3 logits de clase
# (`dlab.vision.grid_detector`). Los desplazamientos del centro pasan por una sigmoide, así que
# quedan dentro de la celda. La pérdida suma tres términos: entropía cruzada binaria de
# objectness sobre las 144 celdas y, solo en las celdas con objeto, la distancia L1 entre los
# números de caja predichos y los verdaderos y la entropía cruzada de la clase. Solo una celda
# de cada 65 contiene un objeto, así que la objectness de esas celdas pesa 5 veces más (YOLO
# reequilibra igual, rebajando el peso de las celdas vacías): en una prueba con 4,000 escenas y
# 4 épocas, sin el peso una detección correcta tenía una puntuación mediana de 0.36, con él
# 0.87, y el mAP@0.5 pasó de 0.986 a 0.992. Los objetivos de las escenas se codifican con tu
# `encode_targets`.

# %%
grid = Grid(size=12, stride=8, anchor=32.0)


def targets(scenes):
    return torch.stack([encode_targets(b, c, grid) for b, c in zip(scenes.boxes, scenes.labels)])


train_targets, val_targets = targets(train_scenes), targets(val_scenes)
torch.manual_seed(ctx.seed)
model = GridDetector(classes=len(CLASSES), widths=(16, 32, 64), extra=2, grid=grid)
ctx.table([ctx.t("layer", "capa"), ctx.t("output", "salida"), ctx.t("parameters", "parámetros")],
          [["features", "64 × 12 × 12", sum(p.numel() for p in model.features.parameters())],
           ["head (1×1 conv)", f"{5 + len(CLASSES)} × 12 × 12",
            sum(p.numel() for p in model.head.parameters())]])

# %% [markdown] lang="en"
# ## 5. Training
# Adam with a one-cycle learning rate (warm up to 3e-3, then anneal to almost 0), batches of
# 64 scenes, a few epochs: the scenes are simple and the budget is a CPU's. The validation loss
# is computed on the validation scenes after every epoch. Training follows the run's precision:
# on a CPU with native bf16 it runs under bf16 autocast, which in a trial (4,000 scenes, 4
# epochs) took half the time of fp32 per epoch for the same mAP@0.5 (0.986 both). Everything
# after training (mAP, ONNX comparison, latency) runs in fp32.

# %% [markdown] lang="es"
# ## 5. Entrenamiento
# Adam con una tasa de aprendizaje de un ciclo (sube hasta 3e-3 y luego baja casi a 0), lotes
# de 64 escenas y pocas épocas: las escenas son sencillas y el presupuesto es el de una CPU. La
# pérdida de validación se calcula con las escenas de validación al final de cada época. El
# entrenamiento sigue la precisión de la ejecución: en una CPU con bf16 nativo se hace con
# autocast bf16, que en una prueba (4,000 escenas, 4 épocas) tardó la mitad que fp32 por época
# con el mismo mAP@0.5 (0.986 en ambos casos). Todo lo que sigue al entrenamiento (mAP,
# comparación con ONNX, latencia) se hace en fp32.

# %%
steps = cfg.epochs * math.ceil(cfg.train_scenes / cfg.batch_size)
optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
one_cycle = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=steps)
timer = EpochTimer()


def loss(output, target):
    return detection_loss(output, target, positive_weight=cfg.positive_weight)


trainer = Trainer(model, optimizer, loss=loss,
                  callbacks=[LRScheduler(one_cycle, "step"), timer], **ctx.trainer_options())
trainer.fit((train_scenes.images, train_targets), (val_scenes.images, val_targets),
            epochs=cfg.epochs, batch_size=cfg.batch_size, seed=ctx.seed, **ctx.fit_options())
seconds_per_epoch = float(np.mean(timer.seconds))
ctx.figure("training_curves", training_curves(trainer.history, titles=[ctx.t(
    "detection loss (objectness + box + class)", "pérdida de detección (objectness + caja + "
    "clase)")]))

# %% [markdown] lang="en"
# ## 6. Non-maximum suppression
# Neighbouring cells often all fire for the same object, each with a slightly different box.
# Non-maximum suppression keeps the best of them: take the box with the highest score, drop
# every remaining box that overlaps it by more than the IoU threshold, and repeat with the best
# box left. A box that was dropped drops nothing. The detector runs it separately per class
# (a trouser never suppresses a bag): `dlab.vision.boxes.class_aware_nms` shifts each class's
# boxes far apart and calls your function once.

# %% [markdown] lang="es"
# ## 6. Supresión de no máximos
# Celdas vecinas suelen activarse todas para el mismo objeto, cada una con una caja algo
# distinta. La supresión de no máximos se queda con la mejor: toma la caja de mayor
# puntuación, descarta toda caja restante que se solape con ella más que el umbral de IoU y
# repite con la mejor caja que quede. Una caja descartada no descarta a nadie. El detector la
# aplica por clase (un pantalón nunca suprime un bolso): `dlab.vision.boxes.class_aware_nms`
# separa mucho las cajas de cada clase y llama una vez a tu función.

# %% exercise="nms"
def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """[en] Greedy non-maximum suppression of `boxes` (n, 4) `(x1, y1, x2, y2)` with `scores`
    (n,): go through the boxes from the highest score down; keep a box unless it overlaps an
    already kept box with IoU > `iou_threshold`. Return the indices of the kept boxes as a
    long tensor, highest score first (`torch.argsort(scores, descending=True)` gives the order;
    `box_iou` the overlaps). No boxes in, an empty long tensor out.

    [es] Supresión de no máximos voraz de `boxes` (n, 4) `(x1, y1, x2, y2)` con puntuaciones
    `scores` (n,): recorre las cajas de mayor a menor puntuación; conserva una caja salvo que se
    solape con una caja ya conservada con IoU > `iou_threshold`. Devuelve los índices de las
    cajas conservadas como tensor long, de mayor a menor puntuación
    (`torch.argsort(scores, descending=True)` da el orden; `box_iou`, los solapamientos). Sin
    cajas de entrada, devuelve un tensor long vacío.
    """
    order = torch.argsort(scores, descending=True)
    overlaps = box_iou(boxes, boxes)
    dropped = torch.zeros(len(boxes), dtype=torch.bool)
    kept = []
    for i in order.tolist():
        if dropped[i]:
            continue
        kept.append(i)
        dropped |= overlaps[i] > iou_threshold
    return torch.tensor(kept, dtype=torch.long)


# %% check
import torch

from dlab.exercises import expect


def _pairwise_iou(a, b):
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2:] - x[:, :2]).prod(-1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


@ctx.check("nms")
def keeps_the_best_of_each_group_in_score_order():
    boxes = torch.tensor([[1.0, 0.0, 11.0, 10.0],    # overlaps box 1 (IoU 0.82)
                          [0.0, 0.0, 10.0, 10.0],
                          [50.0, 50.0, 60.0, 60.0]])  # alone
    kept = nms(boxes, torch.tensor([0.8, 0.9, 0.7]), 0.5)
    expect.type(kept, torch.Tensor, "nms(boxes, scores, 0.5)")
    expect.equal(kept.tolist(), [1, 2], "nms(boxes, scores=[0.8, 0.9, 0.7], 0.5)")
    expect.equal(nms(boxes, torch.tensor([0.8, 0.9, 0.7]), 0.9).tolist(), [1, 0, 2],
                 "nms(boxes, scores=[0.8, 0.9, 0.7], 0.9) (IoU 0.82 is below 0.9)")
    expect.equal(nms(torch.zeros(0, 4), torch.zeros(0), 0.5).tolist(), [],
                 "nms(no boxes)")


@ctx.check("nms")
def a_dropped_box_drops_nothing():
    # 0 overlaps 1, 1 overlaps 2, 0 and 2 do not touch: 0 drops 1, so 2 stays
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [4.0, 0.0, 14.0, 10.0],
                          [9.0, 0.0, 19.0, 10.0]])
    expect.equal(nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.3).tolist(), [0, 2],
                 "nms(a chain of three overlapping boxes, 0.3)")


@ctx.check("nms")
def agrees_with_the_definition_on_random_boxes():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(60, 2, generator=g) * 40
    boxes = torch.cat([xy, xy + 8 + torch.rand(60, 2, generator=g) * 12], 1)
    scores = torch.rand(60, generator=g)
    kept = nms(boxes, scores, 0.4).tolist()
    expected, iou = [], _pairwise_iou(boxes, boxes)
    for i in torch.argsort(scores, descending=True).tolist():
        if all(iou[i, j] <= 0.4 for j in expected):
            expected.append(i)
    expect.equal(kept, expected, "nms(60 random boxes, 0.4)")


# %% [markdown] lang="en"
# ## 7. Mean average precision
# For each class, the detections of all validation scenes are sorted by score; walking down the
# list, a detection is a true positive if it overlaps a not-yet-matched true box of its class
# with IoU ≥ 0.5. Precision and recall along the list draw a curve, and the area under it is
# the class's average precision (AP); mAP@0.5 averages it over the classes. COCO's mAP@0.5:0.95
# also averages over IoU thresholds from 0.5 to 0.95, so it rewards tight boxes. Both are
# computed by pycocotools, the COCO reference implementation, from boxes held in memory
# (`dlab.vision.coco_map`). Detections are every cell with score (objectness × class
# probability) ≥ 0.05 left after NMS at IoU 0.5; inference runs in fp32.

# %% [markdown] lang="es"
# ## 7. Precisión media (mAP)
# Para cada clase, las detecciones de todas las escenas de validación se ordenan por
# puntuación; al recorrer la lista, una detección es un verdadero positivo si se solapa con
# IoU ≥ 0.5 con una caja verdadera de su clase aún no emparejada. La precisión y la
# exhaustividad (recall) a lo largo de la lista dibujan una curva, y el área bajo ella es la
# precisión media (AP) de la clase; mAP@0.5 la promedia sobre las clases. El mAP@0.5:0.95 de
# COCO promedia además sobre umbrales de IoU de 0.5 a 0.95, así que premia las cajas ajustadas.
# Ambos los calcula pycocotools, la implementación de referencia de COCO, a partir de cajas en
# memoria (`dlab.vision.coco_map`). Las detecciones son todas las celdas con puntuación
# (objectness × probabilidad de clase) ≥ 0.05 que quedan tras la NMS con IoU 0.5; la inferencia
# se hace en fp32.

# %%
@torch.no_grad()
def raw_outputs(images):
    model.eval()
    return torch.cat([model(chunk) for chunk in images.split(256)])


def detect(outputs):
    return detections(outputs, grid, nms, score_threshold=cfg.score_threshold,
                      iou_threshold=cfg.iou_threshold)


def truths(scenes):
    return [{"boxes": b, "labels": c} for b, c in zip(scenes.boxes, scenes.labels)]


val_found = detect(raw_outputs(val_scenes.images))
val_result = coco_map(val_found, truths(val_scenes), len(CLASSES))
ctx.table(["mAP@0.5", "mAP@0.5:0.95", "recall@0.5"],
          [[val_result["map50"], val_result["map"], val_result["recall"]]],
          title=ctx.t("validation scenes", "escenas de validación"))

fig, ax = plt.subplots(figsize=(5, 3.8))
for c, name in enumerate(names):
    ax.plot(RECALL_POINTS, val_result["precision50"][c], label=name)
ax.set_xlabel("recall")
ax.set_ylabel(ctx.t("precision", "precisión"))
ax.set_ylim(0, 1.02)
ax.grid(alpha=0.3)
ax.legend()
ax.set_title(ctx.t(f"precision–recall at IoU 0.5 (mAP@0.5 = {val_result['map50']:.3f})",
                   f"precisión–recall con IoU 0.5 (mAP@0.5 = {val_result['map50']:.3f})"))
ctx.figure("precision_recall", fig)

# %% [markdown] lang="en"
# ## 8. An operating point, and three inspection images
# mAP scores the whole ranking; a deployed detector must also decide which boxes to show. The
# score threshold is chosen on the validation scenes (all but the three inspection scenes): of
# 0.05, 0.10, …, 0.95, the one with the best F1, where a detection is right when it overlaps a
# true box of its class with IoU ≥ 0.5. Scores (objectness × class probability) are not
# probabilities that a box is right, so a fixed 0.5 would be a guess. The inspection images
# are the first three validation scenes, not chosen by hand. True boxes are dashed and green;
# detections above the threshold are solid and orange, with their class and score. An image
# counts as correct when every true object has a detection of its class with IoU ≥ 0.5 and
# there is no other detection.

# %% [markdown] lang="es"
# ## 8. Un punto de operación y tres imágenes de inspección
# El mAP evalúa toda la ordenación; un detector en producción además debe decidir qué cajas
# muestra. El umbral de puntuación se elige con las escenas de validación (todas menos las tres
# de inspección): de 0.05, 0.10, …, 0.95, el de mejor F1, donde una detección es correcta si se
# solapa con IoU ≥ 0.5 con una caja verdadera de su clase. Las puntuaciones (objectness ×
# probabilidad de clase) no son probabilidades de que una caja sea correcta, así que un 0.5
# fijo sería una suposición. Las imágenes de inspección son las tres primeras escenas de
# validación, sin elegirlas a mano. Las cajas verdaderas van en verde y discontinuas; las
# detecciones por encima del umbral, en naranja y continuas, con su clase y su puntuación. Una
# imagen cuenta como correcta cuando cada objeto verdadero tiene una detección de su clase con
# IoU ≥ 0.5 y no hay ninguna otra detección.

# %%
def matched(found, wanted, min_iou):
    """How many boxes of ``found`` overlap a box of ``wanted`` with the same label by at least
    ``min_iou`` (true boxes never overlap and NMS has removed same-class duplicates, so the
    matches are one-to-one in practice)."""
    if len(found["boxes"]) == 0 or len(wanted["boxes"]) == 0:
        return 0
    iou = box_iou(found["boxes"], wanted["boxes"].float())
    same = found["labels"][:, None] == wanted["labels"][None, :]
    return int(((iou >= min_iou) & same).any(1).sum())


def above(found, threshold):
    return [{k: v[d["scores"] >= threshold] for k, v in d.items()} for d in found]


def precision_recall_f1(found, wanted):
    right = sum(matched(f, w, 0.5) for f, w in zip(found, wanted))
    reached = sum(matched(w, f, 0.5) for f, w in zip(found, wanted))
    precision = right / max(sum(len(f["boxes"]) for f in found), 1)
    recall = reached / sum(len(w["boxes"]) for w in wanted)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-12)


inspection = truths(val_scenes)[:3]
choice = val_found[3:], truths(val_scenes)[3:]
operating = {float(t): precision_recall_f1(above(choice[0], t), choice[1])
             for t in np.round(np.arange(0.05, 0.96, 0.05), 2)}
threshold = max(operating, key=lambda t: operating[t][2])
ctx.table([ctx.t("score threshold", "umbral de puntuación"), ctx.t("precision", "precisión"),
           "recall", "F1"],
          [[t, *operating[t]] for t in (0.3, 0.5, 0.7) if t != threshold]
          + [[ctx.t(f"{threshold} (best F1)", f"{threshold} (mejor F1)"), *operating[threshold]]],
          title=ctx.t("validation scenes, IoU ≥ 0.5", "escenas de validación, IoU ≥ 0.5"))
shown = above(val_found[:3], threshold)
correct = [len(s["boxes"]) == len(t["boxes"]) == matched(s, t, 0.5)
           for s, t in zip(shown, inspection)]
fig, axes = scene_row(val_scenes.images[:3], titles=[
    ctx.t(f"scene {i}: {'correct' if ok else 'wrong'}", f"escena {i}: "
          f"{'correcta' if ok else 'incorrecta'}") for i, ok in enumerate(correct)])
for ax, s, t in zip(axes, shown, inspection):
    draw_boxes(ax, t["boxes"], color="tab:green", linestyle="--")
    draw_boxes(ax, s["boxes"], color="tab:orange", scores=s["scores"],
               names=[names[int(c)] for c in s["labels"]])
ctx.figure("inspection", fig)

# %% [markdown] lang="en"
# ## 9. Export to ONNX and run with onnxruntime
# ONNX is a file format for the network's computation graph that other runtimes execute
# without Python or PyTorch; onnxruntime is the usual one on CPUs. The trained network goes
# through `torch.onnx.export(..., dynamo=True)` (the graph is captured by `torch.export`), the
# file is written next to the run's results, and onnxruntime runs it on validation scenes. Its
# raw outputs go through the same decoding and NMS as PyTorch's, and every PyTorch box must have
# an ONNX twin (same class, IoU ≥ 0.99). Latency is the median time for one image, with the same
# number of threads for both.

# %% [markdown] lang="es"
# ## 9. Exportar a ONNX y ejecutar con onnxruntime
# ONNX es un formato de archivo para el grafo de cálculo de la red que otros motores ejecutan
# sin Python ni PyTorch; onnxruntime es el habitual en CPU. La red entrenada pasa por
# `torch.onnx.export(..., dynamo=True)` (el grafo lo captura `torch.export`), el archivo se
# guarda junto a los resultados de la ejecución y onnxruntime lo ejecuta con escenas de
# validación. Sus salidas pasan por la misma decodificación y NMS que las de PyTorch, y cada
# caja de PyTorch debe tener su gemela ONNX (misma clase, IoU ≥ 0.99). La latencia es la
# mediana del tiempo de una imagen, con el mismo número de hilos para los dos.

# %%
compared = val_scenes.images[:cfg.onnx_scenes]
onnx_path = export_onnx(model, compared[:1], ctx.checkpoint_path.with_name("detector.onnx"))
session = onnx_session(onnx_path)
torch_found = detect(raw_outputs(compared))
onnx_found = detect(torch.cat([onnx_predict(session, compared[i:i + 1])
                               for i in range(len(compared))]))
torch_boxes = sum(len(d["boxes"]) for d in torch_found)
onnx_matched = sum(matched(t, o, 0.99) for t, o in zip(torch_found, onnx_found))
same_counts = all(len(t["boxes"]) == len(o["boxes"]) for t, o in zip(torch_found, onnx_found))
latency_images = val_scenes.images[:cfg.latency_images]
with torch.no_grad():
    torch_ms = median_latency_ms(model, latency_images)
onnx_ms = median_latency_ms(lambda x: onnx_predict(session, x), latency_images)
ctx.table(["", "PyTorch", "ONNX Runtime"],
          [[ctx.t("boxes found (score ≥ 0.05)", "cajas encontradas (puntuación ≥ 0.05)"),
            torch_boxes, sum(len(d["boxes"]) for d in onnx_found)],
           [ctx.t("PyTorch boxes matched (IoU ≥ 0.99)", "cajas de PyTorch emparejadas "
                  "(IoU ≥ 0.99)"), torch_boxes, onnx_matched],
           [ctx.t("ms per image (median)", "ms por imagen (mediana)"), torch_ms, onnx_ms]],
          title=ctx.t(f"{len(compared)} validation scenes", f"{len(compared)} escenas de "
                      "validación"))

# %% [markdown] lang="en"
# ## 10. The test scenes, once
# Nothing was chosen on them: the test scenes are scored a single time, at the end.

# %% [markdown] lang="es"
# ## 10. Las escenas de test, una vez
# Nada se eligió con ellas: las escenas de test se evalúan una sola vez, al final.

# %%
test_result = coco_map(detect(raw_outputs(test_scenes.images)), truths(test_scenes),
                       len(CLASSES))
ctx.table(["mAP@0.5", "mAP@0.5:0.95"], [[test_result["map50"], test_result["map"]]],
          title=ctx.t("test scenes", "escenas de test"))

# %% [markdown] lang="en"
# What the full run measured (seed 0, bf16 training, 6,000 scenes, 6 epochs, 14–20 s per
# epoch on one core of a shared machine): mAP@0.5 of 0.989 on validation and 0.993 on test,
# far above the course's 0.7, and mAP@0.5:0.95 of 0.80, so most boxes are tight as well. The
# best-F1 threshold was 0.35 (F1 0.994), and the three inspection scenes came out right. The
# ONNX model found the same 472 boxes on 200 validation scenes, and ran one image in 0.6 ms
# against 2.4–2.7 ms for PyTorch in eager mode (6.5 ms in a run on a busy machine), whose
# per-layer Python overhead weighs heavily on so small a network. Generated scenes are much
# easier than photographs: no clutter, no occlusion, three shapes.

# %% [markdown] lang="es"
# Lo que midió la ejecución completa (semilla 0, entrenamiento en bf16, 6,000 escenas, 6
# épocas, 14–20 s por época en un núcleo de una máquina compartida): mAP@0.5 de 0.989 en
# validación y 0.993 en test, muy por encima del 0.7 del curso, y mAP@0.5:0.95 de 0.80, así
# que la mayoría de las cajas además están bien ajustadas. El umbral de mejor F1 fue 0.35 (F1
# 0.994) y las tres escenas de inspección salieron bien. El modelo ONNX encontró las mismas 472
# cajas en 200 escenas de validación y procesó una imagen en 0.6 ms frente a 2.4–2.7 ms de
# PyTorch en modo eager (6.5 ms en una ejecución con la máquina ocupada), cuyo coste de Python
# por capa pesa mucho en una red tan pequeña. Las escenas generadas son mucho más fáciles que
# las fotografías: sin fondo cargado, sin oclusiones, tres formas.

# %%
ctx.finish({
    "val_map50": val_result["map50"],
    "val_map50_95": val_result["map"],
    "val_recall50": val_result["recall"],
    "test_map50": test_result["map50"],
    "test_map50_95": test_result["map"],
    "score_threshold": threshold,
    "val_f1": operating[threshold][2],
    "inspection_correct": sum(correct),
    "onnx_matched_share": onnx_matched / max(torch_boxes, 1),
    "onnx_same_counts": same_counts,
    "seconds_per_epoch": seconds_per_epoch,
    "torch_ms_per_image": torch_ms,
    "onnx_ms_per_image": onnx_ms,
})

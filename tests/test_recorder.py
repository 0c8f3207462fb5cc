"""LossRecorder keeps one loss per training step, with an epoch axis for plots."""
import torch

from dlab.engine import Trainer
from dlab.engine.recorder import LossRecorder


def test_one_loss_per_step_and_epoch_axis():
    torch.manual_seed(0)
    X, y = torch.randn(50, 3), torch.randint(0, 2, (50,))
    model = torch.nn.Linear(3, 2)
    recorder = LossRecorder()
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), callbacks=[recorder],
                      device="cpu", progress=False, doctor=False)
    history = trainer.fit((X, y), epochs=3, batch_size=16)
    assert recorder.steps_per_epoch == 4  # ceil(50 / 16)
    assert len(recorder.losses) == 12
    assert recorder.epochs()[3] == 1.0 and recorder.epochs()[-1] == 3.0
    # The epoch loss in History is the sample-weighted mean of that epoch's step losses.
    sizes = torch.tensor([16, 16, 16, 2], dtype=torch.float)
    first = (torch.tensor(recorder.losses[:4]) * sizes).sum() / 50
    assert abs(first.item() - history["loss"][0]) < 1e-6
    state = recorder.state_dict()
    copy = LossRecorder()
    copy.load_state_dict(state)
    assert copy.losses == recorder.losses and copy.steps_per_epoch == 4

"""dlab.sequences.lm: training pieces, the warm-up + cosine schedule, loss spikes and the sample
measures."""
import pytest
import torch

from dlab.sequences.lm import known_word_share, loss_spikes, pieces, speaker_lines, warmup_cosine


def test_pieces_are_the_text_and_its_next_characters():
    x, y = pieces(torch.arange(11), 3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_warmup_cosine_rises_then_decays_to_the_floor():
    values = [warmup_cosine(s, warmup=10, total=110) for s in range(110)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert values[10] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(values[10:], values[11:]))
    assert warmup_cosine(110, 10, 110) == pytest.approx(0.1)


def test_loss_spikes_count_jumps_not_noise():
    noise = torch.randn(300, generator=torch.Generator().manual_seed(0)) * 0.05
    noisy = [2.0 - 0.002 * i + float(e) for i, e in enumerate(noise)]
    assert loss_spikes(noisy) == 0
    spiky = list(noisy)
    spiky[120] += 1.0
    spiky[250] += 0.6
    assert loss_spikes(spiky) == 2
    assert loss_spikes([1.0] * 5) == 0


def test_sample_measures():
    text = "ROMEO:\nthou art here, zzq.\nJULIET:\nO Romeo\nnot a speaker: line"
    assert speaker_lines(text) == 2
    assert known_word_share("thou art zzq", {"thou", "art"}) == pytest.approx(2 / 3)


def test_saved_activation_bytes_grow_with_the_square_of_the_context_for_attention():
    from dlab.sequences.lm import saved_activation_bytes
    from dlab.models.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab=10, block_size=64, d_model=16, n_layer=1, n_head=2))
    short = saved_activation_bytes(model, torch.zeros(1, 16, dtype=torch.long))
    long = saved_activation_bytes(model, torch.zeros(1, 64, dtype=torch.long))
    assert short > 0 and long > 4 * short  # the T × T scores make it grow faster than T
    linear = torch.nn.Linear(3, 2)
    x = torch.randn(5, 3)
    assert saved_activation_bytes(linear, x) == 5 * 3 * 4  # only the input is saved

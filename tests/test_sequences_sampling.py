import pytest
import torch

from dlab.sequences import CharLanguageModel, generate, temperature_softmax


def test_temperature_sharpens_and_flattens():
    logits = torch.tensor([2.0, 1.0, 0.0])
    torch.testing.assert_close(temperature_softmax(logits, 1.0), torch.softmax(logits, -1))
    cold, hot = temperature_softmax(logits, 0.1), temperature_softmax(logits, 10.0)
    assert cold[0] > 0.99 and hot.max() - hot.min() < 0.1
    with pytest.raises(ValueError):
        temperature_softmax(logits, 0.0)


def test_generation_with_state_equals_rerunning_the_whole_text():
    """Carrying the hidden state one token at a time gives the logits a full re-run would."""
    torch.manual_seed(0)
    model = CharLanguageModel(vocab=7, embed=4, hidden=8, layers=2).eval()
    seen = []

    def probabilities(logits, temperature):
        seen.append(logits)
        return temperature_softmax(logits, temperature)

    prompt = [1, 2, 3]
    new = generate(model.step, prompt, 5, 0.8, torch.Generator().manual_seed(0), probabilities)
    assert len(new) == 5 and all(0 <= t < 7 for t in new)
    text = prompt + new
    with torch.no_grad():
        full = model(torch.tensor([text]))[0].T  # (time, vocab)
    for i, logits in enumerate(seen):
        torch.testing.assert_close(logits, full[len(prompt) - 1 + i], atol=1e-5, rtol=1e-5)


def test_same_generator_seed_same_text():
    torch.manual_seed(0)
    model = CharLanguageModel(vocab=5, embed=3, hidden=6).eval()
    runs = [generate(model.step, [0], 20, 1.0, torch.Generator().manual_seed(3))
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_language_model_logits_layout():
    model = CharLanguageModel(vocab=11, embed=4, hidden=6, cell="lstm")
    assert model(torch.zeros(2, 9, dtype=torch.long)).shape == (2, 11, 9)

"""dlab.sequences.seq2seq: tokenizing, vocabularies, padding and the encoder–decoder."""
import torch

from dlab.sequences.seq2seq import (BOS, EOS, PAD, UNK, Seq2Seq, Vocabulary, pad_left,
                                    pad_targets, tokenize)


def test_tokenize_splits_spanish_punctuation():
    assert tokenize("¿Qué hora es?") == ["¿", "qué", "hora", "es", "?"]


def test_vocabulary_keeps_frequent_words_and_decodes_to_the_end_id():
    vocab = Vocabulary([["a", "b", "a"], ["a", "c", "b"]], max_size=10)
    assert vocab.itos[:5] == ["<pad>", "<unk>", "<s>", "</s>", "a"]
    assert "c" not in vocab.stoi  # seen once < min_count 2
    assert vocab.ids(["a", "c"]) == [4, UNK]
    assert vocab.words([BOS, 4, 5, EOS, 4]) == ["a", "b"]


def test_padding_sides():
    assert pad_left([[5, 6]], 4).tolist() == [[PAD, PAD, 5, 6]]
    assert pad_targets([[5, 6]], 4).tolist() == [[5, 6, EOS, PAD, PAD]]


def _attend(q, k, mask):
    w = torch.softmax((q @ k.transpose(1, 2)).masked_fill(~mask[:, None], float("-inf")), -1)
    return w @ k, w


def test_forward_equals_step_by_step_decoding():
    torch.manual_seed(0)
    model = Seq2Seq(20, 30, 8, 16, src_len=5, attention=_attend).eval()
    src = pad_left([[5, 6, 7], [8, 9, 10, 11, 12]], 5)
    tgt_in = torch.randint(4, 30, (2, 4))
    logits = model(torch.cat([src, tgt_in], 1))
    assert logits.shape == (2, 30, 4)
    memory, state, mask = model.encode(src)
    steps = []
    for t in range(4):
        out, state, w = model.decode(memory, mask, tgt_in[:, t:t + 1], state)
        steps.append(out)
        assert torch.all(w[0, :, :2] == 0)  # padding gets no attention
    torch.testing.assert_close(torch.cat(steps, 1).transpose(1, 2), logits)


def test_translate_returns_weights_of_the_chosen_words():
    torch.manual_seed(0)
    model = Seq2Seq(20, 30, 8, 16, src_len=5, attention=_attend)

    def search(step, state, bos, eos, max_len):
        return torch.full((2, max_len), 7)

    tokens, weights = model.translate(pad_left([[5], [6, 7]], 5), 3, search)
    assert tokens.shape == (2, 3) and weights.shape == (2, 3, 5)
    assert Seq2Seq(20, 30, 8, 16, src_len=5).translate(
        pad_left([[5]], 5), 3, lambda *a: torch.full((1, 3), 7))[1] is None

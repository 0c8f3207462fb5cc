"""dlab.sequences.beam: beam search over a step-by-step decoder."""
import math

import torch

from dlab.sequences.beam import beam_search
from dlab.sequences.seq2seq import EOS, Seq2Seq, pad_left

BOS, VOCAB, MAX_LEN = 2, 10, 8


def greedy(step, state, bos, eos, max_len):
    tokens, chosen = torch.full((state[0].shape[1], 1), bos), []
    for _ in range(max_len):
        logits, state = step(tokens, state)
        tokens = logits.argmax(-1)
        chosen.append(tokens)
    return torch.cat(chosen, 1)


def until_end(row):
    ids = row.tolist()
    return ids[:ids.index(EOS) + 1] if EOS in ids else ids


def toy_decoder(sentences=5, seed=0):
    """A tiny recurrent decoder: state (h (1, N, 6), steps so far (1, N, 1)); the end token
    grows likelier with every step, so sentences end after a few words, at different steps."""
    g = torch.Generator().manual_seed(seed)
    embed, mix, out = (torch.randn(VOCAB, 6, generator=g), torch.randn(6, 6, generator=g),
                       torch.randn(6, VOCAB, generator=g) * 2)

    def step(tokens, state):
        h, t = state
        h = torch.tanh(h @ mix + embed[tokens[:, 0]].unsqueeze(0))
        logits = h[0] @ out
        logits[:, EOS] += 1.2 * (t[0, :, 0] - 3)
        return logits.unsqueeze(1), (h, t + 1)

    return step, (torch.randn(1, sentences, 6, generator=g), torch.zeros(1, sentences, 1))


def teacher_forced_log_prob(step, state, tokens):
    """Sum of log p(word | previous words) of each row, up to and including its first end."""
    inputs = torch.cat([torch.full((len(tokens), 1), BOS), tokens[:, :-1]], 1)
    total = torch.zeros(len(tokens))
    alive = torch.ones(len(tokens), dtype=torch.bool)
    for t in range(tokens.shape[1]):
        logits, state = step(inputs[:, t:t + 1], state)
        logp = torch.log_softmax(logits[:, 0], -1).gather(1, tokens[:, t:t + 1])[:, 0]
        total += torch.where(alive, logp, torch.zeros_like(logp))
        alive &= tokens[:, t] != EOS
    return total


def test_width_one_is_greedy_decoding():
    step, state = toy_decoder()
    beam = beam_search(step, state, BOS, EOS, MAX_LEN, width=1)
    ends = [until_end(r) for r in beam]
    assert ends == [until_end(r) for r in greedy(step, state, BOS, EOS, MAX_LEN)]
    assert len({len(e) for e in ends}) > 1 and all(e[-1] == EOS for e in ends)


def test_width_one_is_greedy_decoding_of_the_seq2seq_model():
    torch.manual_seed(0)
    model = Seq2Seq(20, 12, 8, 16, src_len=5).eval()
    src = pad_left([[5, 6, 7], [8, 9, 10, 11, 12], [4, 4]], 5)
    with_beam = model.translate(src, 6, lambda *a: beam_search(*a, width=1))[0]
    assert [until_end(r) for r in with_beam] == \
        [until_end(r) for r in model.translate(src, 6, greedy)[0]]


def toy_step(tokens, state):
    """Words: 0 start, 1 end, 2 'a', 3 'b'. From the start 'a' is likelier (0.6 vs 0.4), but
    after 'a' the end is uncertain (0.34) while after 'b' it is almost sure (0.99): greedy
    takes 'a', the better sentence is 'b </s>' (0.396 vs 0.204)."""
    table = torch.tensor([[0.0, 0.0, 0.6, 0.4],
                          [0.0, 1.0, 0.0, 0.0],
                          [0.0, 0.34, 0.33, 0.33],
                          [0.0, 0.99, 0.005, 0.005]]).clamp(min=1e-9).log()
    return table[tokens], state


def test_beam_finds_the_sentence_greedy_misses():
    state = (torch.zeros(1, 1, 1),)
    assert greedy(toy_step, state, 0, 1, 2).tolist() == [[2, 1]]
    tokens, score = beam_search(toy_step, state, 0, 1, 5, width=2, with_scores=True)
    assert tokens.tolist() == [[3, 1]]
    assert math.isclose(score.item(), math.log(0.4 * 0.99), rel_tol=1e-5)


def test_scores_are_teacher_forced_log_probabilities_and_beat_greedy():
    step, state = toy_decoder(sentences=8)
    tokens, scores = beam_search(step, state, BOS, EOS, MAX_LEN, width=4, alpha=0.0,
                                 with_scores=True)
    assert torch.allclose(scores, teacher_forced_log_prob(step, state, tokens), atol=1e-4)
    greedy_scores = teacher_forced_log_prob(step, state, greedy(step, state, BOS, EOS, MAX_LEN))
    assert (scores >= greedy_scores - 1e-5).all() and (scores > greedy_scores + 1e-3).any()


def short_or_long_step(tokens, state):
    """Words: 0 start, 1 end, 2 'a', 3 'b', 4 'c'. 'end' alone has probability 0.5 (mean
    log-probability -0.69); 'a c end' has 0.3 · 0.95 · 0.95 = 0.27, a smaller product but a
    better mean per word (-0.44)."""
    table = torch.tensor([[0.0, 0.5, 0.3, 0.2, 0.0],
                          [0.0, 1.0, 0.0, 0.0, 0.0],
                          [0.0, 0.05, 0.0, 0.0, 0.95],
                          [0.0, 1.0, 0.0, 0.0, 0.0],
                          [0.0, 0.95, 0.05, 0.0, 0.0]]).clamp(min=1e-9).log()
    return table[tokens], state


def test_length_normalisation_ranks_by_mean_log_probability():
    state = (torch.zeros(1, 1, 1),)
    plain_sums = beam_search(short_or_long_step, state, 0, 1, 5, width=2, alpha=0.0)
    assert plain_sums[0, 0].item() == 1  # 'end' at once
    tokens, score = beam_search(short_or_long_step, state, 0, 1, 5, width=2, alpha=1.0,
                                with_scores=True)
    assert tokens[0, :3].tolist() == [2, 4, 1]
    assert math.isclose(score.item(), math.log(0.3 * 0.95 * 0.95), rel_tol=1e-5)


def test_sentences_of_a_batch_are_searched_independently():
    step, state = toy_decoder(sentences=5)
    batch = beam_search(step, state, BOS, EOS, MAX_LEN, width=3)
    for row in range(5):
        alone = beam_search(step, tuple(s[:, row:row + 1] for s in state), BOS, EOS, MAX_LEN,
                            width=3)
        assert until_end(alone[0]) == until_end(batch[row])

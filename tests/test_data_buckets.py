"""LengthBuckets: every row once per epoch, batches cut only where all rows are padding,
reproducible orders, and far less padding than random batches."""
import torch

from dlab.data.buckets import LengthBuckets


def padded_rows(n: int = 300, width: int = 50, seed: int = 0):
    """Rows padded with 0 at the start; row i holds its index + 1 in every real position."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, width + 1, (n,), generator=generator)
    ids = torch.zeros(n, width, dtype=torch.int64)
    for i, length in enumerate(lengths):
        ids[i, width - length:] = i + 1
    return ids, torch.arange(n), lengths


def test_each_row_once_uncut_and_with_its_label():
    ids, labels, lengths = padded_rows()
    seen = []
    for xb, yb in LengthBuckets(ids, labels, batch_size=16, seed=3, pool=4):
        assert (xb[:, 0] != 0).any()  # cut exactly to the batch's longest row
        for row, label in zip(xb, yb):
            assert (row != 0).sum() == lengths[label]  # no real token lost
            assert set(row[row != 0].tolist()) == {int(label) + 1}  # the label of that row
        seen += yb.tolist()
    assert sorted(seen) == list(range(len(labels)))


def test_orders_depend_only_on_seed_and_epoch():
    ids, labels, _ = padded_rows()

    def order(seed, epoch):
        buckets = LengthBuckets(ids, labels, batch_size=16, seed=seed)
        buckets.set_epoch(epoch)
        return torch.cat([yb for _, yb in buckets]).tolist()

    assert order(0, 1) == order(0, 1)
    assert order(0, 1) != order(0, 2)
    assert order(0, 1) != order(1, 1)
    assert len(LengthBuckets(ids, labels, batch_size=16)) == 19


def test_much_less_padding_than_random_batches_and_sorted_when_not_shuffled():
    ids, labels, lengths = padded_rows()
    read = sum(xb.numel() for xb, _ in LengthBuckets(ids, labels, batch_size=16, pool=50))
    assert read < 1.2 * int(lengths.sum()) < 0.8 * ids.numel()
    evaluation = torch.cat([yb for _, yb in LengthBuckets(ids, labels, 16, shuffle=False)])
    assert torch.equal(lengths[evaluation], lengths.sort(stable=True).values)

"""Length-grouped batches whose order a resumed run draws again.

transformers' LengthGroupedSampler shuffles with the global random state at the
moment the epoch starts, which a run resumed from a checkpoint does not share with
the run it continues: the resumed run trained on other batches (its loss differed
by 0.1 from the uninterrupted run's).  Here the shuffle is seeded by (seed, epoch)
alone; the Trainer passes the epoch through accelerate's set_epoch.
"""

from __future__ import annotations


def epoch_seeded(sampler, seed: int):
    """The same LengthGroupedSampler (lengths, batch size), its order fixed by seed and epoch."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
        epoch = 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = epoch

        def __iter__(self):
            self.generator.manual_seed(seed + self.epoch)
            return super().__iter__()

    return EpochSeededLengthGroupedSampler(sampler.batch_size, lengths=sampler.lengths,
                                           generator=torch.Generator())


def is_length_grouped(sampler) -> bool:
    from transformers.trainer_pt_utils import LengthGroupedSampler

    return isinstance(sampler, LengthGroupedSampler)

"""Library output that does not concern the user, turned off before the libraries load.

The libraries' progress bars (model loading, datasets map, tqdm), DeepSpeed's
accelerator notice, bitsandbytes' kernel notice and the other ranks' chatter; with
FTC_VERBOSE (`ftc run/launch --verbose`) the main rank keeps everything. No heavy
imports at module level: some libraries warn while they are imported.
"""

from __future__ import annotations

import os

from ftc.runtime.launch_env import VERBOSE_ENV


def verbose() -> bool:
    return bool(os.environ.get(VERBOSE_ENV))


def quiet_libraries(main_process: bool) -> None:
    """Library progress bars and warnings off (all of it stays with FTC_VERBOSE), and
    everything but errors off on the other ranks. Called before the libraries load:
    some warn as they are imported."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    if verbose() and main_process:
        return
    for name in ("bitsandbytes", "accelerate", "DeepSpeed", "torch.distributed", "peft"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    import torch

    if not torch.cuda.is_available():  # DeepSpeed picks the CPU anyway, with a warning
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - the runtime has datasets
        pass



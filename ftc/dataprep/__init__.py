"""Training data: check, clean, deduplicate, split and report, with nothing silently lost.

`prepare_for_run(lock, lock_dir, out_dir)` is what the runtime calls;
`check_files(...)` backs `ftc data check`; `export_for_provider(...)` backs
`ftc data export`.  Importing this package is cheap: numpy, datasketch,
pyarrow, datasets and transformers are imported inside the functions that
need them.
"""

from __future__ import annotations

__all__ = ["DataSettings", "PreparedSplits", "prepare_for_run"]


def __getattr__(name: str):
    """The pipeline loads when first asked for: `ftc lint` reads only dataprep.rules."""
    if name in ("PreparedSplits", "prepare_for_run"):
        from ftc.dataprep import prepare

        return getattr(prepare, name)
    if name == "DataSettings":
        from ftc.dataprep.settings import DataSettings

        return DataSettings
    raise AttributeError(f"module 'ftc.dataprep' has no attribute {name!r}")

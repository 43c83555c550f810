"""What a bundle's launch.sh runs: training from recipe.lock.yaml alone.

Entry point: `python -m ftc.runtime LOCK [--resume [CKPT]]` (under `accelerate
launch`). Heavy libraries (torch, transformers, peft, trl, datasets) are imported
inside functions, so importing this package stays cheap.
"""

"""What a fine-tuning is for: the recipe's data.task values plus smaller-model.

Kept apart so that the CLI can list the choices without loading the estimator.
"""

TASKS = ("style", "classification", "knowledge", "generation", "instruction", "alignment",
         "smaller-model")

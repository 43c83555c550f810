"""Importers: other tools' training configs turned into ftc recipes (compiler side, no torch).

Each importer maps every key of its source to a recipe key, or says why it dropped it, or
reports it as unsupported with its position; `recipe_text` writes the recipe with those
notes as comments.
"""

"""Trainer modules, referenced from specs by module path (trainer.module)."""

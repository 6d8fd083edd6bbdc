"""Alert rules, evaluation and delivery."""

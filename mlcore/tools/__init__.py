"""Tools that make training data (make_pairs) and the like; not part of any family."""

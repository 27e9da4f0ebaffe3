"""Exercise 3.1, a worked solution: error, precision, recall and the baseline.

The same arithmetic as stage3.train.evaluate, which counts the four cells of the
confusion matrix with one Spark groupBy and then divides, exactly as here.
"""
from __future__ import annotations


def metrics(tp: int, fp: int, fn: int, tn: int, majority: int) -> dict:
    """The test metrics of a confusion matrix; ``majority`` is the class (0 or 1) most
    TRAINING customers are in, the answer the baseline always gives."""
    total = tp + fp + fn + tn
    positives = tp + fn                       # the customers who really clicked
    return {
        # wrong answers of both kinds, over every test customer
        "error": (fp + fn) / total,
        # of the customers the model picked, how many clicked: what each SMS buys.
        # A model that picks nobody has nothing to measure; evaluate() says 0.0.
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        # of the customers who clicked, how many the model found
        "recall": tp / positives if positives else 0.0,
        # "always answer the majority class": wrong on every customer of the other class.
        # This does not depend on the model at all, only on the labels.
        "baseline_error": (positives if majority == 0 else total - positives) / total,
    }


if __name__ == "__main__":
    # "nobody clicks" on unbalanced labels: 5% error, the same as the baseline, recall 0
    print(metrics(tp=0, fp=0, fn=42, tn=798, majority=0))

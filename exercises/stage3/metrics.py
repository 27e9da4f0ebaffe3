"""Exercise 3.1: error, precision, recall and the baseline (warm-up, 5 minutes).

Every training round (02.stage3/train.py) tests its model on the 20% of labelled
customers it did not train on, and counts four kinds of answer, the confusion matrix:

                        clicked (label 1)    did not (label 0)
    predicted 1               tp                    fp
    predicted 0               fn                    tn

From these four numbers come the figures of each round's log line, and the gate
decides on two of them. The baseline is the model that always answers the
majority class of the training customers (``majority``, 0 or 1), whatever they did.

Your task: metrics(tp, fp, fn, tn, majority) -> a dict with
    error           the share of test customers the model got wrong
    precision       of the customers the model picked (predicted 1), the share who clicked
    recall          of the customers who clicked, the share the model picked
    baseline_error  the error of always answering ``majority``
When a share has nothing to divide by (the model picked nobody, or nobody clicked),
report 0.0, as stage3.train.evaluate does.

Check:  make check-stage3 EX=3.1
"""
from __future__ import annotations


def metrics(tp: int, fp: int, fn: int, tn: int, majority: int) -> dict:
    """The test metrics of a confusion matrix."""
    # total = every test customer; positives = those who really clicked (tp + fn)
    raise NotImplementedError("metrics: error, precision, recall, baseline_error from tp, fp, fn, tn")


if __name__ == "__main__":
    # "nobody clicks" on unbalanced labels: what do error and the baseline say?
    print(metrics(tp=0, fp=0, fn=42, tn=798, majority=0))

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

한국어
------
과제 3.1 (워밍업, 5분): error, precision, recall, 그리고 baseline.
학습 라운드마다(02.stage3/train.py) label이 있는 고객 중 학습에 쓰지 않은 20%로 모델을 테스트하고,
답을 네 종류(혼동 행렬의 tp, fp, fn, tn)로 셉니다. 라운드 로그의 수치가 여기서 나오고, gate는 그중
두 개로 판정합니다. baseline은 학습 고객의 다수 클래스(``majority``, 0 또는 1)를 늘 답으로 내놓는
모델입니다.
할 일: metrics(tp, fp, fn, tn, majority) -> error(틀린 비율), precision(모델이 고른 고객 중 클릭한
비율), recall(클릭한 고객 중 모델이 고른 비율), baseline_error(늘 ``majority``로 답할 때의 오류율)를
담은 dict. 나눌 값이 0이면(아무도 고르지 않았거나 아무도 클릭하지 않음) stage3.train.evaluate처럼
0.0을 씁니다.
"""
from __future__ import annotations


def metrics(tp: int, fp: int, fn: int, tn: int, majority: int) -> dict:
    """The test metrics of a confusion matrix."""
    # total = every test customer; positives = those who really clicked (tp + fn)
    raise NotImplementedError("metrics: error, precision, recall, baseline_error from tp, fp, fn, tn")


if __name__ == "__main__":
    # "nobody clicks" on unbalanced labels: what do error and the baseline say?
    print(metrics(tp=0, fp=0, fn=42, tn=798, majority=0))

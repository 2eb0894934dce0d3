#!/usr/bin/python3
"""Writes test/fixtures/sklearn/metrics.json: scikit-learn's values for voxelgrad's metric tests.

Run with /usr/bin/python3 (Debian's python3-sklearn). Labels: 1 = T3 (positive), 0 = T2.
A subject is predicted T3 when score >= 0.5 (the rule src/train/metrics.ts documents), so the
confusion matrix and recalls below are sklearn's values for that y_pred.
sklearn < 1.3 returns thresholds[0] = max(score) + 1 where newer versions return +inf; the JSON stores
thresholds[1:] only ("thresholds_tail") and the tests check voxelgrad's thresholds[0] is +Infinity.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, confusion_matrix, recall_score,
                             roc_auc_score, roc_curve)

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'sklearn', 'metrics.json')


def case(name, labels, scores):
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    pred = (scores >= 0.5).astype(np.int64)
    out = {
        'name': name,
        'labels': labels.tolist(),
        'scores': scores.tolist(),
        'roc_auc_score': float(roc_auc_score(labels, scores)),
        'accuracy': float(accuracy_score(labels, pred)),
        'recall_t2': float(recall_score(labels, pred, pos_label=0, zero_division=0)),
        'recall_t3': float(recall_score(labels, pred, pos_label=1, zero_division=0)),
        # sklearn layout [[TN, FP], [FN, TP]]: rows = true class, columns = predicted class
        'confusion': confusion_matrix(labels, pred, labels=[0, 1]).tolist(),
    }
    for drop in (False, True):
        fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=drop)
        key = 'roc_curve_drop' if drop else 'roc_curve'
        out[key] = {'fpr': fpr.tolist(), 'tpr': tpr.tolist(), 'thresholds_tail': thr[1:].tolist()}
    return out


def main():
    rng = np.random.default_rng(20220918)
    cases = []
    # Random continuous scores, paper-like imbalance (168 T2 : 399 T3), informative.
    for n, p_t3, sep in [(20, 0.5, 1.0), (57, 0.7, 0.8), (567, 399 / 567, 1.2), (101, 0.3, 0.0)]:
        y = (rng.random(n) < p_t3).astype(np.int64)
        y[0], y[1] = 0, 1  # both classes present
        s = 1 / (1 + np.exp(-(rng.normal(size=n) + sep * (2 * y - 1))))
        cases.append(case(f'random_n{n}_sep{sep}', y, s))
    # Tie-heavy: scores quantised to few levels (ties across classes), including exactly 0.5.
    for n, levels in [(30, 3), (80, 5), (200, 11)]:
        y = (rng.random(n) < 0.6).astype(np.int64)
        y[0], y[1] = 0, 1
        raw = rng.random(n) * 0.6 + 0.4 * y
        s = np.round(raw * (levels - 1)) / (levels - 1)
        cases.append(case(f'ties_n{n}_levels{levels}', y, s))
    # All scores equal: AUC 0.5, the ROC is a single diagonal step.
    cases.append(case('all_tied', [0, 1, 1, 0, 1, 0, 1], [0.5] * 7))
    # Perfect and perfectly inverted rankings.
    cases.append(case('perfect', [0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.9]))
    cases.append(case('inverted', [1, 1, 0, 0, 0], [0.1, 0.2, 0.3, 0.7, 0.9]))
    # Collinear runs so drop_intermediate actually drops points.
    cases.append(case('collinear', [1, 1, 1, 0, 0, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]))
    doc = {
        'generator': 'scripts/gen-sklearn-fixtures.py',
        'sklearn_version': sklearn.__version__,
        'numpy_version': np.__version__,
        'threshold_rule': 'predict T3 (1) when score >= 0.5',
        'cases': cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.normpath(OUT)} (sklearn {sklearn.__version__})')


if __name__ == '__main__':
    main()

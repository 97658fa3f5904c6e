#!/usr/bin/env python3
"""What learning from a first-round probe could save in the labeling oracle's protocol, at best, on a set's own
embeddings and clustering (offline; scikit-learn as the strongest simple learners, not the app's projection).

The probe: after naming, each named label's queue offers its B most central members (nearest their cluster's centroid,
in the clusters named after that label); the oracle confirms the right ones (1 decision per label) and rejects the
wrong ones (1 each). A learner fit on those answers (confirmed: positives; rejected: negatives are left out, the
learners here take labels only) predicts every other item; each item whose predicted label differs from its group's
and whose confidence is at least T is offered to the predicted label's group: a right offer saves its hand move, a
wrong one costs a reject, and each label with a right offer costs one confirm. Savings = right - wrong - confirms -
probe cost. Prints one JSON line per (learner, B, T).

Two bounds come first, one JSON line each:
- `protocol`: the session's cost with no queue at all (naming + a hand move per misplaced item + a batch per label;
  the oracle's `nolearn` figure where the queues offer nothing) against a perfect queue (every misplaced item of a
  named label offered to its group and nothing wrong: one confirm per such label; items of labels no cluster was
  named after still moved by hand). No app, learned or not, does better than `perfectRatio` in this protocol.
- `allLabels` (one line per learner: logistic regression, distance-weighted 10-NN on the unit rows): a learner given
  the true label of every other item (5-fold: each item predicted by a learner fit on the other 80%; far more than
  any session decides) offers each item predicted into another named group with
  confidence >= T; the best ratio over T of the resulting cost to the no-queue cost. Where even this stays above
  0.7, no metric learned from a session's decisions on these embeddings saves 30%.

usage: labeling-ceiling.py X.npy IDS.csv RUN.csv [TRUTH.json]   (RUN.csv: the run exported as CSV: path, cluster;
truth: each path's folder, or the JSON map)
       labeling-ceiling.py X.npy IDS.csv kmeans:K1,K2,... [TRUTH.json]   (instead of a run: scikit-learn k-means of the
unit rows for each k, 3 inits, and the `protocol` line's no-queue cost of each: how much the number of groups moves it)
"""
import csv, json, sys, collections
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

X = np.load(sys.argv[1]).astype(np.float64)
X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12
ids = list(csv.DictReader(open(sys.argv[2])))
path_of_row = [r['path'] for r in ids]
truth_map = json.load(open(sys.argv[4])) if len(sys.argv) > 4 else None
label = lambda p: truth_map[p] if truth_map else p.rsplit('/', 2)[-2]
if sys.argv[3].startswith('kmeans:'):
    from sklearn.cluster import KMeans
    yk = np.array([label(p) for p in path_of_row])
    for k in map(int, sys.argv[3][len('kmeans:'):].split(',')):
        ck = KMeans(k, n_init=3, random_state=0).fit_predict(X)
        maj = {g: collections.Counter(yk[ck == g].tolist()).most_common(1)[0][0] for g in set(ck.tolist())}
        mis = [i for i in range(len(yk)) if maj[ck[i]] != yk[i]]
        cost = len(maj) + len(mis) + len(set(yk[mis].tolist()))  # naming, hand moves, a batch per label
        print(json.dumps({'k': k, 'firstPass': round(1 - len(mis) / len(yk), 4), 'noQueue': cost, 'noQueuePerItem': round(cost / len(yk), 4)}))
    sys.exit(0)
run = {r['path']: int(r['cluster']) for r in csv.DictReader(open(sys.argv[3]))}
rows = [i for i, p in enumerate(path_of_row) if p in run]
X = X[rows]; paths = [path_of_row[i] for i in rows]
y = np.array([label(p) for p in paths]); c = np.array([run[p] for p in paths])
n = len(y)
# naming: each cluster after its majority (merged into the label's group when named already); noise: no group
group = np.array([None] * n, dtype=object)
for k in set(c.tolist()):
    if k < 0: continue
    m = c == k
    group[m] = collections.Counter(y[m].tolist()).most_common(1)[0][0]
wrong0 = int(sum(1 for i in range(n) if group[i] != y[i]))
labels = sorted(set(g for g in group if g is not None))
out = {'items': n, 'labels': len(set(y.tolist())), 'named': len(labels), 'clusters': len(set(c.tolist()) - {-1}), 'wrongAfterNaming': wrong0}
print(json.dumps(out))
# bounds: the protocol's own floor, and a learner that knows every other item's label
def cost_with(offers):
    """offers: {item: label offered}; right ones confirmed (one per label), wrong ones rejected (one each); the rest by hand"""
    fixed = set(); confirms = set(); wrong = 0
    for i, L in offers.items():
        if y[i] == L: fixed.add(i); confirms.add(L)
        else: wrong += 1
    hand = collections.Counter(y[i] for i in range(n) if group[i] != y[i] and i not in fixed)
    return named_cost + len(confirms) + wrong + sum(1 + v for v in hand.values())
named_cost = len(set(c.tolist()) - {-1})
base = cost_with({})
perfect = cost_with({i: y[i] for i in range(n) if group[i] != y[i] and y[i] in set(labels)})
print(json.dumps({'bound': 'protocol', 'noQueue': base, 'noQueuePerItem': round(base / n, 4), 'perfectQueue': perfect,
                  'perfectPerItem': round(perfect / n, 4), 'perfectRatio': round(perfect / base, 4)}))
from sklearn.model_selection import StratifiedKFold, KFold
from sklearn.neighbors import KNeighborsClassifier
counts = collections.Counter(y.tolist())
def cv_predict(make):
    folds = (StratifiedKFold(5, shuffle=True, random_state=0) if min(counts.values()) >= 5 else KFold(5, shuffle=True, random_state=0)).split(X, y)
    pred = np.array([None] * n, dtype=object); conf = np.zeros(n)
    for tr, te in folds:
        m = make().fit(X[tr], y[tr])
        P = m.predict_proba(X[te]); o = np.sort(P, 1)
        pred[te] = m.classes_[P.argmax(1)]; conf[te] = o[:, -1] - (o[:, -2] if P.shape[1] > 1 else 0)
    return pred, conf
for lname, make in (('logistic', lambda: LogisticRegression(C=10, max_iter=2000)),
                    ('10-NN (cosine)', lambda: KNeighborsClassifier(10, weights='distance'))):
    pred, conf = cv_predict(make)
    acc_all = float(np.mean(pred == y))
    best = None
    for T in (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
        offers = {i: pred[i] for i in range(n) if pred[i] != group[i] and pred[i] in set(labels) and conf[i] >= T}
        cst = cost_with(offers)
        row = {'T': T, 'offered': len(offers), 'right': sum(1 for i, L in offers.items() if y[i] == L), 'cost': cst, 'ratio': round(cst / base, 4)}
        if best is None or cst < best['cost']: best = row
    print(json.dumps({'bound': 'allLabels', 'learner': lname + ', 5-fold on true labels', 'accuracy': round(acc_all, 4),
                      'firstPass': round(float(np.mean(group == y)), 4), 'best': best}))
cent = {k: X[c == k].mean(0) for k in set(c.tolist()) if k >= 0}
central = np.array([float(X[i] @ cent[c[i]]) if c[i] >= 0 else -9 for i in range(n)])
for B in (3, 10, 25):
    probe_ok, probe_bad, cost = [], [], 0
    for L in labels:
        mem = [i for i in range(n) if group[i] == L]
        top = sorted(mem, key=lambda i: -central[i])[:B]
        ok = [i for i in top if y[i] == L]; bad = [i for i in top if y[i] != L]
        probe_ok += ok; probe_bad += bad
        cost += (1 if ok else 0) + len(bad)
    train = np.array(probe_ok)
    ytr = y[train]
    if len(set(ytr.tolist())) < 2: continue
    rest = np.array([i for i in range(n) if i not in set(probe_ok) | set(probe_bad)])
    learners = {}
    means = {L: X[train[ytr == L]].mean(0) for L in set(ytr.tolist())}
    ml = sorted(means); M = np.stack([means[L] / np.linalg.norm(means[L]) for L in ml])
    S = X[rest] @ M.T; o = np.sort(S, 1)
    learners['nearest-mean (model cosine)'] = (np.array(ml)[S.argmax(1)], o[:, -1] - o[:, -2] if S.shape[1] > 1 else o[:, -1])
    lr = LogisticRegression(C=10, max_iter=2000).fit(X[train], ytr)
    P = lr.predict_proba(X[rest]); o = np.sort(P, 1)
    learners['logistic'] = (lr.classes_[P.argmax(1)], o[:, -1] - o[:, -2] if P.shape[1] > 1 else o[:, -1])
    try:
        lda = LinearDiscriminantAnalysis(solver='lsqr', shrinkage='auto').fit(X[train], ytr)
        P = lda.predict_proba(X[rest]); o = np.sort(P, 1)
        learners['lda (shrinkage)'] = (lda.classes_[P.argmax(1)], o[:, -1] - o[:, -2] if P.shape[1] > 1 else o[:, -1])
    except Exception as e:
        pass
    for name, (pred, conf) in learners.items():
        acc = float(np.mean(pred == y[rest]))
        for T in (0.0, 0.1, 0.2, 0.3, 0.5):
            right = wrong = 0; groups = set()
            for j, i in enumerate(rest):
                if pred[j] == group[i] or conf[j] < T or pred[j] not in labels: continue
                if pred[j] == y[i]: right += 1; groups.add(pred[j])
                else: wrong += 1
            save = right - wrong - len(groups) - cost
            print(json.dumps({'learner': name, 'B': B, 'T': T, 'probeCost': cost, 'probeRight': len(probe_ok), 'probeWrong': len(probe_bad),
                              'accRest': round(acc, 4), 'offered': right + wrong, 'right': right, 'wrong': wrong, 'confirms': len(groups), 'saved': save}))

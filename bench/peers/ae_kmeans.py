#!/usr/bin/python3
"""The deep-clustering write-up's recipe in PyTorch: dense autoencoder d -> hidden... -> code (ReLU), mirrored decoder,
sigmoid output + binary cross-entropy when X is in [0, 1] (else linear output + MSE), Adam lr 1e-3, shuffled
mini-batches, Glorot-uniform weights and zero biases (the Keras defaults the write-up uses), then scikit-learn k-means
on the codes. One JSON line on stdout: fit_s (training + encoding + k-means, data loaded), train_s, kmeans_s, loss per
epoch, nmi/ami with labels.

usage: ae_kmeans.py X.npy K [y.npy] [--hidden 32] [--epochs 5] [--batch 256] [--seed 0] [--threads 2] [--n-init 1]
"""
import argparse, json, time, sys
import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score, adjusted_mutual_info_score

ap = argparse.ArgumentParser()
ap.add_argument('X'); ap.add_argument('k', type=int); ap.add_argument('y', nargs='?')
ap.add_argument('--hidden', default='32'); ap.add_argument('--epochs', type=int, default=5)
ap.add_argument('--batch', type=int, default=256); ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--threads', type=int, default=2); ap.add_argument('--n-init', type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed); np.random.seed(a.seed)
X = np.load(a.X).astype(np.float32)
n, d = X.shape
hidden = [int(h) for h in a.hidden.split('-')]
bce = bool(X.min() >= 0 and X.max() <= 1)
sizes = [d] + hidden
layers = []
for i in range(len(hidden)):
    layers += [torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.ReLU()]
enc = torch.nn.Sequential(*layers)
dl = []
for i in range(len(hidden), 0, -1):
    dl.append(torch.nn.Linear(sizes[i], sizes[i - 1]))
    if i > 1: dl.append(torch.nn.ReLU())
if bce: dl.append(torch.nn.Sigmoid())
dec = torch.nn.Sequential(*dl)
for m in list(enc) + list(dec):
    if isinstance(m, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight); torch.nn.init.zeros_(m.bias)
model = torch.nn.Sequential(enc, dec)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
lossf = torch.nn.BCELoss() if bce else torch.nn.MSELoss()
Xt = torch.from_numpy(X)
g = torch.Generator().manual_seed(a.seed)
t0 = time.perf_counter()
curve = []
for e in range(a.epochs):
    perm = torch.randperm(n, generator=g)
    s = 0.0
    for i in range(0, n, a.batch):
        xb = Xt[perm[i:i + a.batch]]
        opt.zero_grad()
        l = lossf(model(xb), xb)
        l.backward(); opt.step()
        s += l.item() * xb.shape[0]
    curve.append(s / n)
with torch.no_grad():
    Z = enc(Xt).numpy()
t1 = time.perf_counter()
km = KMeans(n_clusters=a.k, n_init=a.n_init, random_state=a.seed).fit(Z)
t2 = time.perf_counter()
out = {'peer': 'pytorch-ae+sklearn-kmeans', 'torch': torch.__version__, 'n': n, 'd': d, 'hidden': hidden, 'loss_kind': 'bce' if bce else 'mse',
       'epochs': a.epochs, 'batch': a.batch, 'threads': a.threads, 'n_init': a.n_init,
       'fit_s': t2 - t0, 'train_s': t1 - t0, 'kmeans_s': t2 - t1, 'loss': curve}
if a.y:
    y = np.load(a.y)
    out['nmi'] = float(normalized_mutual_info_score(y, km.labels_)); out['ami'] = float(adjusted_mutual_info_score(y, km.labels_))
print(json.dumps(out))

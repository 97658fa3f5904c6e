#!/usr/bin/python3
"""The deep-clustering write-up's recipe in PyTorch: dense autoencoder d -> hidden... -> code (ReLU), mirrored decoder,
sigmoid output + binary cross-entropy when X is in [0, 1] (else linear output + MSE), Adam lr 1e-3, shuffled
mini-batches, Glorot-uniform weights and zero biases (the Keras defaults the write-up uses), then scikit-learn k-means
on the codes. One JSON line on stdout: fit_s (training + encoding + k-means, data loaded), train_s, kmeans_s, loss per
epoch, nmi/ami with labels.

usage: ae_kmeans.py X.npy K [y.npy] [--hidden 32] [--epochs 5] [--batch 256] [--seed 0] [--threads 2] [--n-init 1]
                    [--recipe tutorial|literature] [--validation 0.1] [--schedule constant|cosine --planned N]
                    [--umap N] [--cluster kmeans|ward|gmm] [--metric euclidean|cosine] [--kmeans-term W --kmeans-from F]
                    [--noise P] [--umap-neighbors N]
--recipe literature (issue 32): DEC's / N2D's recipe, a linear code layer, linear output and MSE; --validation holds out
a seeded share of the rows (the loss reported per epoch is the training loss, as ours); --schedule cosine decays the lr
to 5 % over --planned epochs (ours: the epochs a default run plans); --umap N then umap-learn to N dims (n_neighbors 30,
min_dist 0, as ours) and --cluster the clustering on the codes (N2D: gmm). --metric cosine compares the codes by angle, as
ours does by default: UMAP with metric='cosine', k-means on L2-normalized codes (spherical k-means' assignment rule).
"""
# --noise P: a denoising autoencoder as ours (input dropout: each value zeroed with probability P, the rest scaled by
# 1 / (1 - P), the target the clean batch); --umap-neighbors N: the UMAP's neighbours (ours: 20 after an autoencoder).
# --kmeans-term W: ours' k-means-friendly term (what `--algo kmeans --reduce ae` trains), see the comment at the loop.
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
ap.add_argument('--recipe', default='tutorial'); ap.add_argument('--validation', type=float, default=0.0)
ap.add_argument('--schedule', default='constant'); ap.add_argument('--planned', type=int, default=0)
ap.add_argument('--umap', type=int, default=0); ap.add_argument('--cluster', default='kmeans')
ap.add_argument('--metric', default='euclidean')
ap.add_argument('--kmeans-term', type=float, default=0.0); ap.add_argument('--kmeans-from', type=float, default=0.5)
ap.add_argument('--noise', type=float, default=0.0); ap.add_argument('--umap-neighbors', type=int, default=30)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed); np.random.seed(a.seed)
X = np.load(a.X).astype(np.float32)
n, d = X.shape
hidden = [int(h) for h in a.hidden.split('-')]
lit = a.recipe == 'literature'
bce = bool(X.min() >= 0 and X.max() <= 1) and not lit
sizes = [d] + hidden
layers = []
for i in range(len(hidden)):
    layers += [torch.nn.Linear(sizes[i], sizes[i + 1])] + ([] if (lit and i == len(hidden) - 1) else [torch.nn.ReLU()])
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
idx = torch.randperm(n, generator=g) if a.validation > 0 else torch.arange(n)
ntr = n - int(n * a.validation)
tr = idx[:ntr]
steps = (ntr + a.batch - 1) // a.batch
planned = a.planned or a.epochs
u = 0
# ours' k-means-friendly term (algo/nn/autoencoder.ts): from --kmeans-from of the planned updates, weight x (the batch's
# k-means inertia around k centroids / its total variance) of the codes (L2-normalized with --metric cosine); centroids
# from k-means (10 starts) on all codes when it starts, then one Lloyd step an epoch
kt_from = int(a.kmeans_term > 0 and a.kmeans_from * planned * steps) if a.kmeans_term > 0 else None
C = None
def term_rows(Z):
    return Z / Z.norm(dim=1, keepdim=True).clamp_min(1e-12) if a.metric == 'cosine' else Z
for e in range(a.epochs):
    if kt_from is not None and u >= kt_from:
        with torch.no_grad():
            U = term_rows(enc(Xt))
            if C is None:
                lab = KMeans(n_clusters=a.k, n_init=10, random_state=a.seed).fit(U.numpy()).labels_
                lab = torch.from_numpy(lab).long()
            else:
                lab = torch.cdist(U, C).argmin(dim=1)
            Cn = torch.zeros(a.k, U.shape[1]) if C is None else C.clone()
            for c in range(a.k):
                if (lab == c).any(): Cn[c] = U[lab == c].mean(dim=0)
            C = Cn
    perm = tr[torch.randperm(ntr, generator=g)]
    s = 0.0
    for i in range(0, ntr, a.batch):
        if a.schedule == 'cosine':
            frac = u / max(1, planned * steps)
            for pg in opt.param_groups: pg['lr'] = 1e-3 * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        u += 1
        xb = Xt[perm[i:i + a.batch]]
        xin = torch.nn.functional.dropout(xb, p=a.noise, training=True) if a.noise > 0 else xb
        opt.zero_grad()
        if C is not None:
            z = enc(xin)
            l = lossf(dec(z), xb)
            U = term_rows(z)
            W = torch.cdist(U, C).pow(2).min(dim=1).values.sum()
            T = (U - U.mean(dim=0)).pow(2).sum()
            (l + a.kmeans_term * W / T).backward()
        else:
            l = lossf(model(xin), xb)
            l.backward()
        opt.step()
        s += l.item() * xb.shape[0]
    curve.append(s / ntr)
with torch.no_grad():
    Z = enc(Xt).numpy()
t1 = time.perf_counter()
if a.umap:
    import umap
    Z = umap.UMAP(n_components=a.umap, n_neighbors=a.umap_neighbors, min_dist=0.0, metric=a.metric, random_state=a.seed).fit_transform(Z)
elif a.metric == 'cosine':
    Z = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
tu = time.perf_counter()
if a.cluster == 'ward':
    from sklearn.cluster import AgglomerativeClustering
    labels = AgglomerativeClustering(n_clusters=a.k, linkage='ward').fit_predict(Z)
elif a.cluster == 'gmm':
    from sklearn.mixture import GaussianMixture
    labels = GaussianMixture(n_components=a.k, covariance_type='full', random_state=a.seed).fit(Z).predict(Z)
else:
    labels = KMeans(n_clusters=a.k, n_init=a.n_init, random_state=a.seed).fit(Z).labels_
t2 = time.perf_counter()
out = {'peer': 'pytorch-ae+sklearn-kmeans', 'torch': torch.__version__, 'n': n, 'd': d, 'hidden': hidden, 'loss_kind': 'bce' if bce else 'mse',
       'epochs': a.epochs, 'batch': a.batch, 'threads': a.threads, 'n_init': a.n_init,
       'recipe': a.recipe, 'kmeans_term': a.kmeans_term, 'noise': a.noise, 'umap_neighbors': a.umap_neighbors if a.umap else None, 'schedule': a.schedule, 'validation': a.validation, 'umap': a.umap, 'cluster': a.cluster, 'metric': a.metric, 'updates': u,
       'fit_s': t2 - t0, 'train_s': t1 - t0, 'umap_s': tu - t1, 'kmeans_s': t2 - tu, 'loss': curve}
if a.y:
    y = np.load(a.y)
    out['nmi'] = float(normalized_mutual_info_score(y, labels)); out['ami'] = float(adjusted_mutual_info_score(y, labels))
print(json.dumps(out))

/** The Dask distributed driver written into a job bundle (export-job) as DIR/run_dask.py. */
export const DASK_DRIVER = String.raw`#!/usr/bin/python3
"""Constellate job bundle driver for Dask distributed (Debian: python3-distributed).

Runs one task per partition [a, b) of items.parquet; each task runs the app's own headless embedder

    constellate embed-files --manifest DIR/items.parquet --rows a:b --out DIR/out/part-<a>-<b>.parquet --json

so decoding and preprocessing are exactly the app's. Retries and progress come from Dask. A part that already exists
is done (embed-files publishes it atomically), so a re-run only does what is missing. Then:

    constellate import-embeddings DIR/out --model NAME

usage: /usr/bin/python3 DIR/run_dask.py [--workers N] [--scheduler ADDRESS] [--retries N] [--constellate 'CMD ...']
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def part_name(a, b):
    return "part-%09d-%09d.parquet" % (a, b)


def whole_part(path):
    """Whether an existing part is a whole Parquet file (PAR1 at both ends, a footer that fits): a truncated one
    (a worker killed while a non-atomic copy landed it) is not done."""
    try:
        if not os.path.isfile(path):
            return False
        size = os.path.getsize(path)
        if size < 12:
            return False
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(size - 8)
            tail = f.read(8)
        meta = int.from_bytes(tail[:4], "little")
        return head == b"PAR1" and tail[4:] == b"PAR1" and meta + 12 <= size
    except OSError:
        return False


def embed_partition(here, command, a, b):
    """One partition: run embed-files; returns its JSON ({rows, out}); raises (so Dask retries) on failure."""
    out = os.path.join(here, "out", part_name(a, b))
    if whole_part(out):
        return {"rows": b - a, "range": [a, b], "out": out, "skipped": True}
    subs = {"{items}": os.path.join(here, "items.parquet"), "{a}": str(a), "{b}": str(b), "{out}": out}
    args = []
    for x in command:
        for k, v in subs.items():
            x = x.replace(k, v)
        args.append(x)
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        raise RuntimeError("embed-files [%d, %d) failed (exit %d): %s" % (a, b, r.returncode, (r.stderr or r.stdout).strip()[-2000:]))
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description="Run a Constellate job bundle on Dask distributed")
    ap.add_argument("--workers", type=int, default=2, help="local cluster: worker processes (default 2)")
    ap.add_argument("--threads-per-worker", type=int, default=1)
    ap.add_argument("--scheduler", default=None, help="address of a running Dask scheduler (default: a LocalCluster)")
    ap.add_argument("--retries", type=int, default=2, help="retries per partition (Dask's)")
    ap.add_argument("--constellate", default=None, help="the command that runs constellate on the workers (default: job.json's)")
    args = ap.parse_args()

    with open(os.path.join(HERE, "job.json")) as f:
        job = json.load(f)
    command = job["command"]
    if args.constellate:
        command = shlex.split(args.constellate) + command[command.index("embed-files"):]
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)

    from dask.distributed import Client, LocalCluster, as_completed

    t0 = time.time()
    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=args.threads_per_worker, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        parts = job["partitions"]
        futures = [client.submit(embed_partition, HERE, command, a, b, key="embed-files-%d-%d" % (a, b), pure=False,
                                 retries=args.retries) for a, b in parts]
        done = 0
        rows = 0
        for fut in as_completed(futures):
            r = fut.result()
            done += 1
            rows += r["range"][1] - r["range"][0]
            sys.stderr.write("partitions %d/%d, rows %d/%d\n" % (done, len(parts), rows, job["rows"]))
        workers = len(client.scheduler_info().get("workers", {}))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(json.dumps({"dir": HERE, "out": os.path.join(HERE, "out"), "partitions": len(job["partitions"]), "rows": job["rows"],
                      "workers": workers, "seconds": round(time.time() - t0, 3)}))


if __name__ == "__main__":
    main()
`;

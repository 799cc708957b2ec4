"""A user's script, timed: GridSearchCV over an MLPClassifier, run twice in one process.

    python grid_child.py {csoftmax,scikit-learn} N_JOBS DATA.npz [--max-iter 5]

``bench.grid`` runs it in a fresh process per row, as a user would run a script: the
first search pays for starting joblib's workers (n_jobs > 1), the second finds them
running. Prints one JSON line: the seconds of each search.
"""

import argparse
import json
import time

import numpy as np

GRID = {"alpha": [1e-4, 1e-3], "learning_rate_init": [1e-3, 2e-3]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=["csoftmax", "scikit-learn"])
    parser.add_argument("n_jobs", type=int)
    parser.add_argument("data", help=".npz file holding X and y")
    parser.add_argument("--max-iter", type=int, default=5)
    args = parser.parse_args()
    from sklearn.model_selection import GridSearchCV

    if args.library == "csoftmax":
        from csoftmax import MLPClassifier
    else:
        from sklearn.neural_network import MLPClassifier
    with np.load(args.data) as data:
        X, y = data["X"], data["y"]
    seconds = []
    for _ in range(2):
        search = GridSearchCV(MLPClassifier(max_iter=args.max_iter, random_state=0), GRID,
                              cv=3, n_jobs=args.n_jobs)
        t0 = time.perf_counter()
        search.fit(X, y)
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({"first": seconds[0], "second": seconds[1],
                      "best_score": search.best_score_}))


if __name__ == "__main__":
    main()

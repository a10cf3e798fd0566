"""A run's progress log: timestamped lines on stdout and appended to a file in the run's folder."""
import time
from pathlib import Path


def log(out: Path, msg: str, name: str = "train.log"):
    """Print a timestamped line and append it to <out>/<name>."""
    line = time.strftime("%H:%M:%S ") + msg
    print(line, flush=True)
    with open(Path(out) / name, "a") as f:
        f.write(line + "\n")

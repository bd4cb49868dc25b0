"""What the differential tests (json_diff.py, toml_diff.py) share: their
command line, building their C driver, and feeding it records
"<length>\\n<bytes>" on stdin, one line of output per record."""
import argparse
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")


def arguments():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    return ap.parse_args()


def build(name, cc):
    """Builds tests/<name>.c into build/<name>; returns its path."""
    os.makedirs(BUILD, exist_ok=True)
    exe = os.path.join(BUILD, name)
    subprocess.run([cc, "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", ROOT,
                    os.path.join(HERE, name + ".c"), "-o", exe, "-lm"], check=True)
    return exe


def run(exe, blobs):
    """The driver's output lines (bytes), one per blob."""
    with tempfile.TemporaryFile() as f:
        for b in blobs:
            f.write(b"%d\n" % len(b))
            f.write(b)
        f.seek(0)
        return subprocess.run([exe], stdin=f, stdout=subprocess.PIPE, check=True).stdout.split(b"\n")

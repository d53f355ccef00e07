#!/usr/bin/env python3
"""slowcat.py FILE CHUNK SECONDS [OUT]: copy FILE to OUT (default stdout) in
CHUNK-byte pieces, sleeping SECONDS between them (feeds a capture slowly).
Stops quietly when the reader goes away."""
import sys
import time

def main():
    path, chunk, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    out = open(sys.argv[4], "wb") if len(sys.argv) > 4 else sys.stdout.buffer
    try:
        with open(path, "rb") as f:
            while True:
                b = f.read(chunk)
                if not b:
                    break
                out.write(b)
                out.flush()
                time.sleep(pause)
        out.close()
    except BrokenPipeError:
        pass

if __name__ == "__main__":
    main()

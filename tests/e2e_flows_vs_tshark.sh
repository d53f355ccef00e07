#!/bin/sh
# segscope flows against tshark's per-conversation references over the
# whole shared corpus (see tests/compare_flows.py for the rules).
. "$(dirname "$0")/lib.sh"
need_shared
exec "$PYTHON" "$top_srcdir/tests/compare_flows.py" --shared "$SEGSCOPE_SHARED" --segscope "$SEGSCOPE"

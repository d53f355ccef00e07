#!/bin/sh
# segscope's application protocol per flow against nDPI 4.2's own
# ndpiReader results over the shared nDPI captures (see
# tests/compare_ndpi.py for the matching rules and the thresholds).
. "$(dirname "$0")/lib.sh"
need_shared
[ -d "$SEGSCOPE_SHARED/data/pcaps/ndpi/expected" ] ||
    skip_all "no nDPI expected outputs under $SEGSCOPE_SHARED/data/pcaps/ndpi"
exec "$PYTHON" "$top_srcdir/tests/compare_ndpi.py" --shared "$SEGSCOPE_SHARED" --segscope "$SEGSCOPE"

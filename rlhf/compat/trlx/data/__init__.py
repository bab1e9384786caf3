"""``trlx.data``: the config dataclasses and TRLX's default configs."""

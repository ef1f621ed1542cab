"""``python -m mindlens.training.transformer``: the old name of ``python -m mindlens.training``.

Kept because ``models/v1/release.json`` (and ``MODEL_CARD.md``, generated from it) records
the command that trained V1 under this name, and the README invites CPU users to rerun it.
"""

from mindlens.training.command import main

if __name__ == "__main__":
    raise SystemExit(main())

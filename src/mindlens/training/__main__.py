"""``python -m mindlens.training train|compact-backbone`` (see ``mindlens.training.command``)."""

from mindlens.training.command import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Regenerate the single initial revision from the models (allowed while nothing is deployed).

Usage: ``python -m core.migrations.regen``. A test checks that the revision matches the models.
"""

import tempfile
from pathlib import Path

from alembic import command

from core.migrations import HERE, alembic_config


def main() -> None:
    target = HERE / "versions" / "0001_initial.py"
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = alembic_config(f"sqlite:///{Path(tmp) / 'empty.sqlite'}")
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    generated = next((HERE / "versions").glob("0001_*.py"))
    generated.rename(target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()

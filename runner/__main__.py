"""``python -m runner`` is ``wf``."""

from runner.cli import main

main(prog_name="wf")

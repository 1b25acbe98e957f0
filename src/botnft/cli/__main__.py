"""`python -m botnft.cli`: the same as the `bot` command."""

from botnft.cli import main

main()
